from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from itertools import chain
from typing import Any, Iterable

from sqlalchemy import (Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint, and_, event, func, inspect,
                        or_, select, update)
from sqlalchemy.orm import Mapped, Session, mapped_column

from kith.db.base import Base, BigID, IdMixin, JSONType, Money, OwnedMixin, SearchMixin, SoftDeleteMixin, TimestampMixin, VersionedMixin


class Pipeline(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "pipelines"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Stage(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "stages"

    pipeline_id: Mapped[int] = mapped_column(BigID, ForeignKey("pipelines.id", ondelete="CASCADE"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    name_en: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    probability: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # open | won | lost
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="open")


class Opportunity(IdMixin, TimestampMixin, VersionedMixin, OwnedMixin, SoftDeleteMixin, SearchMixin, Base):
    __tablename__ = "opportunities"
    __table_args__ = (
        Index("ix_opportunities_customer_id_id", "customer_id", "id"),
        Index("ix_opportunities_stage_id_id", "stage_id", "id"),
    )

    customer_id: Mapped[int] = mapped_column(BigID, ForeignKey("customers.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="CNY")
    expected_close_date: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    pipeline_id: Mapped[int] = mapped_column(BigID, ForeignKey("pipelines.id"), nullable=False)
    stage_id: Mapped[int] = mapped_column(BigID, ForeignKey("stages.id"), nullable=False)
    stage_changed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # open | won | lost (follows the stage kind)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open", index=True)
    next_action: Mapped[str | None] = mapped_column(String(500), nullable=True)
    next_action_due: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    lost_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    custom: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    # the highest position of a non-lost stage of its pipeline the deal ever entered (funnel "reached";
    # derived from the stage history on every flush — see the end of this module)
    reached_position: Mapped[int | None] = mapped_column(Integer, nullable=True)


class StageHistory(IdMixin, Base):
    __tablename__ = "opportunity_stage_history"

    opportunity_id: Mapped[int] = mapped_column(BigID, ForeignKey("opportunities.id", ondelete="CASCADE"), nullable=False, index=True)
    from_stage_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("stages.id"), nullable=True)
    to_stage_id: Mapped[int] = mapped_column(BigID, ForeignKey("stages.id"), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(nullable=False)
    changed_by_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("users.id"), nullable=True)
    next_action: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # derived on every flush (end of this module; ADR 0017 part 3), for the funnel's days in stage without a join:
    # when the deal left this stage = the changed_at of its next entry (NULL = current), and the deal's scope
    left_at: Mapped[datetime | None] = mapped_column(nullable=True)
    deal_owner_id: Mapped[int | None] = mapped_column(BigID, nullable=True)
    deal_department_path: Mapped[str | None] = mapped_column(String(255), nullable=True)
    deal_deleted_at: Mapped[datetime | None] = mapped_column(nullable=True)


class OpportunityContact(IdMixin, TimestampMixin, Base):
    """The contact's role in this deal (buyer, decision maker, …) lives on the link."""

    __tablename__ = "opportunity_contacts"
    __table_args__ = (UniqueConstraint("opportunity_id", "contact_id"),)

    opportunity_id: Mapped[int] = mapped_column(BigID, ForeignKey("opportunities.id", ondelete="CASCADE"), nullable=False, index=True)
    contact_id: Mapped[int] = mapped_column(BigID, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(30), nullable=False, default="other")
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)


class QuoteLine(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "quote_lines"

    opportunity_id: Mapped[int] = mapped_column(BigID, ForeignKey("opportunities.id", ondelete="CASCADE"), nullable=False, index=True)
    product_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("products.id"), nullable=True)
    description: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3), nullable=False, default=1)
    unit_price: Mapped[Decimal] = mapped_column(Money, nullable=False, default=0)
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False, default=0)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False, default=0)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


