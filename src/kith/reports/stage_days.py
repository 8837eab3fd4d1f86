"""Exact per-day sums of the funnel's stage entries (ADR 0017 part 3).

`report_stage_days` holds, for the stage-history entries of live deals, per (local day of the entry in
ROLLUP_TZ, stage, deal owner, deal department path): the number of entries, how many are still open
(`left_at` NULL), the summed durations of the left ones and the summed start instants of the open ones,
both in integer microseconds. The average days in a stage over any period made of whole local days is then

    (closed_us + n_open · now_us − open_start_us) / n

read from a few thousand rows instead of every entry of the period — exactly the live definition (each
entry until the deal's next change, or now).

Kept exact on every ORM flush by the stage-history listener in `kith.opportunities.models`: the affected
deals' contributions are read before the flush and after it (once left_at and the scope copy are
current) and the difference is applied as `+= delta` upserts in the same transaction. Core DML: read
`contributions(conn, ids)` before, call `refresh(conn, ids, before)` after; bulk loads call `rebuild(conn)`.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timezone
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Date, Integer, String, delete, select, text
from sqlalchemy.orm import Mapped, mapped_column

from kith.db.base import Base, BigID
from kith.opportunities.models import StageHistory
from kith.reports.upsert import add_deltas, table_present

ROLLUP_TZ = "Asia/Shanghai"  # the default user time zone; actors in another zone get the per-entry query
_TZ = ZoneInfo(ROLLUP_TZ)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class StageDayCount(Base):
    __tablename__ = "report_stage_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    stage_id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=False)
    owner_id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=False)
    department_path: Mapped[str] = mapped_column(String(255), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    n_open: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    closed_us: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    open_start_us: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class StageDayView:
    """What `kith.access.readable` needs, over the rollup's columns. No `id`: a scope naming deals (shares)
    raises AttributeError -> the per-entry query."""

    owner_id = StageDayCount.owner_id
    department_path = StageDayCount.department_path


Key = tuple[date, int, int, str]


def _us(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return (dt - _EPOCH) // _ONE_US


_ONE_US = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc) - _EPOCH


def _add(acc: dict[Key, list[int]], key: Key, changed_at: datetime, left_at: datetime | None, sign: int = 1) -> None:
    v = acc.setdefault(key, [0, 0, 0, 0])
    v[0] += sign
    if left_at is None:
        v[1] += sign
        v[3] += sign * _us(changed_at)
    else:
        v[2] += sign * (_us(left_at) - _us(changed_at))


def _day(dt: datetime) -> date:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(_TZ).date()


def contributions(conn: Any, deal_ids: Iterable[int]) -> dict[Key, list[int]]:
    """The given deals' current share of the rollup: {key: [n, n_open, closed_us, open_start_us]}."""
    H = StageHistory.__table__
    ids = sorted({i for i in deal_ids if i is not None})
    acc: dict[Key, list[int]] = {}
    for i in range(0, len(ids), 500):
        for changed, left, stage, owner, path in conn.execute(
                select(H.c.changed_at, H.c.left_at, H.c.to_stage_id, H.c.deal_owner_id, H.c.deal_department_path)
                .where(H.c.opportunity_id.in_(ids[i:i + 500]), H.c.deal_deleted_at.is_(None))):
            if owner is None:  # not synced yet (a database written before 0017's listener)
                continue
            _add(acc, (_day(changed), stage, owner, path or "/"), changed, left)
    return acc


def apply(conn: Any, before: dict[Key, list[int]], after: dict[Key, list[int]]) -> None:
    delta: dict[Key, list[int]] = {}
    for k in set(before) | set(after):
        a, b = before.get(k, [0, 0, 0, 0]), after.get(k, [0, 0, 0, 0])
        d = [y - x for x, y in zip(a, b)]
        if any(d):
            delta[k] = d
    if not delta:
        return
    T = StageDayCount.__table__
    rows = [{"day": k[0], "stage_id": k[1], "owner_id": k[2], "department_path": k[3], "n": v[0], "n_open": v[1],
             "closed_us": v[2], "open_start_us": v[3]} for k, v in sorted(delta.items())]
    add_deltas(conn, T, ["day", "stage_id", "owner_id", "department_path"], ["n", "n_open", "closed_us", "open_start_us"], rows,
               any(v[0] < 0 for v in delta.values()))


def has_table(conn: Any) -> bool:
    return table_present(conn, "report_stage_days")


def rebuild(conn: Any) -> None:
    """Recount from the stage history (migration backfill, bulk loads, bulk DML on opportunities)."""
    T = StageDayCount.__table__
    conn.execute(delete(T))
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"""
            INSERT INTO report_stage_days (day, stage_id, owner_id, department_path, n, n_open, closed_us, open_start_us)
            SELECT (changed_at AT TIME ZONE '{ROLLUP_TZ}')::date, to_stage_id, deal_owner_id, COALESCE(deal_department_path, '/'),
                   count(*), count(*) FILTER (WHERE left_at IS NULL),
                   COALESCE(sum((extract(epoch FROM left_at - changed_at) * 1000000)::bigint) FILTER (WHERE left_at IS NOT NULL), 0),
                   COALESCE(sum((extract(epoch FROM changed_at) * 1000000)::bigint) FILTER (WHERE left_at IS NULL), 0)
            FROM opportunity_stage_history
            WHERE deal_deleted_at IS NULL AND deal_owner_id IS NOT NULL
            GROUP BY 1, 2, 3, 4"""))
        return
    H = StageHistory.__table__
    acc: dict[Key, list[int]] = {}
    for changed, left, stage, owner, path in conn.execute(
            select(H.c.changed_at, H.c.left_at, H.c.to_stage_id, H.c.deal_owner_id, H.c.deal_department_path)
            .where(H.c.deal_deleted_at.is_(None), H.c.deal_owner_id.is_not(None))):
        _add(acc, (_day(changed), stage, owner, path or "/"), changed, left)
    apply(conn, {}, acc)


def refresh(conn: Any, deal_ids: Iterable[int], before: dict[Key, list[int]]) -> None:
    """For Core DML on stage history or on deals' scope columns: pass `contributions(conn, ids)` read before
    the statement; recomputes the derived columns of those deals and applies the difference."""
    from kith.opportunities.models import refresh_stage_aggregates

    ids = set(deal_ids)
    refresh_stage_aggregates(conn, ids)
    apply(conn, before, contributions(conn, ids))


def now_us(now: datetime) -> int:
    return _us(now)


__all__ = ["ROLLUP_TZ", "StageDayCount", "StageDayView", "apply", "contributions", "has_table", "now_us", "rebuild", "refresh"]
