"""Reminder scan: one SQL query per rule finds the due records not yet reminded in this period and not snoozed.

`run_scan(session, now)` is called by the periodic runner every 15 minutes; it is idempotent (the log's unique key
(rule, record, period) lets a rule fire at most once per record per period) and never commits.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from kith.auth.models import Department
from kith.reminders.models import ReminderLog, ReminderRule, ReminderSnooze

BATCH = 2000  # records per rule per scan; the next scan continues (15 minutes later)

DEFAULT_RULES: list[dict[str, Any]] = [
    {"name": "客户超过 7 天未跟进", "kind": "no_followup",
     "params": {"days": 7, "copy_manager": True, "levels": ["A"], "amount_threshold": "500000"}},
    {"name": "下一步行动已逾期", "kind": "next_action_overdue", "params": {}},
    {"name": "待办到期提醒", "kind": "task_due", "params": {"lead_minutes": 0}},
    {"name": "合同即将到期（30 天内）", "kind": "contract_expiring", "params": {"lead_days": 30}},
    {"name": "回款计划即将到期（3 天内）", "kind": "payment_due", "params": {"lead_days": 3}},
]


def ensure_default_rules(session: Session) -> None:
    """Defaults on install: only when there are no rules at all (an administrator's deletions stay deleted)."""
    if session.scalar(select(func.count()).select_from(ReminderRule)):
        return
    for pos, spec in enumerate(DEFAULT_RULES):
        session.add(ReminderRule(name=spec["name"], kind=spec["kind"], params=dict(spec["params"]), active=True, position=pos))
    session.flush()


# ---- helpers ---------------------------------------------------------------------------------------

def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _local_today(now: datetime) -> date:
    from kith.config import get_settings

    try:
        tz = ZoneInfo(get_settings().timezone)
    except Exception:  # noqa: BLE001 - a bad setting must not stop reminders
        tz = ZoneInfo("Asia/Shanghai")
    return now.astimezone(tz).date()


def _period_key(value: datetime | date) -> str:
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return value.isoformat()


def _not_logged(rule: ReminderRule, entity_type: str, id_col: Any, period_col: Any, *, dated: bool = False) -> Any:
    period = ReminderLog.period_date if dated else ReminderLog.period_at
    return ~exists().where(ReminderLog.rule_id == rule.id, ReminderLog.entity_type == entity_type,
                           ReminderLog.entity_id == id_col, period == period_col)


def _not_snoozed(rule: ReminderRule, entity_type: str, id_col: Any, now: datetime) -> Any:
    return ~exists().where(ReminderSnooze.rule_id == rule.id, ReminderSnooze.entity_type == entity_type,
                           ReminderSnooze.entity_id == id_col, ReminderSnooze.until > now)


def _dept_scope(session: Session, rule: ReminderRule, path_col: Any) -> list[Any]:
    if rule.department_id is None:
        return []
    dept = session.get(Department, rule.department_id)
    if dept is None:
        return []
    return [path_col.startswith(dept.path, autoescape=True)]


def _fire(session: Session, rule: ReminderRule, now: datetime, *, entity_type: str, entity_id: int, period: datetime | date,
          user_id: int, copy_user_id: int | None, customer_id: int | None, kind: str, params: dict[str, Any], link: str) -> bool:
    """Log the reminder (savepoint: a concurrent scan that logged it first wins) and notify."""
    from sqlalchemy.exc import IntegrityError

    from kith.notifications.service import notify

    log = ReminderLog(rule_id=rule.id, kind=rule.kind, entity_type=entity_type, entity_id=entity_id, period=_period_key(period),
                      period_at=period if isinstance(period, datetime) else None,
                      period_date=period if not isinstance(period, datetime) else None,
                      user_id=user_id, copy_user_id=copy_user_id if copy_user_id != user_id else None, customer_id=customer_id,
                      params=params, fired_at=now)
    try:
        with session.begin_nested():
            session.add(log)
            session.flush()
    except IntegrityError:
        return False
    notify(session, [user_id], kind, params, link=link, entity_type=entity_type, entity_id=entity_id)
    if log.copy_user_id:
        notify(session, [log.copy_user_id], kind + "_copy", params, link=link, entity_type=entity_type, entity_id=entity_id)
    return True


def _managers(session: Session, dept_ids: set[int]) -> dict[int, int | None]:
    ids = {d for d in dept_ids if d}
    if not ids:
        return {}
    return dict(session.execute(select(Department.id, Department.manager_id).where(Department.id.in_(ids))).all())


# ---- one scanner per kind ----------------------------------------------------------------------------

def _scan_no_followup(session: Session, rule: ReminderRule, now: datetime) -> int:
    from kith.customers.models import Customer as C
    from kith.opportunities.models import Opportunity as O

    p = rule.params or {}
    days = int(p.get("days") or 7)
    basis = func.coalesce(C.last_followup_at, C.created_at)
    levels = [str(x) for x in p.get("levels") or []]
    threshold = p.get("amount_threshold")
    high: list[Any] = []
    if levels:
        high.append(C.level.in_(levels))
    if threshold not in (None, ""):
        high.append(exists().where(O.customer_id == C.id, O.status == "open", O.deleted_at.is_(None),
                                   O.amount >= Decimal(str(threshold))))
    high_col = or_(*high) if high else literal(False)
    stmt = (select(C.id, C.name, C.owner_id, C.department_id, basis.label("basis"), high_col.label("high"))
            .where(C.deleted_at.is_(None), C.pool_entered_at.is_(None), basis <= now - timedelta(days=days),
                   *_dept_scope(session, rule, C.department_path),
                   _not_logged(rule, "customer", C.id, basis), _not_snoozed(rule, "customer", C.id, now))
            .order_by(C.id).limit(BATCH))
    rows = session.execute(stmt).all()
    managers = _managers(session, {r.department_id for r in rows}) if p.get("copy_manager") else {}
    fired = 0
    for r in rows:
        copy = managers.get(r.department_id) if r.high else None
        silent = max(days, (now - r.basis).days)
        fired += _fire(session, rule, now, entity_type="customer", entity_id=r.id, period=r.basis, user_id=r.owner_id,
                       copy_user_id=copy, customer_id=r.id, kind="reminder_no_followup",
                       params={"customer": r.name, "days": silent}, link=f"/customers/{r.id}")
    return fired


def _scan_next_action(session: Session, rule: ReminderRule, now: datetime) -> int:
    from kith.customers.models import Customer as C
    from kith.opportunities.models import Opportunity as O

    fired = 0
    stmt = (select(O.id, O.name, O.owner_id, O.customer_id, O.next_action, O.next_action_due)
            .where(O.deleted_at.is_(None), O.status == "open", O.next_action_due.is_not(None), O.next_action_due < now,
                   *_dept_scope(session, rule, O.department_path),
                   _not_logged(rule, "opportunity", O.id, O.next_action_due), _not_snoozed(rule, "opportunity", O.id, now))
            .order_by(O.id).limit(BATCH))
    for r in session.execute(stmt).all():
        fired += _fire(session, rule, now, entity_type="opportunity", entity_id=r.id, period=r.next_action_due, user_id=r.owner_id,
                       copy_user_id=None, customer_id=r.customer_id, kind="reminder_next_action",
                       params={"opportunity": r.name, "action": r.next_action or ""}, link=f"/opportunities/{r.id}")
    stmt = (select(C.id, C.name, C.owner_id, C.next_followup_at)
            .where(C.deleted_at.is_(None), C.pool_entered_at.is_(None), C.next_followup_at.is_not(None), C.next_followup_at < now,
                   *_dept_scope(session, rule, C.department_path),
                   _not_logged(rule, "customer", C.id, C.next_followup_at), _not_snoozed(rule, "customer", C.id, now))
            .order_by(C.id).limit(BATCH))
    for r in session.execute(stmt).all():
        fired += _fire(session, rule, now, entity_type="customer", entity_id=r.id, period=r.next_followup_at, user_id=r.owner_id,
                       copy_user_id=None, customer_id=r.id, kind="reminder_followup_due",
                       params={"customer": r.name}, link=f"/customers/{r.id}")
    return fired


def _task_remind_at_due(session: Session, T: Any, lead: int, now: datetime) -> Any:
    """due_at - coalesce(remind_minutes_before, lead) <= now, per dialect (one indexed-range prefilter in SQL too)."""
    minutes = func.coalesce(T.remind_minutes_before, lead)
    if _dialect(session) == "postgresql":
        return T.due_at - func.make_interval(0, 0, 0, 0, 0, minutes) <= now
    stamp = now.astimezone(ZoneInfo("UTC")).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return func.julianday(T.due_at) - minutes / 1440.0 <= func.julianday(stamp)


def _scan_task_due(session: Session, rule: ReminderRule, now: datetime) -> int:
    from kith.tasks.models import Task as T

    lead = int((rule.params or {}).get("lead_minutes") or 0)
    max_lead = 60 * 24 * 30
    stmt = (select(T.id, T.title, T.owner_id, T.customer_id, T.due_at)
            .where(T.deleted_at.is_(None), T.done_at.is_(None), T.due_at.is_not(None),
                   # range prefilter on the due_at index, then the exact per-task reminder time
                   T.due_at <= now + timedelta(minutes=max(max_lead, lead)), T.due_at > now - timedelta(days=7),
                   _task_remind_at_due(session, T, lead, now),
                   *_dept_scope(session, rule, T.department_path),
                   _not_logged(rule, "task", T.id, T.due_at), _not_snoozed(rule, "task", T.id, now))
            .order_by(T.id).limit(BATCH))
    fired = 0
    for r in session.execute(stmt).all():
        fired += _fire(session, rule, now, entity_type="task", entity_id=r.id, period=r.due_at, user_id=r.owner_id,
                       copy_user_id=None, customer_id=r.customer_id, kind="reminder_task_due",
                       params={"task": r.title, "due_at": r.due_at.isoformat()}, link=f"/tasks?highlight={r.id}")
    return fired


def _scan_contract_expiring(session: Session, rule: ReminderRule, now: datetime) -> int:
    from kith.contracts.models import Contract as K

    lead = int((rule.params or {}).get("lead_days") or 30)
    today = _local_today(now)
    stmt = (select(K.id, K.title, K.number, K.owner_id, K.customer_id, K.end_date)
            .where(K.deleted_at.is_(None), K.status == "active", K.end_date.is_not(None), K.end_date >= today,
                   K.end_date <= today + timedelta(days=lead), *_dept_scope(session, rule, K.department_path),
                   _not_logged(rule, "contract", K.id, K.end_date, dated=True), _not_snoozed(rule, "contract", K.id, now))
            .order_by(K.id).limit(BATCH))
    fired = 0
    for r in session.execute(stmt).all():
        fired += _fire(session, rule, now, entity_type="contract", entity_id=r.id, period=r.end_date, user_id=r.owner_id,
                       copy_user_id=None, customer_id=r.customer_id, kind="reminder_contract_expiring",
                       params={"contract": r.title, "number": r.number, "end_date": r.end_date.isoformat(),
                               "days": (r.end_date - today).days}, link=f"/contracts/{r.id}")
    return fired


def _scan_payment_due(session: Session, rule: ReminderRule, now: datetime) -> int:
    from kith.contracts.models import Contract as K
    from kith.contracts.models import Payment, PaymentPlan as P

    lead = int((rule.params or {}).get("lead_days") or 3)
    today = _local_today(now)
    paid = (select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.plan_id == P.id).scalar_subquery())
    stmt = (select(P.id, P.due_date, K.id.label("contract_id"), K.title, K.number, K.owner_id, K.customer_id)
            .join(K, K.id == P.contract_id)
            .where(K.deleted_at.is_(None), K.status.in_(("active", "draft")), P.due_date <= today + timedelta(days=lead),
                   P.due_date >= today - timedelta(days=30), paid < P.amount, *_dept_scope(session, rule, K.department_path),
                   _not_logged(rule, "payment_plan", P.id, P.due_date, dated=True), _not_snoozed(rule, "payment_plan", P.id, now))
            .order_by(P.id).limit(BATCH))
    fired = 0
    for r in session.execute(stmt).all():
        # the amount is not in the message: the owner may not be allowed to see payment amounts
        fired += _fire(session, rule, now, entity_type="payment_plan", entity_id=r.id, period=r.due_date, user_id=r.owner_id,
                       copy_user_id=None, customer_id=r.customer_id, kind="reminder_payment_due",
                       params={"contract": r.title, "number": r.number, "due_date": r.due_date.isoformat()},
                       link=f"/contracts/{r.contract_id}")
    return fired


