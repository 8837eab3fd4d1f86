"""Reminder rules (administrators), my active reminders (home page) and snoozing a reminder with a reason."""

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kith.access import Actor, require
from kith.auth.models import Department
from kith.core import clock
from kith.core.deps import current_actor, get_session
from kith.core.errors import FieldError, KithError, not_found, validation
from kith.core.i18n import current_language
from kith.core.resource import jsonable
from kith.core.types import AwareDatetime, Name, RecordId, RefId, Text500
from kith.notifications.service import render
from kith.reminders.models import KINDS, ReminderLog, ReminderRule, ReminderSnooze
from kith.reminders.service import ENTITY_MODELS, active_snooze_filter, may_snooze

router = APIRouter(tags=["reminders"])

Kind = Literal["no_followup", "next_action_overdue", "task_due", "contract_expiring", "payment_due"]
assert set(KINDS) == set(Kind.__args__)  # type: ignore[attr-defined]


class RuleParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: int | None = Field(None, ge=1, le=3650, description="no_followup: days without a follow-up")
    levels: list[Literal["A", "B", "C", "D"]] | None = Field(None, description="no_followup: customer levels that count as high-value")
    amount_threshold: Decimal | None = Field(None, ge=0, le=Decimal("1e15"),
                                             description="no_followup: an open deal at or above this amount makes the customer high-value")
    copy_manager: bool | None = Field(None, description="no_followup: copy the owner's department manager for high-value customers")
    lead_minutes: int | None = Field(None, ge=0, le=60 * 24 * 30, description="task_due: minutes before due (a task's own remind_minutes_before wins)")
    lead_days: int | None = Field(None, ge=0, le=365, description="contract_expiring / payment_due: days before the date")


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    kind: Kind
    params: RuleParams = Field(default_factory=RuleParams)
    active: bool = True
    department_id: RefId | None = Field(None, description="limit the rule to a department subtree")
    position: int = Field(0, ge=0, le=10000)


class RuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    params: RuleParams | None = None
    active: bool | None = None
    department_id: RefId | None = None
    position: int | None = Field(None, ge=0, le=10000)


class SnoozeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reminder_id: RefId | None = Field(None, description="the reminder (from GET /reminders); or rule_id + entity_type + entity_id")
    rule_id: RefId | None = None
    entity_type: Literal["customer", "opportunity", "task", "contract", "payment_plan"] | None = None
    entity_id: RefId | None = None
    until: AwareDatetime | None = Field(None, description="silence until this time (at most 180 days ahead); or days")
    days: int | None = Field(None, ge=1, le=180)
    reason: Text500 = Field(None, description="required")


