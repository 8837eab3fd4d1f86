"""Exact per-day follow-up counts for follow-up timeliness and the ranking (ADR 0017, part 4).

`report_followup_days` holds, for live follow-ups (`deleted_at IS NULL`), the number per (local day of
`occurred_at` in ROLLUP_TZ, owner, department path, whether the follow-up's customer is in the pool). The
pool flag is part of the key because the access gate keeps a pooled customer's follow-ups out of owner and
department scopes (ADR 0023): the reports read the same rows the live query would count.

Kept exact without any caller having to remember it:
- ORM flushes: follow-ups inserted, updated (day, owner, department, deletion, customer) or deleted, and
  customers whose `pool_entered_at` changed (their follow-ups flip the pool flag). The affected follow-ups'
  contributions are read before the flush and after it, and the difference applied as `n = n + delta`
  upserts in the same transaction.
- DML on the `followups` table through a Session (`session.execute(insert|update|delete …)`: imports, merges,
  transfers, department moves): an UPDATE or DELETE reads the matching rows' contributions first, then the
  same rows' after it; an INSERT adds the contributions of its parameter rows.
- Anything else (COPY, raw connections, migrations' backfill): call `rebuild(conn)`.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timezone
from itertools import chain
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, SmallInteger, String, case, delete, event, inspect, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from kith.activities.models import Followup
from kith.customers.models import Customer
from kith.db.base import Base, BigID
from kith.reports.stage_days import ROLLUP_TZ
from kith.reports.upsert import add_deltas, table_present

_TZ = ZoneInfo(ROLLUP_TZ)
_KEYS = ("occurred_at", "owner_id", "department_path", "deleted_at", "customer_id")

Key = tuple[date, int, str, int]


class FollowupDayCount(Base):
    __tablename__ = "report_followup_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    owner_id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=False)
    department_path: Mapped[str] = mapped_column(String(255), primary_key=True)
    pooled: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class FollowupDayView:
    """What `kith.access.readable` needs of the follow-up module, over the rollup's columns. No `customer_id`:
    a scope that names customers (shares, grants) raises AttributeError -> the live query answers."""

    owner_id = FollowupDayCount.owner_id
    department_path = FollowupDayCount.department_path
    parent_pooled = FollowupDayCount.pooled


def _day(dt: datetime) -> date:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(_TZ).date()


def _rows(conn: Any, where: Any) -> Iterable[tuple[int, datetime, int, str, Any]]:
    F = Followup.__table__
    C = Customer.__table__
    return conn.execute(select(F.c.id, F.c.occurred_at, F.c.owner_id, F.c.department_path,
                               case((C.c.pool_entered_at.is_(None), 0), else_=1))
                        .select_from(F.outerjoin(C, C.c.id == F.c.customer_id))
                        .where(F.c.deleted_at.is_(None), where))


def contributions(conn: Any, ids: Iterable[int]) -> Counter[Key]:
    """The given follow-ups' current share of the rollup."""
    F = Followup.__table__
    ids = sorted({i for i in ids if i is not None})
    acc: Counter[Key] = Counter()
    for i in range(0, len(ids), 500):
        for _id, occurred, owner, path, pooled in _rows(conn, F.c.id.in_(ids[i:i + 500])):
            acc[(_day(occurred), owner, path or "/", int(pooled))] += 1
    return acc


def apply(conn: Any, before: Counter[Key], after: Counter[Key]) -> None:
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after)}
    delta = {k: v for k, v in delta.items() if v}
    if not delta:
        return
    T = FollowupDayCount.__table__
    rows = [{"day": k[0], "owner_id": k[1], "department_path": k[2], "pooled": k[3], "n": v} for k, v in sorted(delta.items())]
    add_deltas(conn, T, ["day", "owner_id", "department_path", "pooled"], ["n"], rows, any(v < 0 for v in delta.values()))


def has_table(conn: Any) -> bool:
    return table_present(conn, "report_followup_days")


