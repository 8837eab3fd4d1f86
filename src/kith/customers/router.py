from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from kith.access import Actor
from kith.activities.timeline import timeline
from kith.core.types import RecordId, RefId
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


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[RefId] = Field(..., min_length=1, max_length=1000)
    action: Literal["tag", "untag", "transfer", "delete"]
    tags: list[str] | None = Field(None, max_length=50)
    owner_id: RefId | None = None


class BulkOut(BaseModel):
    changed: list[int]
    skipped: list[int] = Field(description="ids that do not exist or that the caller may not change (indistinguishable)")


class CustomerResource(Resource):
    path = "customers"
    module = "customer"
    collaborators = "customer"
    timeline_key = "customer_id"
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
            "in_pool": obj.pool_entered_at is not None, "pool_entered_at": obj.pool_entered_at,
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

        @router.post("/bulk", response_model=BulkOut, summary="Bulk tag / untag / transfer / delete; ids the caller may not change are skipped",
                     operation_id="bulk_customers")
        def bulk(body: BulkIn, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
            from sqlalchemy import select

            from kith.access import check_write, require, writable
            from kith.auth.models import User
            from kith.core.errors import FieldError, validation
            from kith.tags.models import Tagging
            from kith.tags.service import resolve

            action_right = {"tag": "update", "untag": "update", "transfer": "transfer", "delete": "delete"}[body.action]
            require(actor, "customer", action_right)
            ids = list(dict.fromkeys(body.ids))
            rows = list(session.scalars(select(Customer).where(Customer.id.in_(ids), Customer.deleted_at.is_(None),
                                                               writable(actor, Customer, "customer"))))
            changed = [c.id for c in rows]
            if body.action in ("tag", "untag"):
                if not body.tags:
                    raise validation(FieldError("tags", "required"))
                tags = resolve(session, actor, body.tags)
                for c in rows:
                    present = {t.tag_id for t in session.scalars(select(Tagging).where(Tagging.entity_type == "customer", Tagging.entity_id == c.id))}
                    for tag in tags:
                        if body.action == "tag" and tag.id not in present:
                            session.add(Tagging(tag_id=tag.id, entity_type="customer", entity_id=c.id))
                        elif body.action == "untag" and tag.id in present:
                            session.execute(Tagging.__table__.delete().where(Tagging.entity_type == "customer", Tagging.entity_id == c.id,
                                                                             Tagging.tag_id == tag.id))
            elif body.action == "transfer":
                new_owner = session.get(User, body.owner_id) if body.owner_id else None
                if new_owner is None or not new_owner.is_active:
                    raise validation(FieldError("owner_id", "invalid_reference"))
                for c in rows:
                    service.transfer(session, actor, c, new_owner)
            else:
                for c in rows:
                    res.delete(session, actor, c)
            session.flush()
            _ = check_write
            session.commit()
            return JSONResponse({"changed": changed, "skipped": [i for i in ids if i not in set(changed)]})


customers = CustomerResource()
router = customers.router()
