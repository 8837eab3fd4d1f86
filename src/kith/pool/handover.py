"""离职交接: hand a user's customers (with contacts and follow-ups), open deals, contracts and open tasks to another
user in one step. Needs customer.transfer, and each included kind its module's transfer right; only records the caller
may change (their write scope) move."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kith.access.gate import can, writable
from kith.activities.events import emit
from kith.auth.models import User
from kith.core.errors import FieldError, KithError, validation
from kith.core.ownership import set_owner

INCLUDE = ("customers", "opportunities", "contracts", "tasks")
MODULE = {"customers": "customer", "opportunities": "opportunity", "contracts": "contract", "tasks": "task"}


def allowed_kinds(actor: Any) -> list[str]:
    """What the caller may hand over: each kind needs its own module's transfer right (sales managers, for one,
    may not re-own contracts)."""
    return [k for k in INCLUDE if can(actor, MODULE[k], "transfer")]


def _queries(actor: Any, from_id: int, customer_ids: list[int] | None) -> dict[str, Any]:
    from kith.contracts.models import Contract
    from kith.customers.models import Customer
    from kith.opportunities.models import Opportunity
    from kith.tasks.models import Task

    def scoped(model: Any, module: str, *extra: Any) -> Any:
        stmt = select(model).where(model.owner_id == from_id, model.deleted_at.is_(None), writable(actor, model, module), *extra)
        if customer_ids is not None:
            stmt = stmt.where((model.id if model is Customer else model.customer_id).in_(customer_ids))
        return stmt

    return {
        # pooled customers have no owner any more: they stay in the pool
        "customers": scoped(Customer, "customer", Customer.pool_entered_at.is_(None)),
        # closed deals keep their owner (who won or lost them); open ones move
        "opportunities": scoped(Opportunity, "opportunity", Opportunity.status == "open"),
        "contracts": scoped(Contract, "contract"),
        "tasks": scoped(Task, "task", Task.done_at.is_(None)),
    }


def handover(session: Session, actor: Any, *, from_user_id: int, to_user_id: int, include: list[str],
             customer_ids: list[int] | None, dry_run: bool) -> dict[str, Any]:
    from kith.customers.service import transfer

    if not can(actor, "customer", "transfer"):
        raise KithError(403, "forbidden")
    refused = [k for k in include if k not in allowed_kinds(actor)]
    if refused:  # named, so the caller can leave them out (an administrator hands those over)
        raise KithError(403, "forbidden", {"field": "include", "kinds": refused}, fields=[FieldError("include", "transfer_not_allowed", {"kinds": ", ".join(refused)})])
    from_user = session.get(User, from_user_id)
    to_user = session.get(User, to_user_id)
    errors = []
    if from_user is None:
        errors.append(FieldError("from_user_id", "invalid_reference"))
    if to_user is None or not to_user.is_active:
        errors.append(FieldError("to_user_id", "invalid_reference"))
    elif from_user_id == to_user_id:
        errors.append(FieldError("to_user_id", "handover_same_user"))
    if errors:
        raise validation(*errors)
    assert from_user is not None and to_user is not None
    queries = _queries(actor, from_user_id, customer_ids)
    counts: dict[str, int] = {}
    for name in include:
        stmt = queries[name]
        counts[name] = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    if dry_run:
        return {"dry_run": True, "from_user_id": from_user_id, "to_user_id": to_user_id, "counts": counts}

    moved = {name: 0 for name in include}
    change = {"owner": [from_user.display_name, to_user.display_name]}
    for name, etype in (("opportunities", "opportunity"), ("contracts", "contract"), ("tasks", "task")):
        if name not in include:
            continue
        for obj in list(session.scalars(queries[name].order_by("id"))):
            set_owner(session, obj, to_user)
            moved[name] += 1
            if obj.customer_id:
                emit(session, actor, type=f"{etype}.transferred", entity_type=etype, entity_id=obj.id, customer_id=obj.customer_id,
                     summary=getattr(obj, "name", None) or getattr(obj, "title", ""), data={"changes": change, "handover": True})
        session.flush()
    if "customers" in include:
        for customer in list(session.scalars(queries["customers"].order_by("id"))):
            transfer(session, actor, customer, to_user)  # contacts and follow-ups go along (deals moved above when included)
            moved["customers"] += 1
        session.flush()
    from kith.notifications.service import notify

    notify(session, [to_user.id], "handover_received", {"from": from_user.display_name, "customers": moved.get("customers", 0)},
           link="/customers")
    from kith.core import clock
    from kith.pool.models import Handover

    record = Handover(from_user_id=from_user_id, to_user_id=to_user_id, actor_id=actor.user_id, include=list(include),
                      customer_ids=customer_ids, counts=moved, created_at=clock.now())
    session.add(record)
    session.flush()
    return handover_out(record)


def handover_out(h: Any) -> dict[str, Any]:
    from kith.core.resource import jsonable

    return {"id": h.id, "dry_run": False, "from_user_id": h.from_user_id, "to_user_id": h.to_user_id, "actor_id": h.actor_id,
            "include": h.include, "customer_ids": h.customer_ids, "counts": h.counts, "created_at": jsonable(h.created_at)}
