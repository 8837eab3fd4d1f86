"""One-box search for Chinese sales teams: substrings (2-character names too), pinyin, initials,
phone fragments and e-mail, served by an index on both databases.

Every searchable record keeps `search_text` (normalised values separated by spaces) and its
distinct 1- and 2-grams. A query of three characters or more is a substring match served by a
trigram index (migration 0021: an FTS5 trigram table kept by triggers on SQLite, where a phrase
query is a substring match; pg_trgm's GIN index under `LIKE` on PostgreSQL). A shorter query
matches when the record holds the query as one of its 1/2-grams (GIN on a TEXT[] column on
PostgreSQL, an FTS5 table on SQLite), which is exactly containing it. Common pinyin and digit
bigrams ("yu", "an", "13") each occur in tens of thousands of records, so the trigram path is
3–20× cheaper for the longer queries (ADR 0025, part 6).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Text, bindparam, column, event, false, literal_column, select, table, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from kith.core.normalize import grams_of, phone_digits, query_grams, search_norm, search_values
from kith.db.base import SearchMixin


def values_for(obj: Any) -> list[str]:
    """The searchable values of a record: names with pinyin, phones as national digits, e-mail."""
    table = obj.__tablename__
    if table == "customers":
        return search_values([obj.name], [phone_digits(obj.phone), obj.email])
    if table == "contacts":
        return search_values([obj.name], [phone_digits(obj.mobile), phone_digits(obj.phone), obj.email, obj.wechat])
    if table == "opportunities":
        return search_values([obj.name], [obj.next_action])
    return search_values([getattr(obj, "name", "")])


def refresh(obj: Any) -> None:
    values = values_for(obj)
    obj.search_text = " ".join(values)
    obj.search_grams = grams_of(values)


def fts_table(table: str) -> str:
    return f"{table}_fts"


def tri_table(table: str) -> str:
    """The SQLite trigram table over `search_text` (kept by triggers, migration 0021)."""
    return f"{table}_fts_tri"


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _ctx, _instances) -> None:
    pending = session.info.setdefault("search_pending", {})
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, SearchMixin):
            if obj in session.dirty and not session.is_modified(obj, include_collections=False):
                continue
            refresh(obj)
            pending[id(obj)] = obj


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _ctx) -> None:
    pending: dict[int, Any] = session.info.pop("search_pending", {})
    if not pending or session.get_bind().dialect.name != "sqlite":
        return
    by_table: dict[str, list[dict[str, Any]]] = {}
    for obj in pending.values():
        by_table.setdefault(obj.__tablename__, []).append({"rowid": obj.id, "grams": " ".join(grams_of(obj.search_text.split()))})
    for table, rows in by_table.items():
        fts = fts_table(table)
        session.execute(text(f"DELETE FROM {fts} WHERE rowid = :rowid"), [{"rowid": r["rowid"]} for r in rows])
        session.execute(text(f"INSERT INTO {fts}(rowid, grams) VALUES (:rowid, :grams)"), rows)


def sqlite_index_rows(session: Session, table: str, rows: list[tuple[int, str]]) -> None:
    """Bulk loaders (bench, demo, import) that bypass the ORM feed the FTS table here."""
    if session.get_bind().dialect.name != "sqlite" or not rows:
        return
    session.execute(
        text(f"INSERT OR REPLACE INTO {fts_table(table)}(rowid, grams) VALUES (:rowid, :grams)"),
        [{"rowid": rid, "grams": " ".join(grams_of(st.split()))} for rid, st in rows],
    )


def match(session: Session, model: Any, q: str) -> ColumnElement[bool]:
    """SQL condition: the record matches the search box text `q`."""
    nq = search_norm(q)
    if not nq:
        return false()
    postgres = session.get_bind().dialect.name == "postgresql"
    if len(nq) >= 3:
        if postgres:
            # pg_trgm's GIN index serves LIKE '%…%' itself; the pattern goes as one value (nq is alphanumeric:
            # no % or _ to escape), so the planner sees it whole
            return model.search_text.like(f"%{nq}%")
        tri = table(tri_table(model.__tablename__), column("rowid"))
        # a phrase of the trigram tokenizer is a substring match (nq is alphanumeric: no quotes to escape)
        phrase = bindparam(None, f'"{nq}"', type_=Text())
        return model.id.in_(select(tri.c.rowid).where(literal_column(tri.name).op("MATCH")(phrase)))
    # One or two characters: the query is itself one gram, and a record's grams are those of each of its values
    # (never across two), so holding the gram is exactly containing the substring — no LIKE recheck. Without it
    # PostgreSQL also estimates the rows right and walks the newest ids for a common word (医药: 16 → 1.3 ms).
    grams = query_grams(nq)
    if postgres:
        arr = bindparam(None, grams, type_=postgresql.ARRAY(Text()))
        return model.search_grams.op("@>")(arr)
    fts = table(fts_table(model.__tablename__), column("rowid"))
    expr = " ".join(f'"{g}"' for g in grams)
    sub = select(fts.c.rowid).where(literal_column(fts.name).op("MATCH")(bindparam(None, expr, type_=Text())))
    return model.id.in_(sub)