def _params_out(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def _rule_out(rule: ReminderRule) -> dict[str, Any]:
    return {"id": rule.id, "name": rule.name, "kind": rule.kind, "params": rule.params or {}, "active": rule.active,
            "department_id": rule.department_id, "position": rule.position, "version": rule.version,
            "created_at": jsonable(rule.created_at), "updated_at": jsonable(rule.updated_at)}


def _clean_params(params: RuleParams) -> dict[str, Any]:
    out = params.model_dump(exclude_none=True)
    if "amount_threshold" in out:
        out["amount_threshold"] = str(out["amount_threshold"])
    return out


def _check_department(session: Session, dept_id: int | None) -> None:
    if dept_id is not None and session.get(Department, dept_id) is None:
        raise validation(FieldError("department_id", "invalid_reference"))


@router.get("/reminder-rules", summary="Reminder rules (administrators edit them; managers read)")
def list_rules(actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    require(actor, "reminder_rule", "read")
    rules = session.scalars(select(ReminderRule).order_by(ReminderRule.position, ReminderRule.id))
    items = [_rule_out(r) for r in rules]
    return JSONResponse({"items": items, "total": len(items)})


@router.post("/reminder-rules", status_code=201, summary="Create a reminder rule")
def create_rule(body: RuleIn, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    require(actor, "reminder_rule", "manage")
    _check_department(session, body.department_id)
    rule = ReminderRule(name=body.name, kind=body.kind, params=_clean_params(body.params), active=body.active,
                        department_id=body.department_id, position=body.position)
    session.add(rule)
    session.flush()
    out = _rule_out(rule)
    session.commit()
    return JSONResponse(jsonable(out), status_code=201, headers={"Location": f"/api/v1/reminder-rules/{rule.id}"})


def _get_rule(session: Session, rule_id: int) -> ReminderRule:
    rule = session.get(ReminderRule, rule_id)
    if rule is None:
        raise not_found()
    return rule


@router.get("/reminder-rules/{record_id}", summary="One reminder rule")
def get_rule(record_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    require(actor, "reminder_rule", "read")
    return JSONResponse(_rule_out(_get_rule(session, record_id)))


@router.patch("/reminder-rules/{record_id}", summary="Change a reminder rule (params are replaced as a whole)")
def update_rule(record_id: RecordId, body: RuleUpdate, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    require(actor, "reminder_rule", "manage")
    rule = _get_rule(session, record_id)
    data = body.model_dump(exclude_unset=True)
    if "department_id" in data:
        _check_department(session, body.department_id)
        rule.department_id = body.department_id
    if body.name is not None:
        rule.name = body.name
    if body.params is not None:
        rule.params = _clean_params(body.params)
    if body.active is not None:
        rule.active = body.active
    if body.position is not None:
        rule.position = body.position
    session.flush()
    out = _rule_out(rule)
    session.commit()
    return JSONResponse(out)


@router.delete("/reminder-rules/{record_id}", status_code=204, response_model=None, summary="Delete a reminder rule (its log and snoozes go with it)")
def delete_rule(record_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    from fastapi import Response

    require(actor, "reminder_rule", "manage")
    rule = _get_rule(session, record_id)
    session.execute(ReminderSnooze.__table__.delete().where(ReminderSnooze.rule_id == rule.id))
    session.execute(ReminderLog.__table__.delete().where(ReminderLog.rule_id == rule.id))
    session.delete(rule)
    session.commit()
    return Response(status_code=204)


def _reminder_out(log: ReminderLog, actor: Actor, lang: str) -> dict[str, Any]:
    kind = {"no_followup": "reminder_no_followup", "task_due": "reminder_task_due", "contract_expiring": "reminder_contract_expiring",
            "payment_due": "reminder_payment_due"}.get(log.kind)
    if kind is None:
        kind = "reminder_next_action" if log.entity_type == "opportunity" else "reminder_followup_due"
    copied = log.user_id != actor.user_id
    link = {"customer": f"/customers/{log.entity_id}", "opportunity": f"/opportunities/{log.entity_id}",
            "task": f"/tasks?highlight={log.entity_id}", "contract": f"/contracts/{log.entity_id}"}.get(log.entity_type)
    if log.entity_type == "payment_plan" and log.customer_id:
        link = None
    return {"id": log.id, "rule_id": log.rule_id, "kind": log.kind, "entity_type": log.entity_type, "entity_id": log.entity_id,
            "customer_id": log.customer_id, "text": render(kind + ("_copy" if copied else ""), log.params or {}, lang),
            "copied": copied, "fired_at": jsonable(log.fired_at), "link": link}


@router.get("/reminders", summary="My active reminders (fired for me in the last 30 days, not snoozed, record still there)")
def my_reminders(limit: int = Query(50, ge=1, le=200), actor: Actor = Depends(current_actor),
                 session: Session = Depends(get_session)) -> Any:
    from kith.reminders.service import record_owner

    now = clock.now()
    stmt = (select(ReminderLog).where(or_(ReminderLog.user_id == actor.user_id, ReminderLog.copy_user_id == actor.user_id),
                                      ReminderLog.fired_at >= now - timedelta(days=30), active_snooze_filter(now))
            .order_by(ReminderLog.id.desc()).limit(limit * 2))
    items = []
    for log in session.scalars(stmt):
        if _resolved(session, log):
            continue
        if record_owner(session, log.entity_type, log.entity_id) is None or not _still_readable(session, actor, log):
            continue  # gone, or moved out of the user's scope since it fired (a transfer, a handover)
        items.append(_reminder_out(log, actor, current_language.get()))
        if len(items) >= limit:
            break
    return JSONResponse({"items": items, "total": len(items)})


def _still_readable(session: Session, actor: Actor, log: ReminderLog) -> bool:
    """A reminder's text names its record: it is listed only while the user may still read that record."""
    from kith.access import readable
    from kith.contracts.models import Contract, PaymentPlan
    from kith.customers.models import Customer
    from kith.opportunities.models import Opportunity
    from kith.tasks.models import Task

    if log.entity_type == "payment_plan":
        stmt = select(PaymentPlan.id).join(Contract, Contract.id == PaymentPlan.contract_id).where(
            PaymentPlan.id == log.entity_id, readable(actor, Contract, "contract"))
    else:
        found = {"customer": (Customer, "customer"), "opportunity": (Opportunity, "opportunity"), "task": (Task, "task"),
                 "contract": (Contract, "contract")}.get(log.entity_type)
        if found is None:
            return False
        model, module = found
        stmt = select(model.id).where(model.id == log.entity_id, readable(actor, model, module))
    return session.scalar(stmt) is not None


def _resolved(session: Session, log: ReminderLog) -> bool:
    """The reason for the reminder went away: a follow-up since, the task done, the deal closed."""
    from kith.customers.models import Customer
    from kith.opportunities.models import Opportunity
    from kith.tasks.models import Task

    if log.entity_type == "customer":
        c = session.get(Customer, log.entity_id)
        if c is None or c.pool_entered_at is not None:
            return True
        if log.kind == "no_followup":
            return (c.last_followup_at or c.created_at) != log.period_at
        return c.next_followup_at != log.period_at
    if log.entity_type == "task":
        t = session.get(Task, log.entity_id)
        return t is None or t.done_at is not None
    if log.entity_type == "opportunity":
        o = session.get(Opportunity, log.entity_id)
        return o is None or o.status != "open" or o.next_action_due != log.period_at
    return False


@router.post("/reminders/snooze", status_code=201, summary="Snooze a reminder for a record until a time, with a reason "
             "(the record's owner or their manager)")
def snooze(body: SnoozeIn, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    now = clock.now()
    errors: list[FieldError] = []
    if not (body.reason or "").strip():
        errors.append(FieldError("reason", "required"))
    until: datetime | None = body.until
    if until is None and body.days:
        until = now + timedelta(days=body.days)
    if until is None:
        errors.append(FieldError("until", "required"))
    elif until <= now or until > now + timedelta(days=181):
        errors.append(FieldError("until", "invalid"))
    if body.reminder_id is not None:
        log = session.get(ReminderLog, body.reminder_id)
        if log is None or actor.user_id not in (log.user_id, log.copy_user_id) and not may_snooze(session, actor, log.entity_type, log.entity_id):
            raise not_found()
        rule_id, entity_type, entity_id = log.rule_id, log.entity_type, log.entity_id
    else:
        for name in ("rule_id", "entity_type", "entity_id"):
            if getattr(body, name) is None:
                errors.append(FieldError(name, "required"))
        if errors:
            raise validation(*errors)
        if session.get(ReminderRule, body.rule_id) is None:
            raise validation(FieldError("rule_id", "invalid_reference"))
        rule_id, entity_type, entity_id = body.rule_id, body.entity_type, body.entity_id  # type: ignore[assignment]
    if errors:
        raise validation(*errors)
    assert entity_type in ENTITY_MODELS
    if not may_snooze(session, actor, entity_type, entity_id):  # type: ignore[arg-type]
        raise KithError(403, "reminder_snooze_forbidden")
    row = ReminderSnooze(rule_id=rule_id, entity_type=entity_type, entity_id=entity_id, until=until, reason=body.reason.strip(),  # type: ignore[union-attr]
                         by_id=actor.user_id, created_at=now)
    session.add(row)
    session.flush()
    out = {"id": row.id, "rule_id": rule_id, "entity_type": entity_type, "entity_id": entity_id, "until": jsonable(until),
           "reason": row.reason, "by_id": actor.user_id}
    session.commit()
    return JSONResponse(out, status_code=201)


_ = (InvalidOperation, _params_out)
