"""Tasks (待办): assigned to a user (the owner), optionally about a customer or deal; done and undone."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.access import Actor, readable
from kith.activities.events import emit
from kith.core import clock
from kith.core.errors import FieldError, validation
from kith.core.listing import F, ListSpec
from kith.core.ownership import resolve_owner, set_owner
from kith.core.resource import Resource
from kith.core.types import AwareDatetime, LongText, Name, RefId
from kith.customers.models import Customer
from kith.customers.schemas import UserRef
from kith.opportunities.models import Opportunity
from kith.tasks.models import Task

T = Task


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Name
    description: LongText = None
    due_at: AwareDatetime | None = None
    remind_minutes_before: int | None = Field(None, ge=0, le=60 * 24 * 30)
    customer_id: RefId | None = None
    opportunity_id: RefId | None = None
    owner_id: RefId | None = Field(None, description="the assignee; another user needs the transfer right")


class TaskUpdate(BaseModel):
    model_config = ConfigDict(extra="allow")
    title: Name | None = None
    description: LongText = None
    due_at: AwareDatetime | None = None
    remind_minutes_before: int | None = Field(None, ge=0, le=60 * 24 * 30)
    done: bool | None = Field(None, description="true marks the task done, false reopens it")
    version: int | None = None


class TaskOut(BaseModel):
    id: int
    title: str
    description: str | None = None
    due_at: datetime | None = None
    remind_minutes_before: int | None = None
    customer_id: int | None = None
    customer_name: str | None = None
    opportunity_id: int | None = None
    done: bool
    done_at: datetime | None = None
    overdue: bool
    owner_id: int
    owner: UserRef | None = None
    version: int
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None


class TaskResource(Resource):
    path = "tasks"
    module = "task"
    model = Task
    create_schema = TaskCreate
    update_schema = TaskUpdate
    out_schema = TaskOut
    list_spec = ListSpec(
        model=T, module="task", default_sort="due_at",
        fields={"owner_id": F(T.owner_id, "int", nullable=False), "customer_id": F(T.customer_id, "int"),
                "opportunity_id": F(T.opportunity_id, "int"), "due_at": F(T.due_at, "datetime"),
                "done_at": F(T.done_at, "datetime"), "created_at": F(T.created_at, "datetime", nullable=False),
                "title": F(T.title, nullable=False)},
        extra_filters={"done": lambda session, raw: T.done_at.is_not(None) if raw == "true" else T.done_at.is_(None),
                       "overdue": lambda session, raw: (T.done_at.is_(None) & (T.due_at < clock.now())) if raw == "true"
                       else ~(T.done_at.is_(None) & (T.due_at < clock.now()))},
    )

    def context(self, session, actor, objs):
        ctx = super().context(session, actor, objs)
        ids = {o.customer_id for o in objs if o.customer_id}
        # the customer's name only when the caller may read the customer (a task assigned across departments
        # keeps its customer_id, not a name the assignee could not look up)
        ctx["customers"] = dict(session.execute(select(Customer.id, Customer.name).where(
            Customer.id.in_(sorted(ids)), readable(actor, Customer, "customer"))).all()) if ids else {}
        return ctx

    def to_dict(self, session: Session, actor: Actor, obj: Task, ctx: dict[str, Any]) -> dict[str, Any]:
        now = clock.now()
        return {"id": obj.id, "title": obj.title, "description": obj.description, "due_at": obj.due_at,
                "remind_minutes_before": obj.remind_minutes_before, "customer_id": obj.customer_id,
                "customer_name": ctx["customers"].get(obj.customer_id), "opportunity_id": obj.opportunity_id,
                "done": obj.done_at is not None, "done_at": obj.done_at,
                "overdue": obj.done_at is None and obj.due_at is not None and obj.due_at < now, "owner_id": obj.owner_id}

    def _related(self, session: Session, actor: Actor, customer_id: int | None, opportunity_id: int | None) -> None:
        if customer_id is not None and not session.scalar(select(Customer.id).where(
                Customer.id == customer_id, Customer.deleted_at.is_(None), readable(actor, Customer, "customer"))):
            raise validation(FieldError("customer_id", "invalid_reference"))
        if opportunity_id is not None:
            opp = session.scalar(select(Opportunity).where(Opportunity.id == opportunity_id, Opportunity.deleted_at.is_(None),
                                                           readable(actor, Opportunity, "opportunity")))
            if opp is None or (customer_id is not None and opp.customer_id != customer_id):
                raise validation(FieldError("opportunity_id", "invalid_reference"))

    def create(self, session, actor, data, custom, request):
        owner = resolve_owner(session, actor, "task", data.pop("owner_id", None))
        if data.get("opportunity_id") and not data.get("customer_id"):
            opp = session.get(Opportunity, data["opportunity_id"])
            data["customer_id"] = opp.customer_id if opp else None
        self._related(session, actor, data.get("customer_id"), data.get("opportunity_id"))
        task = Task(**data)
        task.created_by_id = actor.user_id
        set_owner(session, task, owner)
        session.add(task)
        session.flush()
        if task.customer_id:
            emit(session, actor, type="task.created", entity_type="task", entity_id=task.id, customer_id=task.customer_id,
                 opportunity_id=task.opportunity_id,
                 summary=task.title, data={"title": task.title, "due_at": task.due_at, "assignee_id": task.owner_id})
        return task

    def update(self, session, actor, obj, data, custom):
        done = data.pop("done", None)
        super().update(session, actor, obj, data, custom)
        if done is True and obj.done_at is None:
            obj.done_at, obj.done_by_id = clock.now(), actor.user_id
            if obj.customer_id:
                emit(session, actor, type="task.done", entity_type="task", entity_id=obj.id, customer_id=obj.customer_id,
                     opportunity_id=obj.opportunity_id,
                     summary=obj.title, data={"title": obj.title})
        elif done is False and obj.done_at is not None:
            obj.done_at, obj.done_by_id = None, None
        return obj


tasks = TaskResource()
router = tasks.router()
