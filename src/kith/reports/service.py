"""Report computations: one SQL aggregation per figure over the viewer's data scope (never rows in Python).

Every query starts from `kith.access.readable(actor, Model, module)` plus live rows; the department
filter (a subtree, by the materialised department_path) and the owner filter are ANDed to it, so they
can only narrow the scope. Amount figures exist only when `money(actor, module)` allows them: the
module's `amount` field is not hidden for the actor, and the role does not hide `report.amount`
(sales reps: counts only). Without the right the keys are absent, not null.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal, or_, select, text, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import True_

from kith.access import Actor, can, readable
from kith.access.gate import check_filter, hidden_fields, strip
from kith.activities.models import Event, Followup
from kith.auth.models import Department, User
from kith.contacts.models import Contact
from kith.contracts.models import Contract, Payment, PaymentPlan
from kith.core import clock
from kith.core.errors import FieldError, KithError, validation
from kith.customers.models import Customer
from kith.db.base import UTCDateTime
from kith.opportunities.models import Opportunity, Pipeline, Stage, StageHistory
from kith.reports.rollup import CustomerCount, RollupView, filled_expr

PERIODS = ("week", "month", "quarter", "year", "custom")
POOL_INFLOW = ("pool_returned", "pool_released")
POOL_CLAIM = ("pool_claimed",)
DEFAULT_FOLLOWUP_DAYS = 7
MAX_CUSTOM_DAYS = 3660
# completeness: the important customer fields (ADR 0015); a contact with a mobile or e-mail is the last one
COMPLETENESS_FIELDS = ("name", "industry", "source", "level", "province", "address", "phone", "website")
COMPLETENESS_TOTAL = len(COMPLETENESS_FIELDS) + 1
BANDS = (("0-20", 0, 1), ("20-40", 2, 3), ("40-60", 4, 5), ("60-80", 6, 7), ("80-100", 8, 9))  # by fields filled of 9

TITLES = {
    "completeness": ("信息完整度", "Information completeness"),
    "followup_timeliness": ("跟进及时率", "Follow-up timeliness"),
    "new_customers": ("新增客户", "New customers"),
    "funnel": ("销售漏斗", "Sales funnel"),
    "win_rate": ("赢单率与销售周期", "Win rate and sales cycle"),
    "forecast": ("加权预测", "Weighted forecast"),
    "ranking": ("销售排行", "Sales ranking"),
    "contracts_payments": ("合同与回款", "Contracts and payments"),
    "pool": ("公海流入与领取", "Pool inflow and claims"),
}


# ---------------------------------------------------------------------------------------------
# parameters
# ---------------------------------------------------------------------------------------------

@dataclass
class Ctx:
    actor: Actor
    session: Session
    period: str
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    prev_start: datetime
    prev_end: datetime
    d_start: date  # local dates for date columns (inclusive start, exclusive end)
    d_end: date
    dp_start: date
    dp_end: date
    department_path: str | None = None
    owner_id: int | None = None
    days: int | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def now(self) -> datetime:
        return clock.now()

    def key(self) -> dict[str, Any]:
        """The resolved parameters: what a cached payload depends on."""
        return {"period": self.period, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "department_path": self.department_path, "owner_id": self.owner_id, "days": self.days,
                "now_minute": self.now.replace(second=0, microsecond=0).isoformat()}


def _month_start(d: date, delta: int = 0) -> date:
    m = d.month - 1 + delta
    return date(d.year + m // 12, m % 12 + 1, 1)


def _parse_date(name: str, value: str | None) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise validation(FieldError(name, "invalid_date")) from None


def resolve(session: Session, actor: Actor, params: dict[str, Any]) -> Ctx:
    period = params.get("period") or "month"
    if period not in PERIODS:
        raise validation(FieldError("period", "invalid_period"))
    tz = ZoneInfo(actor.timezone or "Asia/Shanghai")
    today = clock.now().astimezone(tz).date()
    if period == "week":
        s = today - timedelta(days=today.weekday())
        e, ps = s + timedelta(days=7), s - timedelta(days=7)
    elif period == "month":
        s = _month_start(today)
        e, ps = _month_start(today, 1), _month_start(today, -1)
    elif period == "quarter":
        q = _month_start(today, -((today.month - 1) % 3))
        s, e, ps = q, _month_start(q, 3), _month_start(q, -3)
    elif period == "year":
        s, e, ps = date(today.year, 1, 1), date(today.year + 1, 1, 1), date(today.year - 1, 1, 1)
    else:
        f, t = _parse_date("from", params.get("from")), _parse_date("to", params.get("to"))
        if f is None:
            raise validation(FieldError("from", "required"))
        if t is None:
            raise validation(FieldError("to", "required"))
        if t < f:
            raise validation(FieldError("to", "before_start"))
        if (t - f).days > MAX_CUSTOM_DAYS:
            raise validation(FieldError("to", "range_too_long"))
        s, e = f, t + timedelta(days=1)
        ps = s - (e - s)
    pe = s

    def utc(d: date) -> datetime:
        return datetime.combine(d, time(0), tz).astimezone(timezone.utc)

    dept_path = None
    if params.get("department_id") not in (None, ""):
        try:
            dept_id = int(params["department_id"])
        except (TypeError, ValueError):
            raise validation(FieldError("department_id", "invalid")) from None
        dept = session.get(Department, dept_id)
        if dept is None:
            raise validation(FieldError("department_id", "not_found"))
        dept_path = dept.path
    owner_id = None
    if params.get("owner_id") not in (None, ""):
        try:
            owner_id = int(params["owner_id"])
        except (TypeError, ValueError):
            raise validation(FieldError("owner_id", "invalid")) from None
    days = None
    if params.get("days") not in (None, ""):
        try:
            days = int(params["days"])
        except (TypeError, ValueError):
            raise validation(FieldError("days", "invalid")) from None
        if not 1 <= days <= 365:
            raise validation(FieldError("days", "out_of_range"))
    return Ctx(actor, session, period, utc(s), utc(e), utc(ps), utc(pe), s, e, ps, pe, dept_path, owner_id, days,
               {k: v for k, v in params.items() if v not in (None, "")})


def money(actor: Actor, module: str) -> bool:
    """May amount figures over `module` be shown to this actor?"""
    return (can(actor, module, "read") and "amount" not in hidden_fields(actor, module)
            and "amount" not in hidden_fields(actor, "report"))


def scoped(ctx: Ctx, model: Any, module: str) -> list[Any]:
    conds = [readable(ctx.actor, model, module)]
    if hasattr(model, "deleted_at"):
        conds.append(model.deleted_at.is_(None))
    if ctx.department_path:
        conds.append(model.department_path.startswith(ctx.department_path, autoescape=True))
    if ctx.owner_id is not None:
        conds.append(model.owner_id == ctx.owner_id)
    return conds


def _num(v: Any) -> Any:
    if v is None:
        return 0
    if isinstance(v, Decimal):
        return str(v.quantize(Decimal("0.01")))
    return v


def _money(v: Any) -> str:
    return str(Decimal(str(v or 0)).quantize(Decimal("0.01")))


def _ratio(a: int | float, b: int | float) -> float | None:
    return round(a / b, 4) if b else None


def _seconds(session: Session, a: Any, b: Any) -> Any:
    """b - a in seconds, in SQL (both dialects)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", b - a)
    return (func.julianday(b) - func.julianday(a)) * 86400.0


