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

It also keeps `search_names`: the values of its name alone (name, pinyin, initials). The index holds
phones, e-mail, WeChat and next actions too, which field rights can hide: a caller with one of those
hidden gets the index's candidates rechecked against `search_names`, so a fragment of a value they
cannot see finds nothing (ADR 0026).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Text, and_, bindparam, column, event, false, literal_column, select, table, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from kith.core.normalize import grams_of, phone_digits, query_grams, search_norm, search_values
from kith.db.base import SearchMixin

if TYPE_CHECKING:
    from kith.access.actor import Actor


# What each record type makes searchable besides its name: the field-rights module and its fields, in index order
# (phones as national digits). A caller with any of these fields hidden searches names only (match(); ADR 0026), so
# values_for below is built from this map and the two cannot drift apart.
SEARCHABLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "customers": ("customer", ("phone", "email")),
    "contacts": ("contact", ("mobile", "phone", "email", "wechat")),
    "opportunities": ("opportunity", ("next_action",)),
}
PHONE_FIELDS = frozenset({"phone", "mobile"})
# every column the search values are computed from (what a writer below the ORM needs at hand)
SEARCH_COLUMNS: tuple[str, ...] = ("name", *dict.fromkeys(f for _, fields in SEARCHABLE.values() for f in fields))


def search_parts(obj: Any) -> tuple[list[str], list[str]]:
    """(values, names) of a record: every searchable value (names with pinyin and initials, phones as national
    digits, e-mail, …) and those of its name alone — `search_values([name], others)` and `search_values([name])`,
    the name's pinyin computed once."""
    names = search_values([getattr(obj, "name", None)])
    spec = SEARCHABLE.get(obj.__tablename__)
    if spec is None:
        return names, names
    others: list[str] = []
    for f in spec[1]:
        value = getattr(obj, f, None)
        if f in PHONE_FIELDS:
            value = phone_digits(value)
        if value:
            others.append(search_norm(value))
    return [v for v in dict.fromkeys([*names, *others]) if v], names


def values_for(obj: Any) -> list[str]:
    """The searchable values of a record: names with pinyin, phones as national digits, e-mail."""
    return search_parts(obj)[0]


def names_for(obj: Any) -> list[str]:
    """The searchable values of a record's name alone (name, pinyin, initials): `search_names`."""
    return search_values([getattr(obj, "name", None)])


def refresh(obj: Any) -> None:
    values, names = search_parts(obj)
    obj.search_text = " ".join(values)
    obj.search_grams = grams_of(values)
    obj.search_names = " ".join(names)


def names_only(actor: Actor | None, model: Any) -> bool:
    """Whether `actor`'s search of `model` may match its names only: a field whose value the index holds is hidden
    from them (field rights), and a match on the index would answer "this fragment is in its phone"."""
    spec = SEARCHABLE.get(model.__tablename__)
    if actor is None or spec is None:
        return False
    from kith.access.gate import hidden_fields

    hidden = hidden_fields(actor, spec[0])
    return bool(hidden) and not hidden.isdisjoint(spec[1])


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


def match(session: Session, model: Any, q: str, actor: Actor | None) -> ColumnElement[bool]:
    """SQL condition: the record matches the search box text `q` for `actor` (None: no caller, every field visible).

    When a searchable field of the record type other than its name is hidden from the actor (names_only), the index
    condition is rechecked against the name's values (`search_names LIKE '%q%'` on the candidates the index finds):
    a phone, e-mail or WeChat fragment then finds nothing, names, pinyin and initials still do (ADR 0026). Otherwise
    the condition is the index's alone."""
    nq = search_norm(q)
    if not nq:
        return false()
    cond = _index_match(session, model, nq)
    if names_only(actor, model):
        # nq is alphanumeric (no % or _ to escape); one value, so the planner sees the pattern whole
        return and_(cond, model.search_names.like(_value(session, f"%{nq}%", Text())))
    return cond


def _value(session: Session, value: Any, type_: Any) -> Any:
    """A search value as SQL. On PostgreSQL it is written into the statement (`literal_execute`; SQLAlchemy quotes
    it, and nq is alphanumeric anyway): each search is then a statement of its own, planned for its value. A bound
    parameter would let PostgreSQL switch to one generic plan after psycopg prepares the statement (5th run) - for a
    search, a walk of the primary key testing every row (48 ms instead of 6 at 100,000 customers). Only search
    statements are planned every time; every other statement keeps its prepared plan (ADR 0027: planning the actor
    and page queries on every request cost PostgreSQL ~1–2 ms of CPU per request)."""
    if session.get_bind().dialect.name == "postgresql":
        return bindparam(None, value, type_=type_, literal_execute=True)
    return bindparam(None, value, type_=type_)


def _index_match(session: Session, model: Any, nq: str) -> ColumnElement[bool]:
    """SQL condition: the record's search values hold the normalised query `nq` (served by an index)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if len(nq) >= 3:
        if postgres:
            # pg_trgm's GIN index serves LIKE '%…%' itself; the pattern goes as one value (nq is alphanumeric:
            # no % or _ to escape), so the planner sees it whole
            return model.search_text.like(_value(session, f"%{nq}%", Text()))
        tri = table(tri_table(model.__tablename__), column("rowid"))
        # a phrase of the trigram tokenizer is a substring match (nq is alphanumeric: no quotes to escape)
        phrase = bindparam(None, f'"{nq}"', type_=Text())
        return model.id.in_(select(tri.c.rowid).where(literal_column(tri.name).op("MATCH")(phrase)))
    # One or two characters: the query is itself one gram, and a record's grams are those of each of its values
    # (never across two), so holding the gram is exactly containing the substring — no LIKE recheck. Without it
    # PostgreSQL also estimates the rows right and walks the newest ids for a common word (医药: 16 → 1.3 ms).
    grams = query_grams(nq)
    if postgres:
        return model.search_grams.op("@>")(_value(session, grams, postgresql.ARRAY(Text())))
    fts = table(fts_table(model.__tablename__), column("rowid"))
    expr = " ".join(f'"{g}"' for g in grams)
    sub = select(fts.c.rowid).where(literal_column(fts.name).op("MATCH")(bindparam(None, expr, type_=Text())))
    return model.id.in_(sub)