def rebuild(conn: Any) -> None:
    """Recount from the follow-ups (migration backfill, bulk loads)."""
    T = FollowupDayCount.__table__
    conn.execute(delete(T))
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"""
            INSERT INTO report_followup_days (day, owner_id, department_path, pooled, n)
            SELECT (f.occurred_at AT TIME ZONE '{ROLLUP_TZ}')::date, f.owner_id, COALESCE(f.department_path, '/'),
                   CASE WHEN c.pool_entered_at IS NULL THEN 0 ELSE 1 END, count(*)
            FROM followups f LEFT JOIN customers c ON c.id = f.customer_id
            WHERE f.deleted_at IS NULL
            GROUP BY 1, 2, 3, 4"""))
        return
    acc: Counter[Key] = Counter()
    for _id, occurred, owner, path, pooled in _rows(conn, Followup.__table__.c.id.is_not(None)):
        acc[(_day(occurred), owner, path or "/", int(pooled))] += 1
    apply(conn, Counter(), acc)


# ---------------------------------------------------------------------------------------------
# ORM flushes
# ---------------------------------------------------------------------------------------------

def _changed(obj: Any, names: Iterable[str]) -> bool:
    st = inspect(obj)
    return any(st.attrs[n].history.has_changes() for n in names if n in st.attrs)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _ctx: Any, _instances: Any) -> None:
    ids: set[int] = set()
    pool_flips: list[int] = []
    new = any(isinstance(o, Followup) for o in session.new)
    for obj in chain(session.dirty, session.deleted):
        if isinstance(obj, Followup) and obj.id is not None and (obj in session.deleted or _changed(obj, _KEYS)):
            ids.add(obj.id)
        elif isinstance(obj, Customer) and obj.id is not None and _changed(obj, ("pool_entered_at",)):
            pool_flips.append(obj.id)
    if not ids and not pool_flips and not new:
        return
    conn = session.connection()
    if not has_table(conn):
        return
    if pool_flips:
        F = Followup.__table__
        ids |= set(conn.execute(select(F.c.id).where(F.c.customer_id.in_(sorted(pool_flips)))).scalars())
    session.info["kith_followup_days"] = (ids, contributions(conn, ids))


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _ctx: Any) -> None:
    pending = session.info.pop("kith_followup_days", None)
    if pending is None:
        return
    ids, before = pending
    ids = set(ids) | {o.id for o in session.new if isinstance(o, Followup) and o.id is not None}
    conn = session.connection()
    apply(conn, before, contributions(conn, ids))


# ---------------------------------------------------------------------------------------------
# DML through a Session
# ---------------------------------------------------------------------------------------------

@event.listens_for(Session, "do_orm_execute")
def _followup_dml(state: Any) -> Any:
    if not (state.is_insert or state.is_update or state.is_delete):
        return None
    stmt = state.statement
    table = getattr(stmt, "table", None)
    if getattr(table, "name", None) != "followups":
        return None
    conn = state.session.connection()
    if not has_table(conn):
        return None
    params = state.parameters
    many = isinstance(params, (list, tuple))
    F = Followup.__table__
    if state.is_insert:
        result = state.invoke_statement()
        rows = params if many else [params or {}]
        if not rows or not all(isinstance(r, dict) and "occurred_at" in r for r in rows):
            rebuild(conn)  # values given some other way (a multi-values construct): recount
            return result
        parents = sorted({r.get("customer_id") for r in rows if r.get("customer_id") is not None})
        pooled: dict[int, int] = {}
        C = Customer.__table__
        for i in range(0, len(parents), 500):
            pooled.update(conn.execute(select(C.c.id, case((C.c.pool_entered_at.is_(None), 0), else_=1))
                                       .where(C.c.id.in_(parents[i:i + 500]))).all())
        acc: Counter[Key] = Counter()
        for r in rows:
            if r.get("deleted_at") is None and r.get("occurred_at") is not None and r.get("owner_id") is not None:
                acc[(_day(r["occurred_at"]), r["owner_id"], r.get("department_path") or "/",
                     int(pooled.get(r.get("customer_id"), 0)))] += 1
        apply(conn, Counter(), acc)
        return result
    where = stmt.whereclause
    if many or where is None:
        result = state.invoke_statement()
        rebuild(conn)  # per-row parameters or the whole table: recount
        return result
    ids = list(conn.execute(select(F.c.id).where(where)).scalars())
    if not ids:
        return None
    before = contributions(conn, ids)
    result = state.invoke_statement()
    apply(conn, before, contributions(conn, ids))
    return result


__all__ = ["FollowupDayCount", "FollowupDayView", "apply", "contributions", "has_table", "rebuild"]