# ---------------------------------------------------------------------------------------------
# the funnel's pre-aggregates (ADR 0017 part 3), kept exact on every ORM flush:
# - StageHistory.left_at: when the entry was left = changed_at of the same deal's next entry by
#   (changed_at, id); NULL for the current one.
# - StageHistory.deal_owner_id / deal_department_path / deal_deleted_at: the deal's current scope columns.
# - Opportunity.reached_position: the highest position of a non-lost stage of the deal's pipeline
#   among its history entries; NULL without one.
# Recomputed from the history and the deal, per deal, after a flush that inserts/deletes stage-history
# rows or changes their deal or time, or changes a deal's owner, department path, deletion or pipeline;
# for every deal of a pipeline when a stage's position, kind or pipeline changes; and for every entry
# whose scope differs from its deal's after an ORM-enabled bulk UPDATE of opportunities (the department
# move rewrites paths that way). Plain Core DML on these tables bypasses all this: call
# `refresh_stage_aggregates(conn, opportunity_ids)` (bulk loads: no arguments = everything).
# ---------------------------------------------------------------------------------------------

_HISTORY_KEYS = ("opportunity_id", "changed_at")
_DEAL_KEYS = ("owner_id", "department_path", "deleted_at", "pipeline_id")
_STAGE_KEYS = ("position", "kind", "pipeline_id")


def _changed(obj: Any, names: tuple[str, ...]) -> bool:
    st = inspect(obj)
    return any(st.attrs[n].history.has_changes() for n in names if n in st.attrs)


def _values(obj: Any, name: str) -> set[Any]:
    h = inspect(obj).attrs[name].history
    return {v for v in chain(h.added, h.unchanged, h.deleted) if v is not None}


def _scope_values() -> dict[str, Any]:
    H, O = StageHistory.__table__, Opportunity.__table__

    def col(c: Any) -> Any:
        return select(c).where(O.c.id == H.c.opportunity_id).scalar_subquery()

    return {"deal_owner_id": col(O.c.owner_id), "deal_department_path": col(O.c.department_path),
            "deal_deleted_at": col(O.c.deleted_at)}


def refresh_stage_aggregates(conn: Any, opportunity_ids: Iterable[int] | None = None,
                             pipeline_ids: Iterable[int] | None = None) -> None:
    """Recompute the derived columns for the given deals (and reached_position for every deal of the
    given pipelines); both None = everything (after a bulk load)."""
    H = StageHistory.__table__
    O = Opportunity.__table__
    S = Stage.__table__
    h2 = H.alias("h2")
    nxt = (select(h2.c.changed_at).where(h2.c.opportunity_id == H.c.opportunity_id,
                                         or_(h2.c.changed_at > H.c.changed_at,
                                             and_(h2.c.changed_at == H.c.changed_at, h2.c.id > H.c.id)))
           .order_by(h2.c.changed_at, h2.c.id).limit(1).scalar_subquery())
    top = (select(func.max(S.c.position)).select_from(H.join(S, S.c.id == H.c.to_stage_id))
           .where(H.c.opportunity_id == O.c.id, S.c.kind != "lost", S.c.pipeline_id == O.c.pipeline_id)
           .scalar_subquery())
    # updated_at named so that its onupdate does not fire: a derived column, not an edit of the deal
    set_opp = {"reached_position": top, "updated_at": O.c.updated_at}
    set_hist = {"left_at": nxt, **_scope_values()}
    if opportunity_ids is None and pipeline_ids is None:
        conn.execute(update(H).values(set_hist))
        conn.execute(update(O).values(set_opp))
        return
    ids = sorted({i for i in (opportunity_ids or ()) if i is not None})
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        conn.execute(update(H).where(H.c.opportunity_id.in_(chunk)).values(set_hist))
        conn.execute(update(O).where(O.c.id.in_(chunk)).values(set_opp))
    pids = sorted({p for p in (pipeline_ids or ()) if p is not None})
    if pids:
        conn.execute(update(O).where(O.c.pipeline_id.in_(pids)).values(set_opp))


def resync_stage_scope(conn: Any) -> None:
    """Entries whose deal scope columns differ from their deal's (after bulk DML on opportunities)."""
    H, O = StageHistory.__table__, Opportunity.__table__
    differs = (select(O.c.id).where(O.c.id == H.c.opportunity_id, or_(
        O.c.owner_id.is_distinct_from(H.c.deal_owner_id), O.c.department_path.is_distinct_from(H.c.deal_department_path),
        O.c.deleted_at.is_distinct_from(H.c.deal_deleted_at))).exists())
    conn.execute(update(H).where(differs).values(_scope_values()))