def _month(session: Session, col: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(col, "YYYY-MM")
    return func.strftime("%Y-%m", col)


def _now_lit(ctx: Ctx) -> Any:
    return literal(ctx.now, type_=UTCDateTime())


def _between(col: Any, a: Any, b: Any) -> Any:
    return and_(col >= a, col < b)


def followup_days(session: Session, ctx: Ctx) -> int:
    if ctx.days:
        return ctx.days
    try:
        from sqlalchemy import inspect as sa_inspect

        from kith.reminders.models import ReminderRule

        if not sa_inspect(session.get_bind()).has_table("reminder_rules"):
            return DEFAULT_FOLLOWUP_DAYS
        rule = session.scalars(select(ReminderRule).where(ReminderRule.kind == "no_followup", ReminderRule.active.is_(True))
                               .order_by(ReminderRule.department_id.is_not(None), ReminderRule.position, ReminderRule.id)
                               .limit(1)).first()
        days = int((rule.params or {}).get("days") or 0) if rule else 0
        return days if days > 0 else DEFAULT_FOLLOWUP_DAYS
    except Exception:  # noqa: BLE001 - no reminders module (yet): the default
        return DEFAULT_FOLLOWUP_DAYS


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


# ---------------------------------------------------------------------------------------------
# the reports
# ---------------------------------------------------------------------------------------------

def _filled_expr() -> Any:
    return filled_expr(Customer, Contact)


def _rollup_conds(ctx: Ctx) -> list[Any] | None:
    """The viewer's customer scope over the rollup (ADR 0017), or None when it names records (shares,
    grants) and only the live table can answer."""
    R = RollupView
    try:
        conds = [readable(ctx.actor, R, "customer")]
    except AttributeError:
        return None
    if ctx.department_path:
        conds.append(R.department_path.startswith(ctx.department_path, autoescape=True))
    if ctx.owner_id is not None:
        conds.append(R.owner_id == ctx.owner_id)
    return conds


def _followups_by_owner(ctx: Ctx, *, previous: bool) -> tuple[dict[int, int], dict[int, int]]:
    """Follow-ups per owner in the period (and the previous one): from the per-day counts (kith.reports.followup_days)
    when they answer exactly — the viewer's days are the rollup's and the scope is over owner and department —
    else from the follow-ups themselves. Both periods are adjacent (prev_end == start): one range, split by a flag."""
    from kith.reports.followup_days import FollowupDayCount as R, FollowupDayView
    from kith.reports.stage_days import ROLLUP_TZ

    s = ctx.session
    cur: dict[int, int] = {}
    prev: dict[int, int] = {}
    conds: list[Any] | None = None
    if (ctx.actor.timezone or "Asia/Shanghai") == ROLLUP_TZ:
        try:
            conds = [readable(ctx.actor, FollowupDayView, "followup")]
        except AttributeError:
            conds = None
    if conds is not None:
        if ctx.department_path:
            conds.append(R.department_path.startswith(ctx.department_path, autoescape=True))
        if ctx.owner_id is not None:
            conds.append(R.owner_id == ctx.owner_id)
        is_cur = case((R.day >= ctx.d_start, 1), else_=0)
        rows = s.execute(select(R.owner_id, is_cur, func.sum(R.n)).where(
            *conds, R.day >= (ctx.dp_start if previous else ctx.d_start), R.day < ctx.d_end).group_by(R.owner_id, is_cur)).all()
    else:
        is_cur = case((Followup.occurred_at >= ctx.start, 1), else_=0)
        rows = s.execute(select(Followup.owner_id, is_cur, func.count()).where(
            *scoped(ctx, Followup, "followup"), _between(Followup.occurred_at, ctx.prev_start if previous else ctx.start, ctx.end))
            .group_by(Followup.owner_id, is_cur)).all()
    for o, c, n in rows:
        if n:
            (cur if c else prev)[o] = int(n)
    return cur, prev


def _tune(session: Session) -> None:
    """Big group-bys sort in memory rather than on disk; no JIT (this transaction only). The report
    queries' cost estimates cross jit_above_cost at 1M rows, and compiling them took ~1 s on this machine
    (measured: the funnel cohort query, 1.0 s of 2.9 s was JIT) for queries that run in 50-500 ms."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL work_mem = '32MB'"))
        session.execute(text("SET LOCAL jit = off"))


def _score(filled_sum: Any, n: int) -> float | None:
    return round(float(filled_sum) * 100.0 / (n * COMPLETENESS_TOTAL), 2) if n else None


def r_completeness(ctx: Ctx) -> dict[str, Any]:
    s = ctx.session
    rconds = _rollup_conds(ctx)
    if rconds is not None:
        R = CustomerCount
        rows = s.execute(select(R.owner_id, R.filled, func.sum(R.n)).where(*rconds).group_by(R.owner_id, R.filled)
                         .having(func.sum(R.n) > 0)).all()
    else:
        filled = _filled_expr().label("filled")
        sub = select(Customer.owner_id, filled).where(*scoped(ctx, Customer, "customer")).subquery()
        rows = s.execute(select(sub.c.owner_id, sub.c.filled, func.count()).group_by(sub.c.owner_id, sub.c.filled)).all()
    dist = {b[0]: 0 for b in BANDS}
    per_owner: dict[int, list[int]] = {}
    total_n = total_sum = 0
    for owner, f, n in rows:
        f = int(f)
        for name, lo, hi in BANDS:
            if lo <= f <= hi:
                dist[name] += n
        acc = per_owner.setdefault(owner, [0, 0])
        acc[0] += n
        acc[1] += f * n
        total_n += n
        total_sum += f * n
    names = _names(s, set(per_owner))
    return {
        "fields": [*COMPLETENESS_FIELDS, "contact"],
        "customers": total_n,
        "average": _score(total_sum, total_n),
        "distribution": [{"bucket": name, "customers": dist[name]} for name, _, _ in BANDS],
        "by_owner": sorted(({"owner_id": o, "owner": names.get(o), "customers": v[0], "average": _score(v[1], v[0])}
                            for o, v in per_owner.items()), key=lambda r: (-(r["average"] or 0), r["owner_id"])),
    }


def r_followup_timeliness(ctx: Ctx) -> dict[str, Any]:
    s = ctx.session
    days = followup_days(s, ctx)
    cutoff = literal(ctx.now - timedelta(days=days), type_=UTCDateTime())
    rconds = _rollup_conds(ctx)
    if rconds is not None:
        # totals from the rollup, the timely ones (a short recent range) from the covering index
        R = CustomerCount
        totals = s.execute(select(R.owner_id, func.sum(R.n)).where(*rconds).group_by(R.owner_id).having(func.sum(R.n) > 0)).all()
        recent = dict(s.execute(select(Customer.owner_id, func.count()).where(*scoped(ctx, Customer, "customer"),
                                Customer.last_followup_at >= cutoff).group_by(Customer.owner_id)).all())
        rows = [(o, int(n), recent.get(o, 0)) for o, n in totals]
    else:
        timely = func.sum(case((Customer.last_followup_at >= cutoff, 1), else_=0))
        rows = s.execute(select(Customer.owner_id, func.count(), timely).where(*scoped(ctx, Customer, "customer"))
                         .group_by(Customer.owner_id)).all()
    out: dict[str, Any] = {"days": days}
    per: dict[int, dict[str, Any]] = {}
    tot = tim = 0
    for owner, n, t in rows:
        t = int(t or 0)
        per[owner] = {"owner_id": owner, "customers": n, "timely": t, "share": _ratio(t, n)}
        tot += n
        tim += t
    out.update({"customers": tot, "timely": tim, "overdue": tot - tim, "share": _ratio(tim, tot)})
    if can(ctx.actor, "followup", "read"):
        cur, prev = _followups_by_owner(ctx, previous=True)
        out["followups"] = sum(cur.values())
        out["previous"] = {"followups": sum(prev.values())}
        for o, n in cur.items():
            per.setdefault(o, {"owner_id": o, "customers": 0, "timely": 0, "share": None})["followups"] = n
        for r in per.values():
            r.setdefault("followups", 0)
    names = _names(s, set(per))
    for r in per.values():
        r["owner"] = names.get(r["owner_id"])
    out["by_owner"] = sorted(per.values(), key=lambda r: r["owner_id"])
    return out


def r_new_customers(ctx: Ctx) -> dict[str, Any]:
    s = ctx.session
    base = scoped(ctx, Customer, "customer")

    def total(a: datetime, b: datetime) -> int:
        return int(s.scalar(select(func.count()).where(*base, _between(Customer.created_at, a, b))) or 0)

    # one scan of the period (covering index on PostgreSQL): the three breakdowns from the combinations
    combos = s.execute(select(Customer.source, Customer.industry, Customer.province, func.count()).where(
        *base, _between(Customer.created_at, ctx.start, ctx.end)).group_by(Customer.source, Customer.industry, Customer.province)).all()
    out: dict[str, Any] = {"total": sum(r[3] for r in combos), "previous": {"total": total(ctx.prev_start, ctx.prev_end)}}
    hidden = hidden_fields(ctx.actor, "customer")
    for key, i, field in (("by_source", 0, "source"), ("by_industry", 1, "industry"), ("by_region", 2, "province")):
        if field in hidden:  # a breakdown by a field the viewer may not see is absent, like the field
            continue
        acc: dict[str, int] = {}
        for r in combos:
            acc[r[i] or ""] = acc.get(r[i] or "", 0) + r[3]
        out[key] = sorted(({"bucket": v, "customers": n} for v, n in acc.items()), key=lambda r: (-r["customers"], r["bucket"]))
    return out


def _stages(ctx: Ctx) -> list[Stage]:
    s = ctx.session
    pid = ctx.params.get("pipeline_id")
    if pid not in (None, ""):
        try:
            pid = int(pid)
        except (TypeError, ValueError):
            raise validation(FieldError("pipeline_id", "invalid")) from None
        if s.get(Pipeline, pid) is None:
            raise validation(FieldError("pipeline_id", "not_found"))
    else:
        pid = s.scalar(select(Pipeline.id).order_by(Pipeline.is_default.desc(), Pipeline.position, Pipeline.id).limit(1))
    return list(s.scalars(select(Stage).where(Stage.pipeline_id == pid).order_by(Stage.position, Stage.id)))


class HistoryDealView:
    """What `kith.access.readable` and `scoped` need of a deal, mapped onto its stage-history entries' copy of the
    deal's scope (ADR 0017 part 3): `id` is the deal's id (shares name deals), `deleted_at` the deal's."""

    id = StageHistory.opportunity_id
    owner_id = StageHistory.deal_owner_id
    department_path = StageHistory.deal_department_path
    deleted_at = StageHistory.deal_deleted_at


def r_funnel(ctx: Ctx) -> dict[str, Any]:
    """Per stage: deals now in it (open stages) or closed into it in the period (won/lost), the cohort of
    deals created in the period that reached it, conversion to the next stage and average days in it."""
    s = ctx.session
    show = money(ctx.actor, "opportunity")
    stages = _stages(ctx)
    ids = [st.id for st in stages]
    O = Opportunity
    base = scoped(ctx, O, "opportunity")
    cols = [O.stage_id, func.count()] + ([func.sum(O.amount)] if show else [])
    # `open OR closed in the period` as two disjoint branches, each an index-only scan on PostgreSQL
    # (open deals by stage; closed deals by closed_at — migration 0016)
    current: dict[int, list[Any]] = {}
    for branch in (O.status == "open", and_(O.status != "open", _between(O.closed_at, ctx.start, ctx.end))):
        for r in s.execute(select(*cols).where(*base, O.stage_id.in_(ids), branch).group_by(O.stage_id)).all():
            acc = current.setdefault(r[0], [r[0], 0, None])
            acc[1] += r[1]
            if show and r[2] is not None:
                acc[2] = r[2] if acc[2] is None else acc[2] + r[2]
    # cohort: created in the period; how far each got (the highest non-lost stage it entered) — kept per
    # deal on write as Opportunity.reached_position (ADR 0017 part 3; the definition: _reached_live)
    pos = {st.id: st.position for st in stages}
    pid = stages[0].pipeline_id if stages else None
    reached_at = dict(s.execute(select(O.reached_position, func.count()).where(
        *base, O.pipeline_id == pid, O.reached_position.is_not(None), _between(O.created_at, ctx.start, ctx.end))
        .group_by(O.reached_position)).all())
    # days in stage (shown for open stages): each entry of the period until it was left (StageHistory.left_at,
    # kept on write) or now; the definition, with a window function: _avg_days_live
    open_ids = [st.id for st in stages if st.kind == "open"]
    avg_days = _avg_days_rollup(ctx, open_ids)
    if avg_days is None:
        # per entry, the deal's scope read from the entry's copy of it (no join: an index-only range scan on PostgreSQL)
        H = StageHistory
        dur = _seconds(s, H.changed_at, func.coalesce(H.left_at, _now_lit(ctx)))
        avg_days = {sid: (round(float(v) / 86400.0, 2) if v is not None else None) for sid, v in s.execute(
            select(H.to_stage_id, func.avg(dur)).where(
                *scoped(ctx, HistoryDealView, "opportunity"), H.to_stage_id.in_(open_ids),
                _between(H.changed_at, ctx.start, ctx.end)).group_by(H.to_stage_id)).all()}
    out_stages = []
    non_lost = [st for st in stages if st.kind != "lost"]
    for st in stages:
        row = current.get(st.id)
        item: dict[str, Any] = {"stage_id": st.id, "name": st.name, "name_en": st.name_en, "kind": st.kind,
                                "probability": st.probability, "count": row[1] if row else 0}
        if show:
            item["amount"] = _money(row[2] if row else 0)
        if st.kind != "lost":
            item["reached"] = sum(n for p, n in reached_at.items() if p is not None and p >= pos[st.id])
        item["avg_days_in_stage"] = avg_days.get(st.id) if st.kind == "open" else None
        out_stages.append(item)
    by_id = {i["stage_id"]: i for i in out_stages}
    for a, b in zip(non_lost, non_lost[1:]):
        by_id[a.id]["conversion_to_next"] = _ratio(by_id[b.id]["reached"], by_id[a.id]["reached"])
    return {"stages": out_stages, "cohort": by_id[non_lost[0].id]["reached"] if non_lost else 0}


def _avg_days_rollup(ctx: Ctx, open_ids: list[int]) -> dict[int, float | None] | None:
    """Average days in stage from the per-day sums (kith.reports.stage_days), or None when they cannot answer
    exactly: the viewer's day boundaries are not the rollup's (another time zone) or the scope names deals."""
    from fractions import Fraction

    from kith.reports.stage_days import ROLLUP_TZ, StageDayCount, StageDayView, now_us

    if (ctx.actor.timezone or "Asia/Shanghai") != ROLLUP_TZ:
        return None
    R = StageDayCount
    try:
        conds = [readable(ctx.actor, StageDayView, "opportunity")]
    except AttributeError:
        return None
    if ctx.department_path:
        conds.append(R.department_path.startswith(ctx.department_path, autoescape=True))
    if ctx.owner_id is not None:
        conds.append(R.owner_id == ctx.owner_id)
    now = now_us(ctx.now)
    out: dict[int, float | None] = {}
    for sid, n, n_open, closed, open_start in ctx.session.execute(
            select(R.stage_id, func.sum(R.n), func.sum(R.n_open), func.sum(R.closed_us), func.sum(R.open_start_us))
            .where(*conds, R.stage_id.in_(open_ids), R.day >= ctx.d_start, R.day < ctx.d_end).group_by(R.stage_id)).all():
        if n:
            secs = Fraction(int(closed) + int(n_open) * now - int(open_start), int(n) * 1_000_000)
            out[sid] = round(float(secs) / 86400.0, 2)
    return out


def _reached_live(ctx: Ctx, stages: list[Stage]) -> dict[int, int]:
    """{highest non-lost position reached: deals} for the cohort (deals created in the period), from the
    stage history — the definition; `r_funnel` reads the pre-aggregate `Opportunity.reached_position`."""
    s, O = ctx.session, Opportunity
    reach = (select(StageHistory.opportunity_id, func.max(Stage.position).label("p"))
             .join(Stage, Stage.id == StageHistory.to_stage_id)
             .join(O, O.id == StageHistory.opportunity_id)
             .where(*scoped(ctx, O, "opportunity"), Stage.kind != "lost",
                    Stage.pipeline_id == stages[0].pipeline_id if stages else True,
                    _between(O.created_at, ctx.start, ctx.end))
             .group_by(StageHistory.opportunity_id)).subquery()
    return {p: n for p, n in s.execute(select(reach.c.p, func.count()).group_by(reach.c.p)).all() if p is not None}


def _avg_days_live(ctx: Ctx, stages: list[Stage]) -> dict[int, float | None]:
    """{stage: average days in it} of the entries in the period, each until the deal's next change (or
    now), with the next change found by a window over the history — the definition; `r_funnel` reads
    the pre-aggregate `StageHistory.left_at`."""
    s, O = ctx.session, Opportunity
    ids = [st.id for st in stages]
    nxt = func.lead(StageHistory.changed_at).over(partition_by=StageHistory.opportunity_id,
                                                 order_by=(StageHistory.changed_at, StageHistory.id))
    h = (select(StageHistory.to_stage_id.label("sid"), StageHistory.changed_at.label("at"), nxt.label("next_at"))
         .join(O, O.id == StageHistory.opportunity_id)
         .where(*scoped(ctx, O, "opportunity"), StageHistory.to_stage_id.in_(ids), StageHistory.changed_at >= ctx.start)).subquery()
    dur = _seconds(s, h.c.at, func.coalesce(h.c.next_at, _now_lit(ctx)))
    return {sid: (round(float(v) / 86400.0, 2) if v is not None else None) for sid, v in s.execute(
        select(h.c.sid, func.avg(dur)).where(_between(h.c.at, ctx.start, ctx.end)).group_by(h.c.sid)).all()}


def r_win_rate(ctx: Ctx) -> dict[str, Any]:
    s = ctx.session
    O = Opportunity
    show = money(ctx.actor, "opportunity")
    base = scoped(ctx, O, "opportunity")
    cycle = _seconds(s, O.created_at, O.closed_at)

    def figures(a: datetime, b: datetime) -> dict[str, Any]:
        cols = [func.sum(case((O.status == "won", 1), else_=0)), func.sum(case((O.status == "lost", 1), else_=0)),
                func.avg(case((O.status == "won", cycle), else_=None))]
        if show:
            cols.append(func.sum(case((O.status == "won", O.amount), else_=0)))
        r = s.execute(select(*cols).where(*base, O.status.in_(("won", "lost")), _between(O.closed_at, a, b))).one()
        won, lost = int(r[0] or 0), int(r[1] or 0)
        f = {"won": won, "lost": lost, "win_rate": _ratio(won, won + lost),
             "avg_cycle_days": round(float(r[2]) / 86400.0, 2) if r[2] is not None else None}
        if show:
            f["won_amount"] = _money(r[3])
        return f

    return {**figures(ctx.start, ctx.end), "previous": figures(ctx.prev_start, ctx.prev_end)}


def r_forecast(ctx: Ctx) -> dict[str, Any]:
    """Open deals expected to close in the period, by month: count, amount, amount × stage probability."""
    s = ctx.session
    O = Opportunity
    show = money(ctx.actor, "opportunity")
    month = _month(s, O.expected_close_date).label("month")
    cols = [month, func.count()]
    if show:
        cols += [func.sum(O.amount), func.sum(O.amount * Stage.probability / 100.0)]
    rows = s.execute(select(*cols).join(Stage, Stage.id == O.stage_id).where(
        *scoped(ctx, O, "opportunity"), O.status == "open", O.expected_close_date >= ctx.d_start,
        O.expected_close_date < ctx.d_end).group_by(month).order_by(month)).all()
    months = []
    for r in rows:
        m: dict[str, Any] = {"bucket": r[0], "count": r[1]}
        if show:
            m["amount"], m["weighted_amount"] = _money(r[2]), _money(r[3])
        months.append(m)
    out: dict[str, Any] = {"months": months, "count": sum(m["count"] for m in months)}
    if show:
        out["amount"] = _money(sum(Decimal(m["amount"]) for m in months))
        out["weighted_amount"] = _money(sum(Decimal(m["weighted_amount"]) for m in months))
    return out


def r_ranking(ctx: Ctx) -> dict[str, Any]:
    s = ctx.session
    O = Opportunity
    show = money(ctx.actor, "opportunity")
    per: dict[int, dict[str, Any]] = {}

    def put(rows: list[Any], keys: tuple[str, ...]) -> None:
        for r in rows:
            item = per.setdefault(r[0], {"owner_id": r[0]})
            for k, v in zip(keys, r[1:]):
                item[k] = _money(v) if k.endswith("amount") else int(v or 0)

    keys: tuple[str, ...] = ("won",)
    if can(ctx.actor, "opportunity", "read"):
        cols = [O.owner_id, func.count()] + ([func.sum(O.amount)] if show else [])
        keys = ("won", "won_amount") if show else ("won",)
        put(s.execute(select(*cols).where(*scoped(ctx, O, "opportunity"), O.status == "won",
                                          _between(O.closed_at, ctx.start, ctx.end)).group_by(O.owner_id)).all(), keys)
    if can(ctx.actor, "customer", "read"):
        put(s.execute(select(Customer.owner_id, func.count()).where(*scoped(ctx, Customer, "customer"), _between(
            Customer.created_at, ctx.start, ctx.end)).group_by(Customer.owner_id)).all(), ("new_customers",))
    if can(ctx.actor, "followup", "read"):
        put(list(_followups_by_owner(ctx, previous=False)[0].items()), ("followups",))
    names = _names(s, set(per))
    fields = [*keys, "new_customers", "followups"]
    for r in per.values():
        r["owner"] = names.get(r["owner_id"])
        for k in fields:
            r.setdefault(k, "0.00" if k.endswith("amount") else 0)
    sort_key = "won_amount" if show else "won"
    rows = sorted(per.values(), key=lambda r: (-float(r[sort_key]), -r["new_customers"], -r["followups"], r["owner_id"]))
    totals: dict[str, Any] = {k: (_money(sum(Decimal(r[k]) for r in rows)) if k.endswith("amount") else sum(r[k] for r in rows))
                              for k in fields}
    return {"rows": rows, "totals": totals}


def r_contracts_payments(ctx: Ctx) -> dict[str, Any]:
    """Three range scans (contracts by sign date, payments by received date, plans by due date), each over
    the previous and the current period together (adjacent: dp_end == d_start) and split by a flag; the
    months come from the contracts scan."""
    s = ctx.session
    K = Contract
    show_c, show_p = money(ctx.actor, "contract"), money(ctx.actor, "payment") and money(ctx.actor, "contract")
    kbase = scoped(ctx, K, "contract")
    a, m, b = ctx.dp_start, ctx.d_start, ctx.d_end

    def zero() -> dict[str, Any]:
        return {"n": 0, "amount": Decimal(0), "any": False}

    def add(acc: dict[str, Any], n: int, amount: Any) -> None:
        acc["n"] += n
        if amount is not None:
            acc["amount"] += Decimal(str(amount))
            acc["any"] = True

    k_cur = case((K.sign_date >= m, 1), else_=0)
    month = _month(s, K.sign_date)
    cols = [k_cur, month, func.count()] + ([func.sum(K.amount)] if show_c else [])
    kfig = {0: zero(), 1: zero()}
    months: dict[str, dict[str, Any]] = {}
    for r in s.execute(select(*cols).where(*kbase, K.sign_date >= a, K.sign_date < b).group_by(k_cur, month)).all():
        add(kfig[int(r[0])], r[2], r[3] if show_c else None)
        if int(r[0]):
            add(months.setdefault(r[1], zero()), r[2], r[3] if show_c else None)

    pfig: dict[str, dict[int, dict[str, Any]]] = {}
    if can(ctx.actor, "payment", "read"):
        # payments and plan instalments of both periods (index-only range scans) in one UNION ALL, joined
        # once to the contracts for the scope
        u = union_all(
            select(literal(0).label("kind"), Payment.contract_id.label("cid"), Payment.amount.label("amount"),
                   Payment.received_on.label("d")).where(Payment.received_on >= a, Payment.received_on < b),
            select(literal(1).label("kind"), PaymentPlan.contract_id.label("cid"), PaymentPlan.amount.label("amount"),
                   PaymentPlan.due_date.label("d")).where(PaymentPlan.due_date >= a, PaymentPlan.due_date < b),
        ).subquery()
        flag = case((u.c.d >= m, 1), else_=0)
        cols = [u.c.kind, flag, func.count()] + ([func.sum(u.c.amount)] if show_p else [])
        pfig = {"payments": {0: zero(), 1: zero()}, "planned": {0: zero(), 1: zero()}}
        if isinstance(readable(ctx.actor, K, "contract"), True_) and not ctx.department_path and ctx.owner_id is None:
            # every contract is in scope: all rows of the range (no join) minus those of deleted contracts (few,
            # by index) — the same sums without hashing the contracts table
            parts = [(1, select(*cols).select_from(u)),
                     (-1, select(*cols).select_from(u).join(K, K.id == u.c.cid).where(K.deleted_at.is_not(None)))]
        else:
            parts = [(1, select(*cols).select_from(u).join(K, K.id == u.c.cid).where(*kbase))]
        for sign, q in parts:
            for r in s.execute(q.group_by(u.c.kind, flag)).all():
                amount = r[3] if show_p else None
                add(pfig["planned" if int(r[0]) else "payments"][int(r[1])], sign * r[2],
                    -amount if sign < 0 and amount is not None else amount)

    def figures(cur: int) -> dict[str, Any]:
        f: dict[str, Any] = {"contracts": kfig[cur]["n"]}
        if show_c:
            f["contract_amount"] = _money(kfig[cur]["amount"])
        if pfig:
            pay, plan = pfig["payments"][cur], pfig["planned"][cur]
            f["payments"] = pay["n"]
            f["planned"] = plan["n"]
            if show_p:
                f["received_amount"], f["planned_amount"] = _money(pay["amount"]), _money(plan["amount"])
                f["collection_rate"] = _ratio(float(pay["amount"]), float(plan["amount"]))
        return f

    out = figures(1)
    out["previous"] = figures(0)
    out["by_month"] = [{"bucket": k, "contracts": v["n"], **({"contract_amount": _money(v["amount"])} if show_c else {})}
                       for k, v in sorted(months.items())]
    return out


def _pool_events(ctx: Ctx, types: tuple[str, ...], a: datetime, b: datetime) -> Any:
    return (select(Event).join(Customer, Customer.id == Event.customer_id)
            .where(Event.type.in_(types), _between(Event.occurred_at, a, b), *scoped(ctx, Customer, "customer")))


def r_pool(ctx: Ctx) -> dict[str, Any]:
    """Inflow and claims of the period and the previous one: one pass over the pool events of both periods (joined
    once to the customers for the scope) instead of one per figure."""
    lo, hi = min(ctx.start, ctx.prev_start), max(ctx.end, ctx.prev_end)
    types = POOL_INFLOW + POOL_CLAIM
    inner = _pool_events(ctx, types, lo, hi).with_only_columns(Event.type, Event.occurred_at).subquery()

    def n(kinds: tuple[str, ...], a: datetime, b: datetime) -> Any:
        return func.coalesce(func.sum(case((and_(inner.c.type.in_(kinds), _between(inner.c.occurred_at, a, b)), 1), else_=0)), 0)

    row = ctx.session.execute(select(n(POOL_INFLOW, ctx.start, ctx.end), n(POOL_CLAIM, ctx.start, ctx.end),
                                     n(POOL_INFLOW, ctx.prev_start, ctx.prev_end), n(POOL_CLAIM, ctx.prev_start, ctx.prev_end))
                              .select_from(inner)).one()
    return {"inflow": int(row[0]), "claims": int(row[1]), "previous": {"inflow": int(row[2]), "claims": int(row[3])}}


# name -> (compute, modules the viewer must be able to read)
REPORTS: dict[str, tuple[Callable[[Ctx], dict[str, Any]], tuple[str, ...]]] = {
    "completeness": (r_completeness, ("customer",)),
    "followup_timeliness": (r_followup_timeliness, ("customer",)),
    "new_customers": (r_new_customers, ("customer",)),
    "funnel": (r_funnel, ("opportunity",)),
    "win_rate": (r_win_rate, ("opportunity",)),
    "forecast": (r_forecast, ("opportunity",)),
    "ranking": (r_ranking, ("customer",)),
    "contracts_payments": (r_contracts_payments, ("contract",)),
    "pool": (r_pool, ("customer",)),
}


def available(actor: Actor) -> list[str]:
    if not can(actor, "report", "read"):
        return []
    return [name for name, (_f, mods) in REPORTS.items() if all(can(actor, m, "read") for m in mods)]


def check(actor: Actor, name: str) -> None:
    if name not in REPORTS:
        raise KithError(404, "not_found")
    if name not in available(actor):
        raise KithError(403, "forbidden")


def run(session: Session, actor: Actor, name: str, params: dict[str, Any], *, use_cache: bool = True) -> dict[str, Any]:
    from kith.reports import cache

    check(actor, name)
    ctx = resolve(session, actor, params)
    lang = actor.language if actor.language in ("zh-CN", "en") else "zh-CN"

    def compute() -> dict[str, Any]:
        _tune(session)
        data = REPORTS[name][0](ctx)
        return {
            "report": name,
            "title": TITLES[name][0 if lang == "zh-CN" else 1],
            "period": {"period": ctx.period, "from": ctx.d_start.isoformat(), "to": (ctx.d_end - timedelta(days=1)).isoformat(),
                       "previous_from": ctx.dp_start.isoformat(), "previous_to": (ctx.dp_end - timedelta(days=1)).isoformat()},
            "filters": {"department_id": ctx.params.get("department_id"), "owner_id": ctx.owner_id},
            "money_visible": any(money(actor, m) for m in ("opportunity", "contract", "payment")),
            "data": data,
            "generated_at": clock.now().isoformat(),
        }

    if not use_cache:
        return compute()
    return cache.cached(name, {**ctx.key(), "lang": lang, "extra": {k: str(v) for k, v in sorted(ctx.params.items())}}, actor, compute)


# ---------------------------------------------------------------------------------------------
# drill-down: the records behind a figure
# ---------------------------------------------------------------------------------------------

def _bucket_owner(bucket: str, prefix: str) -> int:
    try:
        return int(bucket[len(prefix):])
    except ValueError:
        raise validation(FieldError("bucket", "invalid")) from None


def records(session: Session, actor: Actor, name: str, params: dict[str, Any], bucket: str | None, *, limit: int,
            offset: int) -> dict[str, Any]:
    check(actor, name)
    ctx = resolve(session, actor, params)
    bucket = bucket or ""
    bad = validation(FieldError("bucket", "invalid"))
    C, O = Customer, Opportunity
    entity = "customer"
    extra_cols: list[Any] = []
    if name in ("completeness", "followup_timeliness", "new_customers", "pool") or (name == "ranking" and bucket.startswith("new:")):
        conds = scoped(ctx, C, "customer")
        model: Any = C
        if name == "completeness":
            filled = _filled_expr()
            extra_cols = [filled.label("filled")]
            if bucket:
                band = next((b for b in BANDS if b[0] == bucket), None)
                if band is None:
                    raise bad
                conds.append(filled.between(band[1], band[2]))
        elif name == "followup_timeliness":
            if bucket.startswith("followups:"):
                entity, model = "followup", Followup
                conds = [*scoped(ctx, Followup, "followup"), _between(Followup.occurred_at, ctx.start, ctx.end),
                         Followup.owner_id == _bucket_owner(bucket, "followups:")]
                if not can(actor, "followup", "read"):
                    raise KithError(403, "forbidden")
            else:
                cutoff = ctx.now - timedelta(days=followup_days(session, ctx))
                if bucket == "timely":
                    conds.append(C.last_followup_at >= cutoff)
                elif bucket == "overdue":
                    conds.append(or_(C.last_followup_at.is_(None), C.last_followup_at < cutoff))
                elif bucket.startswith("owner:"):
                    conds.append(C.owner_id == _bucket_owner(bucket, "owner:"))
                elif bucket:
                    raise bad
        elif name == "new_customers":
            conds.append(_between(C.created_at, ctx.start, ctx.end))
            if bucket:
                kind, _, value = bucket.partition(":")
                col = {"source": C.source, "industry": C.industry, "region": C.province}.get(kind)
                if col is None:
                    raise bad
                check_filter(actor, "customer", col.key)  # filtering by a hidden field is an oracle: 403
                conds.append(col == value if value else or_(col.is_(None), col == ""))
        elif name == "pool":
            types = {"inflow": POOL_INFLOW, "claims": POOL_CLAIM}.get(bucket)
            if types is None:
                raise bad
            conds.append(C.id.in_(select(Event.customer_id).where(Event.type.in_(types),
                                                                  _between(Event.occurred_at, ctx.start, ctx.end))))
        else:  # ranking new:<owner>
            conds += [_between(C.created_at, ctx.start, ctx.end), C.owner_id == _bucket_owner(bucket, "new:")]
    elif name in ("funnel", "win_rate", "forecast") or (name == "ranking" and bucket.startswith("won:")):
        entity, model = "opportunity", O
        conds = scoped(ctx, O, "opportunity")
        if name == "funnel":
            try:
                sid = int(bucket)
            except ValueError:
                raise bad from None
            conds += [O.stage_id == sid, or_(O.status == "open", _between(O.closed_at, ctx.start, ctx.end))]
        elif name == "win_rate":
            if bucket not in ("won", "lost"):
                raise bad
            conds += [O.status == bucket, _between(O.closed_at, ctx.start, ctx.end)]
        elif name == "forecast":
            conds += [O.status == "open", O.expected_close_date >= ctx.d_start, O.expected_close_date < ctx.d_end]
            if bucket:
                conds.append(_month(session, O.expected_close_date) == bucket)
        else:
            conds += [O.status == "won", _between(O.closed_at, ctx.start, ctx.end), O.owner_id == _bucket_owner(bucket, "won:")]
    elif name == "ranking" and bucket.startswith("followups:"):
        entity, model = "followup", Followup
        conds = [*scoped(ctx, Followup, "followup"), _between(Followup.occurred_at, ctx.start, ctx.end),
                 Followup.owner_id == _bucket_owner(bucket, "followups:")]
    elif name == "contracts_payments":
        kbase = scoped(ctx, Contract, "contract")
        if bucket == "contracts":
            entity, model = "contract", Contract
            conds = [*kbase, Contract.sign_date >= ctx.d_start, Contract.sign_date < ctx.d_end]
        elif bucket in ("payments", "plans"):
            if not can(actor, "payment", "read"):
                raise KithError(403, "forbidden")
            entity = "payment" if bucket == "payments" else "payment_plan"
            model = Payment if bucket == "payments" else PaymentPlan
            col = Payment.received_on if bucket == "payments" else PaymentPlan.due_date
            conds = [model.contract_id.in_(select(Contract.id).where(*kbase)), col >= ctx.d_start, col < ctx.d_end]
        else:
            raise bad
    else:
        raise bad

    total = int(session.scalar(select(func.count()).select_from(model).where(*conds)) or 0)
    rows = session.execute(select(model, *extra_cols).where(*conds).order_by(model.id).limit(limit).offset(offset)).all()
    items = [_record(actor, entity, r[0], r[1] if extra_cols else None) for r in rows]
    return {"entity": entity, "items": items, "total": total, "limit": limit, "offset": offset}


def _record(actor: Actor, entity: str, obj: Any, filled: Any) -> dict[str, Any]:
    """A drill-down row without the fields hidden from the viewer (absent, as in the record's own API)."""
    module = "payment" if entity == "payment_plan" else entity
    return strip(actor, module, _record_fields(actor, entity, obj, filled))


def _record_fields(actor: Actor, entity: str, obj: Any, filled: Any) -> dict[str, Any]:
    def iso(v: Any) -> Any:
        return v.isoformat() if isinstance(v, (date, datetime)) else v

    if entity == "customer":
        d: dict[str, Any] = {"id": obj.id, "name": obj.name, "industry": obj.industry, "source": obj.source, "level": obj.level,
                             "province": obj.province, "owner_id": obj.owner_id, "created_at": iso(obj.created_at),
                             "last_followup_at": iso(obj.last_followup_at)}
        if filled is not None:
            d["completeness"] = round(int(filled) * 100.0 / COMPLETENESS_TOTAL, 2)
        return d
    if entity == "opportunity":
        d = {"id": obj.id, "name": obj.name, "customer_id": obj.customer_id, "stage_id": obj.stage_id, "status": obj.status,
             "expected_close_date": iso(obj.expected_close_date), "closed_at": iso(obj.closed_at), "owner_id": obj.owner_id,
             "created_at": iso(obj.created_at)}
        if money(actor, "opportunity"):
            d["amount"] = _money(obj.amount) if obj.amount is not None else None
        return d
    if entity == "followup":
        return {"id": obj.id, "customer_id": obj.customer_id, "type": obj.type, "content": obj.content,
                "occurred_at": iso(obj.occurred_at), "owner_id": obj.owner_id}
    if entity == "contract":
        d = {"id": obj.id, "number": obj.number, "title": obj.title, "customer_id": obj.customer_id, "status": obj.status,
             "sign_date": iso(obj.sign_date), "owner_id": obj.owner_id}
        if money(actor, "contract"):
            d["amount"] = _money(obj.amount)
        return d
    d = {"id": obj.id, "contract_id": obj.contract_id}
    d.update({"received_on": iso(obj.received_on)} if entity == "payment" else {"due_date": iso(obj.due_date)})
    if money(actor, "payment") and money(actor, "contract"):
        d["amount"] = _money(obj.amount)
    return d


# ---------------------------------------------------------------------------------------------
# export, dashboards, weekly summary
# ---------------------------------------------------------------------------------------------

def table_rows(payload: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The payload as sheets of flat rows (scalars first, then each list of records)."""
    data = payload["data"]
    summary: dict[str, Any] = {"report": payload["report"], "period_from": payload["period"]["from"],
                               "period_to": payload["period"]["to"]}
    sheets: list[tuple[str, list[dict[str, Any]]]] = []
    for k, v in data.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            sheets.append((k, [{kk: vv for kk, vv in r.items() if not isinstance(vv, (dict, list))} for r in v]))
        elif isinstance(v, dict):
            for kk, vv in v.items():
                if not isinstance(vv, (dict, list)):
                    summary[f"{k}.{kk}"] = vv
        elif not isinstance(v, list):
            summary[k] = v
    return [("summary", [summary]), *sheets]


def xlsx(payload: dict[str, Any]) -> bytes:
    import io

    from openpyxl import Workbook

    from kith.core.export import neutralise

    wb = Workbook(write_only=True)
    for title, rows in table_rows(payload):
        ws = wb.create_sheet(title[:31])
        cols: list[str] = []
        for r in rows:
            cols += [c for c in r if c not in cols]
        ws.append(cols)
        for r in rows:
            ws.append([neutralise(r.get(c)) for c in cols])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


ROLE_DASHBOARDS: list[tuple[str, list[str]]] = [
    ("admin", list(REPORTS)),
    ("sales_manager", ["funnel", "win_rate", "forecast", "ranking", "followup_timeliness", "new_customers", "contracts_payments"]),
    ("finance", ["contracts_payments", "forecast", "win_rate"]),
    ("marketing", ["new_customers", "completeness", "pool"]),
    ("sales_rep", ["followup_timeliness", "funnel", "forecast", "new_customers", "ranking"]),
]


def default_dashboard(actor: Actor) -> tuple[str, list[str]]:
    ok = set(available(actor))
    for role, charts in ROLE_DASHBOARDS:
        if role in actor.roles:
            return role, [c for c in charts if c in ok]
    return "default", [c for c in REPORTS if c in ok]


def weekly_summary(session: Session, now: datetime | None = None) -> dict[str, Any]:
    """Every Monday: each department manager gets their subtree's last week (in-app + what notify() sends)."""
    from kith.access import load_actor
    from kith.notifications.service import notify

    now = now or clock.now()
    sent = 0
    managers = session.execute(select(Department.id, Department.manager_id, Department.name)
                               .where(Department.manager_id.is_not(None)).order_by(Department.id)).all()
    for dept_id, manager_id, dept_name in managers:
        user = session.get(User, manager_id)
        if user is None or not user.is_active:
            continue
        actor = load_actor(session, user)
        if "new_customers" not in available(actor) or "followup_timeliness" not in available(actor):
            continue
        tz = ZoneInfo(actor.timezone or "Asia/Shanghai")
        today = now.astimezone(tz).date()
        monday = today - timedelta(days=today.weekday())
        params = {"period": "custom", "from": (monday - timedelta(days=7)).isoformat(),
                  "to": (monday - timedelta(days=1)).isoformat(), "department_id": dept_id}
        new = run(session, actor, "new_customers", params, use_cache=False)["data"]
        fu = run(session, actor, "followup_timeliness", params, use_cache=False)["data"]
        figures: dict[str, Any] = {"department": dept_name, "from": params["from"], "to": params["to"],
                                   "new_customers": new["total"], "followups": fu.get("followups", 0),
                                   "timely_share": f"{round((fu['share'] or 0) * 100)}%"}
        figures["won"] = 0
        if "win_rate" in available(actor):
            wr = run(session, actor, "win_rate", params, use_cache=False)["data"]
            figures["won"] = wr["won"]
            if "won_amount" in wr:
                figures["won_amount"] = wr["won_amount"]
        notify(session, [user.id], "weekly_summary", figures, link="/reports", entity_type="department", entity_id=dept_id)
        sent += 1
    return {"sent": sent}
