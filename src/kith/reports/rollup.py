"""Exact per-group customer counts for the state reports (ADR 0017).

`report_customer_counts` holds, for live customers, the number per (owner_id, department_path, pooled,
filled) where `filled` is the completeness count 0..9 (ADR 0015). Completeness and the follow-up
timeliness totals read these few hundred rows instead of scanning up to a million customers.

Kept exact on every ORM flush: before the flush the affected customers' old keys are read (row locked
with FOR UPDATE on PostgreSQL so concurrent writers serialise), after it their new keys, and the
differences are applied as `n = n + delta` upserts in the same transaction. Affected = customers
inserted/updated/deleted (only the key columns and completeness fields matter) and the customers of
contacts inserted/updated/deleted (mobile, e-mail, deleted_at, customer_id). Core DML on customers or
contacts bypasses this: call `refresh(session, ids)` (or `rebuild(conn)` after a bulk load).
"""

from __future__ import annotations

from collections import Counter
from itertools import chain
from typing import Any, Iterable

from sqlalchemy import Integer, SmallInteger, String, and_, case, delete, event, exists, func, inspect, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kith.contacts.models import Contact
from kith.customers.models import Customer
from kith.db.base import Base, BigID

COMPLETENESS_FIELDS = ("name", "industry", "source", "level", "province", "address", "phone", "website")
_CUSTOMER_KEYS = ("owner_id", "department_path", "pool_entered_at", "deleted_at", *COMPLETENESS_FIELDS)
_CONTACT_KEYS = ("customer_id", "mobile", "email", "deleted_at")


class CustomerCount(Base):
    """Live customers per (owner, department path, pooled 0/1, fields filled of 9)."""

    __tablename__ = "report_customer_counts"

    owner_id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=False)
    department_path: Mapped[str] = mapped_column(String(255), primary_key=True)
    pooled: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    filled: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


def filled_expr(C: Any = Customer, K: Any = Contact) -> Any:
    """Fields filled of 9 as one SQL expression (8 customer fields + a live contact with mobile or e-mail)."""
    parts = [case((and_(getattr(C, f).is_not(None), getattr(C, f) != ""), 1), else_=0) for f in COMPLETENESS_FIELDS]
    reachable = exists().where(K.customer_id == C.id, K.deleted_at.is_(None),
                               or_(and_(K.mobile.is_not(None), K.mobile != ""), and_(K.email.is_not(None), K.email != "")))
    parts.append(case((reachable, 1), else_=0))
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    return total


def _pooled(C: Any = Customer) -> Any:
    return case((C.pool_entered_at.is_(None), 0), else_=1)


class RollupView:
    """What `kith.access.readable` needs of a model, mapped onto the rollup's columns. It has no `id` /
    `customer_id`: a scope that names records (shares, grants) raises AttributeError -> use the live query."""

    owner_id = CustomerCount.owner_id
    department_path = CustomerCount.department_path
    pool_entered_at = case((CustomerCount.pooled == 1, 1), else_=None)


# ---------------------------------------------------------------------------------------------
# keeping it exact
# ---------------------------------------------------------------------------------------------

Key = tuple[int, str, int, int]


def _keys(session: Session, ids: Iterable[int], lock: bool) -> dict[int, Key | None]:
    ids = sorted({i for i in ids if i is not None})
    if not ids:
        return {}
    out: dict[int, Key | None] = {i: None for i in ids}
    conn = session.connection()
    for i in range(0, len(ids), 500):
        stmt = (select(Customer.id, Customer.owner_id, Customer.department_path, _pooled(), filled_expr(),
                       Customer.deleted_at.is_(None)).where(Customer.id.in_(ids[i:i + 500])).order_by(Customer.id))
        if lock:
            stmt = stmt.with_for_update(of=Customer.__table__)
        for cid, owner, path, pooled, filled, live in conn.execute(stmt):
            out[cid] = (owner, path, int(pooled), int(filled)) if live else None
    return out


def _changed(obj: Any, names: tuple[str, ...]) -> bool:
    st = inspect(obj)
    return any(st.attrs[n].history.has_changes() for n in names if n in st.attrs)


def _contact_customers(obj: Any) -> set[int]:
    h = inspect(obj).attrs["customer_id"].history
    return {v for v in chain(h.added, h.unchanged, h.deleted) if v is not None}