def _affected(session: Session) -> tuple[set[int], set[int]]:
    """(deals whose derived values may move, pipelines whose stages moved) for the pending/just-run flush."""
    deals: set[int] = set()
    pipelines: set[int] = set()
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, StageHistory):
            if obj in session.new or obj in session.deleted or _changed(obj, _HISTORY_KEYS):
                deals |= _values(obj, "opportunity_id")
        elif isinstance(obj, Opportunity):
            if obj.id is not None and (obj in session.deleted or (obj in session.dirty and _changed(obj, _DEAL_KEYS))):
                deals.add(obj.id)
        elif isinstance(obj, Stage) and obj in session.dirty and _changed(obj, _STAGE_KEYS):
            pipelines |= _values(obj, "pipeline_id")
    return deals, pipelines


@event.listens_for(Session, "before_flush")
def _stage_aggregates_before_flush(session: Session, _ctx: Any, _instances: Any) -> None:
    """The affected deals' share of the stage-day rollup before the flush (kith.reports.stage_days)."""
    deals, _pipelines = _affected(session)
    if not deals:
        return
    conn = session.connection()
    if not _has_columns(conn):
        return
    from kith.reports import stage_days

    if stage_days.has_table(conn):
        if conn.dialect.name == "postgresql":  # writers of one deal serialise (its rows are about to change anyway)
            conn.execute(select(Opportunity.id).where(Opportunity.id.in_(sorted(deals))).order_by(Opportunity.id)
                         .with_for_update())
        session.info["kith_stage_days_before"] = (deals, stage_days.contributions(conn, deals))


@event.listens_for(Session, "after_flush")
def _stage_aggregates_after_flush(session: Session, _ctx: Any) -> None:
    # pre-flush state: new/dirty/deleted still list what this flush wrote
    deals, pipelines = _affected(session)
    pending = session.info.pop("kith_stage_days_before", None)
    if not deals and not pipelines:
        return
    conn = session.connection()
    if not _has_columns(conn):
        return
    refresh_stage_aggregates(conn, deals, pipelines)
    from kith.reports import stage_days

    if deals and stage_days.has_table(conn):
        # a deal named only now (an entry added during the flush) had no rows before it: nothing counted
        before_deals, before = pending if pending is not None else (set(), {})
        stage_days.apply(conn, before, stage_days.contributions(conn, deals | before_deals))
    session.info.setdefault("kith_stage_aggregates_expire", set()).update(deals)
    if pipelines:
        session.info["kith_stage_aggregates_expire_all"] = True


@event.listens_for(Session, "after_flush_postexec")
def _stage_aggregates_expire(session: Session, _ctx: Any) -> None:
    """Loaded objects do not hold stale derived values."""
    deals = session.info.pop("kith_stage_aggregates_expire", None)
    every = session.info.pop("kith_stage_aggregates_expire_all", False)
    if not deals and not every:
        return
    for obj in list(session.identity_map.values()):
        if isinstance(obj, StageHistory) and (every or obj.opportunity_id in deals):
            session.expire(obj, ["left_at", "deal_owner_id", "deal_department_path", "deal_deleted_at"])
        elif isinstance(obj, Opportunity) and (every or obj.id in deals):
            session.expire(obj, ["reached_position"])


@event.listens_for(Session, "do_orm_execute")
def _stage_scope_after_bulk(state: Any) -> Any:
    """An ORM-enabled bulk UPDATE of opportunities (`session.execute(update(Opportunity)…)`, e.g. the
    department move's path rewrite): run it, then resync the entries whose deal scope it changed."""
    if not state.is_update:
        return None
    mapper = state.bind_mapper
    if mapper is None or mapper.class_ is not Opportunity:
        return None
    result = state.invoke_statement()
    conn = state.session.connection()
    if _has_columns(conn):
        resync_stage_scope(conn)
        from kith.reports import stage_days

        if stage_days.has_table(conn):
            stage_days.rebuild(conn)
    return result


def _has_columns(conn: Any) -> bool:
    """False on a database not migrated to 0017 yet (migrations that write through the ORM); only a
    positive answer is remembered (per DBAPI connection)."""
    if conn.info.get("kith_stage_aggregates"):
        return True
    from sqlalchemy import inspect as sa_inspect

    found = any(c["name"] == "deal_owner_id" for c in sa_inspect(conn).get_columns("opportunity_stage_history"))
    if found:
        conn.info["kith_stage_aggregates"] = True
    return found
