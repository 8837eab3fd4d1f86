from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from kith.access import Actor
from kith.activities.timeline import timeline
from kith.core.deps import current_actor, get_session
from kith.core.listing import F, ListSpec
from kith.core.normalize import display_phone
from kith.core.resource import Resource
from kith.core.types import AwareDatetime
from kith.customers import service
from kith.customers.models import Customer
from kith.customers.schemas import CustomerCreate, CustomerOut, CustomerUpdate
from kith.tags.service import tag_filter

C = Customer


class CustomerResource(Resource):
    path = "customers"
    module = "customer"
    collaborators = "customer"
    model = Customer
    create_schema = CustomerCreate
    update_schema = CustomerUpdate
    out_schema = CustomerOut
    custom_entity = "customer"
    tag_entity = "customer"
    tag = "customers"
    list_spec = ListSpec(
        model=C,
        module="customer",
        searchable=True,
        custom_entity="customer",
        fields={
            "name": F(C.name, nullable=False),
            "industry": F(C.industry),
            "source": F(C.source),
            "level": F(C.level),
            "status": F(C.status, nullable=False),
            "province": F(C.province),
            "city": F(C.city),
            "district": F(C.district),
            "phone": F(C.phone),
            "email": F(C.email),
            "owner_id": F(C.owner_id, "int", nullable=False),
            "department_id": F(C.department_id, "int"),
            "last_followup_at": F(C.last_followup_at, "datetime"),
            "next_followup_at": F(C.next_followup_at, "datetime"),
            "created_at": F(C.created_at, "datetime", nullable=False),
            "updated_at": F(C.updated_at, "datetime", nullable=False),
        },
        extra_filters={"tag": tag_filter("customer", C)},
    )

    def to_dict(self, session: Session, actor: Actor, obj: Customer, ctx: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": obj.id, "name": obj.name, "industry": obj.industry, "source": obj.source, "level": obj.level,
            "status": obj.status, "province": obj.province, "city": obj.city, "district": obj.district,
            "address": obj.address, "phone": obj.phone, "phone_display": display_phone(obj.phone), "email": obj.email,
            "website": obj.website, "description": obj.description, "last_followup_at": obj.last_followup_at,
            "next_followup_at": obj.next_followup_at, "owner_id": obj.owner_id, "department_id": obj.department_id,
        }

    def create(self, session, actor, data, custom, request):
        force = request.query_params.get("force", "false").lower() == "true"
        return service.create_customer(session, actor, data, custom, force=force)

    def update(self, session, actor, obj, data, custom):
        tags = data.pop("tags", None)
        super().update(session, actor, obj, data, custom)
        if tags is not None:
            from kith.tags.service import set_tags

            set_tags(session, actor, "customer", obj.id, tags)
        return obj

    def after_update(self, session, actor, obj, before):
        service.after_update(session, actor, obj, before)

    def extra_routes(self, router: APIRouter) -> None:
        res = self

        @router.get("/{record_id}/timeline", summary="The customer's timeline (客户动态), newest first", operation_id="customer_timeline")
        def customer_timeline(
            record_id: int,
            limit: int = Query(20, ge=1, le=200),
            cursor: str | None = Query(None, max_length=200),
            type: str | None = Query(None, max_length=200, description="event type or prefix, e.g. followup, customer.created"),
            since: AwareDatetime | None = Query(None),
            until: AwareDatetime | None = Query(None),
            actor: Actor = Depends(current_actor),
            session: Session = Depends(get_session),
        ) -> Any:
            res.get_visible(session, actor, record_id, deleted=None)
            return JSONResponse(timeline(session, actor, record_id, limit=limit, cursor=cursor, type_prefix=type, since=since, until=until))


customers = CustomerResource()
router = customers.router()