SCANNERS = {
    "no_followup": _scan_no_followup,
    "next_action_overdue": _scan_next_action,
    "task_due": _scan_task_due,
    "contract_expiring": _scan_contract_expiring,
    "payment_due": _scan_payment_due,
}


def run_scan(session: Session, now: datetime | None = None) -> dict[str, Any]:
    """Fire every active rule once; returns {"rules": n, "fired": total, "by_rule": {id: n}}. Does not commit."""
    from kith.core import clock

    now = now or clock.now()
    by_rule: dict[int, int] = {}
    rules = list(session.scalars(select(ReminderRule).where(ReminderRule.active.is_(True)).order_by(ReminderRule.position, ReminderRule.id)))
    for rule in rules:
        scanner = SCANNERS.get(rule.kind)
        if scanner is not None:
            by_rule[rule.id] = scanner(session, rule, now)
    session.flush()
    return {"rules": len(rules), "fired": sum(by_rule.values()), "by_rule": by_rule}


# ---- who may snooze -----------------------------------------------------------------------------------

ENTITY_MODELS = ("customer", "opportunity", "task", "contract", "payment_plan")


def record_owner(session: Session, entity_type: str, entity_id: int) -> tuple[int, int | None] | None:
    """(owner id, owner's department id) of a record a reminder is about; None when it is gone."""
    from kith.contracts.models import Contract, PaymentPlan
    from kith.customers.models import Customer
    from kith.opportunities.models import Opportunity
    from kith.tasks.models import Task

    model = {"customer": Customer, "opportunity": Opportunity, "task": Task, "contract": Contract}.get(entity_type)
    if entity_type == "payment_plan":
        row = session.execute(select(Contract.owner_id, Contract.department_id).join(PaymentPlan, PaymentPlan.contract_id == Contract.id)
                              .where(PaymentPlan.id == entity_id, Contract.deleted_at.is_(None))).first()
    elif model is not None:
        row = session.execute(select(model.owner_id, model.department_id).where(model.id == entity_id, model.deleted_at.is_(None))).first()
    else:
        row = None
    return (row[0], row[1]) if row else None


def may_snooze(session: Session, actor: Any, entity_type: str, entity_id: int) -> bool:
    from kith.access.gate import can

    found = record_owner(session, entity_type, entity_id)
    if found is None:
        return False
    owner_id, dept_id = found
    if owner_id == actor.user_id or can(actor, "reminder_rule", "manage"):
        return True
    if dept_id is None:
        return False
    return session.scalar(select(Department.manager_id).where(Department.id == dept_id)) == actor.user_id


def active_snooze_filter(now: datetime) -> Any:
    return ~exists().where(ReminderSnooze.rule_id == ReminderLog.rule_id, ReminderSnooze.entity_type == ReminderLog.entity_type,
                           ReminderSnooze.entity_id == ReminderLog.entity_id, ReminderSnooze.until > now)


_ = and_
