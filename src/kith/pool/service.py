"""The public pool (公海): which rule covers a customer, the hourly sweep (warnings, returns), release, claim, assign;
handovers (离职交接). Every move emits a timeline event and changes the (audited) customer row."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, false, func, not_, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kith.activities.events import emit
from kith.auth.models import Department, User
from kith.core import clock
from kith.core.errors import FieldError, KithError, validation
from kith.customers.models import Customer as C
from kith.pool.models import DEFAULT_MASKED, DEFAULT_VISIBLE, PoolLog, PoolRule

BATCH = 1000  # customers returned per rule per sweep (ORM rows, for the audit trail); the next sweep continues


def ensure_default_rules(session: Session) -> None:
    """On install: one company-wide pool with caps and masking but no automatic return (administrators set the days)."""
    if session.scalar(select(func.count()).select_from(PoolRule)):
        return
    session.add(PoolRule(name="公司公海", department_id=None, levels=[], no_followup_days=None, no_won_days=None, warn_days_before=3,
                         claim_cap=200, cooldown_days=7, visible_fields=list(DEFAULT_VISIBLE), masked_fields=list(DEFAULT_MASKED),
                         active=True))
    session.flush()


# ---- rules --------------------------------------------------------------------------------------------

def _ordered_rules(session: Session) -> list[tuple[PoolRule, str]]:
    """Active rules with their department path, most specific first (deeper department, then with levels, then id)."""
    rows = session.execute(select(PoolRule, Department.path).outerjoin(Department, Department.id == PoolRule.department_id)
                           .where(PoolRule.active.is_(True))).all()
    out = [(rule, path or "/") for rule, path in rows if rule.department_id is None or path]
    out.sort(key=lambda rp: (-len(rp[1]), 0 if rp[0].levels else 1, rp[0].id))
    return out


def _match(rule: PoolRule, path: str) -> Any:
    conds = []
    if path != "/":
        conds.append(C.department_path.startswith(path, autoescape=True))
    if rule.levels:
        conds.append(C.level.in_(list(rule.levels)))
    return and_(*conds) if conds else None


def rule_for(session: Session, customer: C) -> tuple[PoolRule | None, str]:
    for rule, path in _ordered_rules(session):
        if (path == "/" or (customer.department_path or "/").startswith(path)) and (not rule.levels or customer.level in rule.levels):
            return rule, path
    return None, "/"


def _days_ago(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def _won_basis() -> Any:
    from kith.opportunities.models import Opportunity as O

    last_won = (select(func.max(O.closed_at)).where(O.customer_id == C.id, O.status == "won", O.deleted_at.is_(None))
                .scalar_subquery())
    return func.coalesce(last_won, C.created_at)


# ---- moves --------------------------------------------------------------------------------------------

def _log(session: Session, customer: C, action: str, *, owner_id: int | None, actor_id: int | None, reason: str | None,
         rule_id: int | None, now: datetime, period_at: datetime | None = None, data: dict[str, Any] | None = None) -> None:
    session.add(PoolLog(customer_id=customer.id, action=action, owner_id=owner_id, actor_id=actor_id, reason=reason, rule_id=rule_id,
                        period_at=period_at, at=now, data=data or {}))


def put_in_pool(session: Session, actor: Any, customer: C, *, reason: str, auto: bool, now: datetime | None = None,
                criterion: str | None = None, days: int | None = None) -> None:
    from kith.notifications.service import notify

    now = now or clock.now()
    rule, path = rule_for(session, customer)
    owner_id = customer.owner_id
    customer.pool_entered_at = now
    customer.pool_path = path
    customer.pool_rule_id = rule.id if rule else None
    customer.pool_released_by_id = actor.user_id if actor else None
    customer.pool_reason = reason[:500]
    action = "returned" if auto else "released"
    _log(session, customer, action, owner_id=owner_id, actor_id=actor.user_id if actor else None, reason=reason,
         rule_id=rule.id if rule else None, now=now)
    emit(session, actor, type=f"pool_{action}", entity_type="customer", entity_id=customer.id, customer_id=customer.id,
         summary=customer.name, data={"reason": reason, "previous_owner_id": owner_id, "pool_path": path})
    if auto:
        notify(session, [owner_id], f"pool_returned_{criterion or 'no_followup'}", {"customer": customer.name, "days": days},
               link="/pool", entity_type="customer", entity_id=customer.id)
    elif actor is not None and actor.user_id != owner_id:
        notify(session, [owner_id], "pool_released", {"customer": customer.name, "reason": reason}, link="/pool",
               entity_type="customer", entity_id=customer.id)


def release(session: Session, actor: Any, customer: C, reason: str) -> None:
    if customer.pool_entered_at is not None:
        raise KithError(409, "pool_already_in_pool")
    put_in_pool(session, actor, customer, reason=reason, auto=False)


def claim(session: Session, actor: Any, customer: C, *, assign_to: User | None = None) -> None:
    """Take a pooled customer (claim: for oneself, within the cap and after the cool-down; assign: a manager names the owner)."""
    from kith.customers.service import transfer

    now = clock.now()
    if customer.pool_entered_at is None:
        raise KithError(409, "pool_not_in_pool")
    rule = session.get(PoolRule, customer.pool_rule_id) if customer.pool_rule_id else None
    if rule is None:
        rule, _path = rule_for(session, customer)
    new_owner = assign_to or session.get(User, actor.user_id)
    assert new_owner is not None
    if assign_to is None and rule is not None:
        if rule.claim_cap is not None:
            owned = session.scalar(select(func.count()).select_from(C).where(
                C.owner_id == new_owner.id, C.deleted_at.is_(None), C.pool_entered_at.is_(None))) or 0
            if owned >= rule.claim_cap:
                raise KithError(409, "pool_claim_cap", {"cap": rule.claim_cap, "owned": owned},
                                details={"cap": rule.claim_cap, "owned": owned})
        if rule.cooldown_days:
            last = session.scalar(select(func.max(PoolLog.at)).where(
                PoolLog.customer_id == customer.id, PoolLog.owner_id == new_owner.id, PoolLog.action.in_(("released", "returned"))))
            if last is not None and last + timedelta(days=rule.cooldown_days) > now:
                ends = last + timedelta(days=rule.cooldown_days)
                from zoneinfo import ZoneInfo

                try:
                    local = ends.astimezone(ZoneInfo(actor.timezone))
                except Exception:  # noqa: BLE001
                    local = ends
                raise KithError(409, "pool_cooldown", {"until": local.strftime("%Y-%m-%d %H:%M"), "days": rule.cooldown_days},
                                details={"cooldown_until": ends.isoformat(), "cooldown_days": rule.cooldown_days})
    previous = customer.owner_id
    customer.pool_entered_at = None
    customer.pool_path = None
    customer.pool_rule_id = None
    customer.pool_released_by_id = None
    customer.pool_reason = None
    # the claim counts as contact: the no-follow-up clock starts again for the new owner
    customer.last_followup_at = now
    transfer(session, actor, customer, new_owner)
    action = "assigned" if assign_to is not None else "claimed"
    _log(session, customer, action, owner_id=previous, actor_id=actor.user_id, reason=None, rule_id=rule.id if rule else None, now=now,
         data={"new_owner_id": new_owner.id})
    emit(session, actor, type=f"pool_{action}", entity_type="customer", entity_id=customer.id, customer_id=customer.id,
         summary=customer.name, data={"owner_id": new_owner.id, "owner": new_owner.display_name})
    if assign_to is not None and assign_to.id != actor.user_id:
        from kith.notifications.service import notify

        notify(session, [assign_to.id], "pool_assigned", {"customer": customer.name}, link=f"/customers/{customer.id}",
               entity_type="customer", entity_id=customer.id)


# ---- the hourly sweep ---------------------------------------------------------------------------------

def _due_conditions(rule: PoolRule, now: datetime, *, warn: bool) -> list[tuple[str, Any, Any]]:
    """(criterion, due condition, basis column) per criterion the rule has. With warn=True: inside the warning window."""
    out = []
    shift = rule.warn_days_before if warn else 0
    for criterion, days, basis in (("no_followup", rule.no_followup_days, func.coalesce(C.last_followup_at, C.created_at)),
                                   ("no_won", rule.no_won_days, _won_basis())):
        if not days:
            continue
        cond = basis <= _days_ago(now, days - shift)
        if warn:
            cond = and_(cond, basis > _days_ago(now, days))
        out.append((criterion, cond, basis))
    return out


def run_sweep(session: Session, now: datetime | None = None) -> dict[str, Any]:
    """Warn owners `warn_days_before` days ahead (once per period) and return due customers to their pool.
    Idempotent; does not commit. Returns counts."""
    from kith.notifications.service import notify

    now = now or clock.now()
    ordered = _ordered_rules(session)
    warned = returned = 0
    for i, (rule, path) in enumerate(ordered):
        if not (rule.no_followup_days or rule.no_won_days):
            continue
        own = _match(rule, path)
        # customers covered by a more specific rule belong to that rule
        earlier = [m for m in (_match(r, p) for r, p in ordered[:i]) if m is not None]
        if any(_match(r, p) is None for r, p in ordered[:i]):
            continue  # an earlier catch-all rule covers everything this one would
        scope = [C.deleted_at.is_(None), C.pool_entered_at.is_(None)]
        if own is not None:
            scope.append(own)
        if earlier:
            scope.append(not_(or_(*earlier)))
        # warnings: one per customer per period (the basis date); the pool log's unique key keeps it once
        if rule.warn_days_before:
            for criterion, cond, basis in _due_conditions(rule, now, warn=True):
                logged = exists().where(PoolLog.customer_id == C.id, PoolLog.action == "warned", PoolLog.period_at == basis)
                rows = session.execute(select(C.id, C.name, C.owner_id, basis.label("basis")).where(*scope, cond, ~logged)
                                       .order_by(C.id).limit(BATCH * 5)).all()
                days = rule.no_followup_days if criterion == "no_followup" else rule.no_won_days
                for r in rows:
                    try:
                        with session.begin_nested():
                            session.add(PoolLog(customer_id=r.id, action="warned", owner_id=r.owner_id, rule_id=rule.id, period_at=r.basis,
                                                at=now, reason=criterion, data={}))
                            session.flush()
                    except IntegrityError:
                        continue
                    due = r.basis + timedelta(days=days or 0)
                    notify(session, [r.owner_id], "pool_warning",
                           {"customer": r.name, "days": max(0, (due - now).days), "date": due.date().isoformat(),
                            "reason_key": criterion}, link=f"/customers/{r.id}", entity_type="customer", entity_id=r.id)
                    warned += 1
        conds = _due_conditions(rule, now, warn=False)
        if not conds:
            continue
        customers = list(session.scalars(select(C).where(*scope, or_(*[c for _k, c, _b in conds])).order_by(C.id).limit(BATCH)))
        for customer in customers:
            criterion = conds[0][0]
            if len(conds) > 1 and rule.no_followup_days:
                basis = customer.last_followup_at or customer.created_at
                criterion = "no_followup" if basis <= _days_ago(now, rule.no_followup_days) else "no_won"
            days = rule.no_followup_days if criterion == "no_followup" else rule.no_won_days
            reason = {"no_followup": f"{days} 天未跟进", "no_won": f"{days} 天未成交"}[criterion]
            put_in_pool(session, None, customer, reason=reason, auto=True, now=now, criterion=criterion, days=days)
            returned += 1
    session.flush()
    return {"warned": warned, "returned": returned}


# ---- pool list ----------------------------------------------------------------------------------------

def mask(field: str, value: Any) -> Any:
    """138****5678 for phones; a***@example.com for e-mail; other text: first character and stars."""
    if value in (None, ""):
        return value
    text = str(value)
    if field in ("phone", "mobile"):
        digits = "".join(ch for ch in text if ch.isdigit())
        if text.startswith("+86") and digits.startswith("86"):
            digits = digits[2:]
        if len(digits) <= 7:
            return "*" * len(digits)
        return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"
    if field == "email" and "@" in text:
        local, _, domain = text.partition("@")
        return f"{local[:1]}***@{domain}"
    return text[:1] + "***"


def shown(rule: PoolRule | None) -> tuple[list[str], set[str]]:
    """(fields a pool list shows, those of them masked until claimed) under a rule, or the defaults without one."""
    visible = list(rule.visible_fields) if rule and rule.visible_fields else list(DEFAULT_VISIBLE)
    masked = set(rule.masked_fields) if rule and rule.masked_fields is not None else set(DEFAULT_MASKED)
    return visible, masked


def in_clear(session: Session, field: str) -> Any:
    """The pooled customers whose rule shows `field` unmasked: a search or filter on it must not reach the others
    (matching a masked name substring by substring would read it)."""
    rules = list(session.scalars(select(PoolRule)))
    clear = [r.id for r in rules if field in shown(r)[0] and field not in shown(r)[1]]
    cond = C.pool_rule_id.in_(clear) if clear else false()
    if field in shown(None)[0] and field not in shown(None)[1]:  # customers without a (still existing) rule: the defaults
        cond = or_(cond, C.pool_rule_id.is_(None), C.pool_rule_id.not_in([r.id for r in rules]) if rules else true())
    return cond


def pool_item(customer: C, rule: PoolRule | None, *, unmasked: bool) -> dict[str, Any]:
    from kith.core.resource import jsonable

    visible, masked = shown(rule)
    item: dict[str, Any] = {"id": customer.id, "pool_entered_at": jsonable(customer.pool_entered_at),
                            "pool_reason": customer.pool_reason, "pool_rule_id": customer.pool_rule_id}
    for name in visible:
        value = getattr(customer, name, None)
        item[name] = jsonable(value) if unmasked or name not in masked else mask(name, value)
    return item


_ = (false, FieldError, validation)
