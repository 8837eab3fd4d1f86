"""The public pool (公海): list, release, claim, assign; pool rules (administrators); handovers (离职交接)."""

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kith.access import Actor, require, strip, writable
from kith.access.gate import can, check_filter, pool_readable
from kith.auth.models import Department, User
from kith.core.deps import current_actor, get_session
from kith.core.errors import FieldError, KithError, not_found, validation
from kith.core.resource import jsonable
from kith.core.types import Name, RecordId, RefId, Text500
from kith.customers.models import Customer
from kith.pool import service
from kith.pool.handover import INCLUDE, allowed_kinds, handover
from kith.pool.models import DEFAULT_MASKED, DEFAULT_VISIBLE, POOL_FIELDS, PoolRule

router = APIRouter(tags=["pool"])

PoolField = Literal["name", "industry", "source", "level", "status", "province", "city", "district", "address", "phone", "email",
                    "website", "description", "last_followup_at", "created_at"]
assert set(POOL_FIELDS) == set(PoolField.__args__)  # type: ignore[attr-defined]


class PoolRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    department_id: RefId | None = Field(None, description="the pool of this department subtree; null: the company pool")
    levels: list[Literal["A", "B", "C", "D"]] = Field(default_factory=list, description="customer levels covered; empty: all")
    no_followup_days: int | None = Field(None, ge=1, le=3650, description="return after this many days without a follow-up")
    no_won_days: int | None = Field(None, ge=1, le=3650, description="return after this many days without a won deal")
    warn_days_before: int = Field(3, ge=0, le=365)
    claim_cap: int | None = Field(None, ge=0, le=1_000_000, description="a user may claim while owning fewer customers than this")
    cooldown_days: int = Field(0, ge=0, le=3650, description="days before a user may re-claim a customer they released")
    visible_fields: list[PoolField] = Field(default_factory=lambda: list(DEFAULT_VISIBLE))
    masked_fields: list[PoolField] = Field(default_factory=lambda: list(DEFAULT_MASKED), description="shown masked until claimed")
    active: bool = True


class PoolRuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    department_id: RefId | None = None
    levels: list[Literal["A", "B", "C", "D"]] | None = None
    no_followup_days: int | None = Field(None, ge=1, le=3650)
    no_won_days: int | None = Field(None, ge=1, le=3650)
    warn_days_before: int | None = Field(None, ge=0, le=365)
    claim_cap: int | None = Field(None, ge=0, le=1_000_000)
    cooldown_days: int | None = Field(None, ge=0, le=3650)
    visible_fields: list[PoolField] | None = None
    masked_fields: list[PoolField] | None = None
    active: bool | None = None


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text500 = Field(None, description="required")


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    owner_id: RefId


class HandoverIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_user_id: RefId
    to_user_id: RefId
    include: list[Literal["customers", "opportunities", "contracts", "tasks"]] = Field(default_factory=lambda: list(INCLUDE), min_length=1)
    customer_ids: list[RefId] | None = Field(None, max_length=10000, description="only these customers (and their records)")
    dry_run: bool = Field(False, description="count what would move, change nothing")


def _rule_out(rule: PoolRule) -> dict[str, Any]:
    return {"id": rule.id, "name": rule.name, "department_id": rule.department_id, "levels": rule.levels or [],
            "no_followup_days": rule.no_followup_days, "no_won_days": rule.no_won_days, "warn_days_before": rule.warn_days_before,
            "claim_cap": rule.claim_cap, "cooldown_days": rule.cooldown_days, "visible_fields": rule.visible_fields or [],
            "masked_fields": rule.masked_fields or [], "active": rule.active, "version": rule.version,
            "created_at": jsonable(rule.created_at), "updated_at": jsonable(rule.updated_at)}


def _check_department(session: Session, dept_id: int | None) -> None:
    if dept_id is not None and session.get(Department, dept_id) is None:
        raise validation(FieldError("department_id", "invalid_reference"))


# ---- the pool ---------------------------------------------------------------------------------------

