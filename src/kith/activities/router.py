from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.access import Actor, readable
from kith.activities.events import emit
from kith.activities.models import Followup
from kith.contacts.models import Contact
from kith.core import clock
from kith.core.errors import FieldError, validation
from kith.core.listing import F, ListSpec
from kith.core.ownership import copy_owner
from kith.core.resource import Resource, names_by_id
from kith.core.types import AwareDatetime, RequiredLongText, RefId
from kith.customers.models import Customer
from kith.customers.schemas import UserRef
from kith.customers.service import visible_customer
from kith.opportunities.models import Opportunity

FollowupType = Literal["call", "visit", "email", "wechat", "meeting", "note"]
FU = Followup


class FollowupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: RefId
    type: FollowupType
    content: RequiredLongText
    occurred_at: AwareDatetime | None = None
    contact_id: RefId | None = None
    opportunity_id: RefId | None = None
    next_followup_at: AwareDatetime | None = None


class FollowupUpdate(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: FollowupType | None = None
    content: RequiredLongText | None = None
    occurred_at: AwareDatetime | None = None
    next_followup_at: AwareDatetime | None = None
    version: int | None = None


class FollowupOut(BaseModel):
    id: int
    customer_id: RefId
    customer_name: str | None = None
    contact_id: RefId | None = None
    contact_name: str | None = None
    opportunity_id: RefId | None = None
    type: str
    content: str
    occurred_at: datetime
    next_followup_at: datetime | None = None
    owner: UserRef | None = None
    created_by: UserRef | None = None
    version: int
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None


class FollowupResource(Resource):
    path = "followups"
    module = "followup"
    model = Followup
    create_schema = FollowupCreate
    update_schema = FollowupUpdate
    out_schema = FollowupOut
    list_spec = ListSpec(
        model=FU, module="followup", default_sort="-occurred_at",
        fields={"customer_id": F(FU.customer_id, "int", nullable=False), "contact_id": F(FU.contact_id, "int"),
                "opportunity_id": F(FU.opportunity_id, "int"), "type": F(FU.type, nullable=False),
                "occurred_at": F(FU.occurred_at, "datetime", nullable=False), "owner_id": F(FU.owner_id, "int", nullable=False),
                "created_by_id": F(FU.created_by_id, "int"), "created_at": F(FU.created_at, "datetime", nullable=False)},
    )

    def context(self, session, actor, objs):
        ctx = super().context(session, actor, objs)
        cids = {o.customer_id for o in objs}
        ctx["customers"] = names_by_id(session, Customer.id, Customer.name, cids)
        kids = {o.contact_id for o in objs if o.contact_id}
        ctx["contacts"] = names_by_id(session, Contact.id, Contact.name, kids)
        from kith.auth.models import User

        uids = {o.created_by_id for o in objs if o.created_by_id}
        ctx["creators"] = names_by_id(session, User.id, User.display_name, uids)
        return ctx

    def to_dict(self, session: Session, actor: Actor, obj: Followup, ctx: dict[str, Any]) -> dict[str, Any]:
        return {"id": obj.id, "customer_id": obj.customer_id, "customer_name": ctx["customers"].get(obj.customer_id),
                "contact_id": obj.contact_id, "contact_name": ctx["contacts"].get(obj.contact_id), "opportunity_id": obj.opportunity_id,
                "type": obj.type, "content": obj.content, "occurred_at": obj.occurred_at, "next_followup_at": obj.next_followup_at,
                "created_by": {"id": obj.created_by_id, "display_name": ctx["creators"].get(obj.created_by_id)} if obj.created_by_id else None}

    def create(self, session, actor, data, custom, request):
        customer = visible_customer(session, actor, data.pop("customer_id"))
        if data.get("contact_id") is not None:
            ok = session.scalar(select(Contact.id).where(Contact.id == data["contact_id"], Contact.customer_id == customer.id,
                                                         Contact.deleted_at.is_(None)))
            if not ok:
                raise validation(FieldError("contact_id", "invalid_reference"))
        if data.get("opportunity_id") is not None:
            ok = session.scalar(select(Opportunity.id).where(Opportunity.id == data["opportunity_id"], Opportunity.customer_id == customer.id,
                                                             Opportunity.deleted_at.is_(None), readable(actor, Opportunity, "opportunity")))
            if not ok:
                raise validation(FieldError("opportunity_id", "invalid_reference"))
        now = clock.now()
        followup = Followup(**data)
        followup.customer_id = customer.id
        followup.occurred_at = data.get("occurred_at") or now
        followup.created_by_id = actor.user_id
        copy_owner(followup, customer)
        session.add(followup)
        session.flush()
        # The customer's last and next follow-up times follow the newest follow-up.
        if customer.last_followup_at is None or followup.occurred_at >= customer.last_followup_at:
            customer.last_followup_at = followup.occurred_at
            if followup.next_followup_at is not None:
                customer.next_followup_at = followup.next_followup_at
        emit(session, actor, type=f"followup.{followup.type}", entity_type="followup", entity_id=followup.id, customer_id=customer.id,
             contact_id=followup.contact_id, opportunity_id=followup.opportunity_id,
             summary=followup.content[:200], data={"type": followup.type, "content": followup.content[:2000],
                                                    "contact_id": followup.contact_id, "next_followup_at": followup.next_followup_at})
        return followup


followups = FollowupResource()
router = followups.router()