def _before_ids(session: Session) -> set[int]:
    ids: set[int] = set()
    for obj in chain(session.dirty, session.deleted):
        if isinstance(obj, Customer) and (obj in session.deleted or _changed(obj, _CUSTOMER_KEYS)):
            if obj.id is not None:
                ids.add(obj.id)
        elif isinstance(obj, Contact) and (obj in session.deleted or _changed(obj, _CONTACT_KEYS)):
            ids |= _contact_customers(obj)
    for obj in session.new:
        if isinstance(obj, Contact):
            ids |= _contact_customers(obj)
    return ids


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _ctx: Any, _instances: Any) -> None:
    ids = _before_ids(session)
    new_customers = [o for o in session.new if isinstance(o, Customer)]
    if not ids and not new_customers and not any(isinstance(o, Contact) for o in session.new):
        return
    if not _has_table(session):
        return
    old = _keys(session, ids, lock=True)
    session.info["kith_rollup_old"] = old
    session.info["kith_rollup_new_customers"] = new_customers


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _ctx: Any) -> None:
    old: dict[int, Key | None] | None = session.info.pop("kith_rollup_old", None)
    new_customers = session.info.pop("kith_rollup_new_customers", [])
    if old is None:
        return
    created = {o.id for o in new_customers if o.id is not None}
    ids = set(old) | created
    for obj in session.new:  # contacts created with their customer in the same flush
        if isinstance(obj, Contact) and obj.customer_id is not None:
            ids.add(obj.customer_id)
    # a customer named only now and not changed itself: its pre-flush key is its current one except for
    # the contacts just written — which only a new contact can affect, and only for a new customer here
    missing = ids - set(old) - created
    if missing:
        old.update(_keys(session, missing, lock=True))
    new = _keys(session, ids, lock=False)
    delta: Counter[Key] = Counter()
    for cid in ids:
        a, b = old.get(cid), new.get(cid)
        if a == b:
            continue
        if a is not None:
            delta[a] -= 1
        if b is not None:
            delta[b] += 1
    _apply(session, {k: v for k, v in delta.items() if v})


def _apply(session: Session, delta: dict[Key, int]) -> None:
    if not delta:
        return
    conn = session.connection()
    dialect = conn.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    T = CustomerCount.__table__
    rows = [{"owner_id": k[0], "department_path": k[1], "pooled": k[2], "filled": k[3], "n": v} for k, v in sorted(delta.items())]
    stmt = insert(T)
    stmt = stmt.on_conflict_do_update(index_elements=[T.c.owner_id, T.c.department_path, T.c.pooled, T.c.filled],
                                      set_={"n": T.c.n + stmt.excluded.n})
    conn.execute(stmt, rows)
    if any(v < 0 for v in delta.values()):  # groups that emptied go, so the table holds exactly the live groups
        conn.execute(delete(T).where(T.c.n == 0))


def _has_table(session: Session) -> bool:
    """False on a database not migrated to 0015 yet (migrations that write through the ORM). Only a
    positive answer is remembered (per DBAPI connection), so a database migrated later is seen at once."""
    conn = session.connection()
    if conn.info.get("kith_rollup_table"):
        return True
    from sqlalchemy import inspect as sa_inspect

    found = sa_inspect(conn).has_table("report_customer_counts")
    if found:
        conn.info["kith_rollup_table"] = True
    return found


def refresh(session: Session, ids: Iterable[int], old: dict[int, Key | None]) -> None:
    """For Core DML: pass the keys read (with `keys(session, ids)`) before the statement."""
    new = _keys(session, ids, lock=False)
    delta: Counter[Key] = Counter()
    for cid in set(old) | set(new):
        a, b = old.get(cid), new.get(cid)
        if a != b:
            if a is not None:
                delta[a] -= 1
            if b is not None:
                delta[b] += 1
    _apply(session, {k: v for k, v in delta.items() if v})


keys = _keys


def rebuild(conn: Any) -> None:
    """Recount from the customers table (migration backfill, after a bulk load)."""
    T = CustomerCount.__table__
    conn.execute(delete(T))
    pooled, filled = _pooled().label("pooled"), filled_expr().label("filled")
    q = (select(Customer.owner_id, Customer.department_path, pooled, filled, func.count().label("n"))
         .where(Customer.deleted_at.is_(None)).group_by(Customer.owner_id, Customer.department_path, pooled, filled))
    conn.execute(T.insert().from_select(["owner_id", "department_path", "pooled", "filled", "n"], q))


__all__ = ["CustomerCount", "RollupView", "filled_expr", "keys", "rebuild", "refresh"]