@router.get("/pool", summary="Customers in the pools I may see; fields per pool rule, masked until claimed")
def list_pool(
    q: str | None = Query(None, max_length=100, description="name contains"),
    level: Literal["A", "B", "C", "D"] | None = Query(None),
    limit: int = Query(50, ge=1, le=200),
    cursor: str | None = Query(None, max_length=20, pattern=r"^\d+$"),
    actor: Actor = Depends(current_actor),
    session: Session = Depends(get_session),
) -> Any:
    require(actor, "pool", "read")
    cond = [Customer.deleted_at.is_(None), pool_readable(actor, Customer)]
    unmasked = can(actor, "pool", "manage")
    # a search or filter reaches only what the caller sees in clear (field rights, then the rule's masks)
    for field, value, match in (("name", q, lambda v: Customer.name.contains(v.strip(), autoescape=True)),
                                ("level", level, lambda v: Customer.level == v)):
        if value:
            check_filter(actor, "customer", field)
            cond.append(match(value))
            if not unmasked:
                cond.append(service.in_clear(session, field))
    total = session.scalar(select(func.count()).select_from(Customer).where(*cond)) or 0
    stmt = select(Customer).where(*cond)
    if cursor:
        stmt = stmt.where(Customer.id < int(cursor))
    rows = list(session.scalars(stmt.order_by(Customer.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    rule_ids = {c.pool_rule_id for c in rows if c.pool_rule_id}
    rules = {r.id: r for r in session.scalars(select(PoolRule).where(PoolRule.id.in_(rule_ids)))} if rule_ids else {}
    items = [strip(actor, "customer", service.pool_item(c, rules.get(c.pool_rule_id or 0), unmasked=unmasked)) for c in rows]
    return JSONResponse({"items": items, "total": total, "next_cursor": str(rows[-1].id) if more and rows else None})


def _pooled(session: Session, actor: Actor, customer_id: int) -> Customer:
    customer = session.scalar(select(Customer).where(Customer.id == customer_id, Customer.deleted_at.is_(None),
                                                     pool_readable(actor, Customer)))
    if customer is None:
        raise not_found()
    return customer


@router.post("/customers/{record_id}/release", summary="Release a customer to the pool (公海) with a reason")
def release_customer(record_id: RecordId, body: ReleaseIn, actor: Actor = Depends(current_actor),
                     session: Session = Depends(get_session)) -> Any:
    from kith.access import readable

    customer = session.scalar(select(Customer).where(Customer.id == record_id, Customer.deleted_at.is_(None),
                                                     readable(actor, Customer, "customer")))
    if customer is None:
        raise not_found()
    require(actor, "pool", "release")
    if customer.pool_entered_at is not None:
        raise KithError(409, "pool_already_in_pool")
    if not session.scalar(select(Customer.id).where(Customer.id == customer.id, writable(actor, Customer, "customer"))):
        raise KithError(403, "forbidden")
    if not (body.reason or "").strip():
        raise validation(FieldError("reason", "required"))
    service.release(session, actor, customer, body.reason.strip())  # type: ignore[union-attr]
    session.flush()
    out = {"id": customer.id, "in_pool": True, "pool_entered_at": jsonable(customer.pool_entered_at), "pool_reason": customer.pool_reason}
    session.commit()
    return JSONResponse(out)


@router.post("/pool/{record_id}/claim", summary="Claim a customer from the pool (cap on owned customers; cool-down after releasing)")
def claim_customer(record_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    require(actor, "pool", "claim")
    customer = _pooled(session, actor, record_id)
    service.claim(session, actor, customer)
    session.flush()
    out = {"id": customer.id, "in_pool": False, "owner_id": customer.owner_id}
    session.commit()
    return JSONResponse(out)


@router.post("/pool/{record_id}/assign", summary="Assign a pooled customer to a user (managers)")
def assign_customer(record_id: RecordId, body: AssignIn, actor: Actor = Depends(current_actor),
                    session: Session = Depends(get_session)) -> Any:
    require(actor, "pool", "assign")
    customer = _pooled(session, actor, record_id)
    user = session.get(User, body.owner_id)
    if user is None or not user.is_active:
        raise validation(FieldError("owner_id", "invalid_reference"))
    service.claim(session, actor, customer, assign_to=user)
    session.flush()
    out = {"id": customer.id, "in_pool": False, "owner_id": customer.owner_id}
    session.commit()
    return JSONResponse(out)


# ---- pool rules -------------------------------------------------------------------------------------

@router.get("/pool-rules", summary="Pool rules")
def list_rules(actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    require(actor, "pool", "read")
    items = [_rule_out(r) for r in session.scalars(select(PoolRule).order_by(PoolRule.id))]
    return JSONResponse({"items": items, "total": len(items)})


@router.post("/pool-rules", status_code=201, summary="Create a pool rule (administrators)")
def create_rule(body: PoolRuleIn, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    require(actor, "pool", "manage")
    _check_department(session, body.department_id)
    rule = PoolRule(**body.model_dump())
    session.add(rule)
    session.flush()
    out = _rule_out(rule)
    session.commit()
    return JSONResponse(out, status_code=201, headers={"Location": f"/api/v1/pool-rules/{rule.id}"})


def _get_rule(session: Session, rule_id: int) -> PoolRule:
    rule = session.get(PoolRule, rule_id)
    if rule is None:
        raise not_found()
    return rule


@router.get("/pool-rules/{record_id}", summary="One pool rule")
def get_rule(record_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    require(actor, "pool", "read")
    return JSONResponse(_rule_out(_get_rule(session, record_id)))


@router.patch("/pool-rules/{record_id}", summary="Change a pool rule (administrators); null clears days and cap")
def update_rule(record_id: RecordId, body: PoolRuleUpdate, actor: Actor = Depends(current_actor),
                session: Session = Depends(get_session)) -> Any:
    require(actor, "pool", "manage")
    rule = _get_rule(session, record_id)
    data = body.model_dump(exclude_unset=True)
    for name in ("name", "warn_days_before", "cooldown_days", "active", "levels", "visible_fields", "masked_fields"):
        if name in data and data[name] is None:
            raise validation(FieldError(name, "required"))
    if "department_id" in data:
        _check_department(session, data["department_id"])
    for name, value in data.items():
        setattr(rule, name, value)
    session.flush()
    out = _rule_out(rule)
    session.commit()
    return JSONResponse(out)


@router.delete("/pool-rules/{record_id}", status_code=204, response_model=None, summary="Delete a pool rule (its pooled customers fall back to the next rule)")
def delete_rule(record_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    require(actor, "pool", "manage")
    rule = _get_rule(session, record_id)
    session.execute(Customer.__table__.update().where(Customer.pool_rule_id == rule.id).values(pool_rule_id=None))
    session.delete(rule)
    session.commit()
    return Response(status_code=204)


# ---- handovers --------------------------------------------------------------------------------------

@router.post("/handovers", status_code=201, summary="离职交接: hand all of a user's customers, open deals, contracts and open tasks to another user "
             "(dry_run=true: counts only, 200, nothing stored)")
def create_handover(body: HandoverIn, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    # without an explicit list: everything the caller may transfer
    include = list(dict.fromkeys(body.include)) if "include" in body.model_fields_set else allowed_kinds(actor) or list(INCLUDE)
    result = handover(session, actor, from_user_id=body.from_user_id, to_user_id=body.to_user_id,
                      include=include, customer_ids=body.customer_ids, dry_run=body.dry_run)
    if body.dry_run:
        return JSONResponse(result)
    session.commit()
    return JSONResponse(result, status_code=201, headers={"Location": f"/api/v1/handovers/{result['id']}"})


def _handover_query(actor: Actor) -> Any:
    from sqlalchemy import or_

    from kith.pool.models import Handover

    require(actor, "customer", "transfer")
    stmt = select(Handover)
    if actor.scopes.get("customer") != "all":
        me = actor.user_id
        stmt = stmt.where(or_(Handover.actor_id == me, Handover.from_user_id == me, Handover.to_user_id == me))
    return stmt


@router.get("/handovers", summary="Handovers I made or that involve me (all of them with an all-customers scope)")
def list_handovers(limit: int = Query(50, ge=1, le=200), actor: Actor = Depends(current_actor),
                   session: Session = Depends(get_session)) -> Any:
    from kith.pool.handover import handover_out
    from kith.pool.models import Handover

    rows = session.scalars(_handover_query(actor).order_by(Handover.id.desc()).limit(limit))
    items = [handover_out(h) for h in rows]
    return JSONResponse({"items": items, "total": len(items)})


@router.get("/handovers/{record_id}", summary="One handover")
def get_handover(record_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    from kith.pool.handover import handover_out
    from kith.pool.models import Handover

    h = session.scalar(_handover_query(actor).where(Handover.id == record_id))
    if h is None:
        raise not_found()
    return JSONResponse(handover_out(h))
