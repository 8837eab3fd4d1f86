"""Lists: filters, sort, `q` search and keyset pagination with one code path for every resource."""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from kith.access import Actor, check_filter, readable
from kith.core.errors import FieldError, KithError, field_error

RESERVED = {"limit", "cursor", "q", "sort", "deleted", "force"}
MAX_LIMIT = 200
# Totals are exact up to this many rows; above it PostgreSQL answers with the planner's estimate (SQLite with an
# exact count), and a large total is then reused for LARGE_TOTAL_TTL seconds by the same query in this process —
# "estimated" (total_estimated: true) also means "may be a minute old" (DESIGN rule 5; ADR 0018).
COUNT_CAP = 10_000
LARGE_TOTAL_TTL = 60.0
_LARGE_TOTALS: dict[tuple[Any, ...], tuple[float, int]] = {}
# Exact totals, reused while the database has not changed (kith.db.changes.token; ADR 0025): the next pages of a
# list, a list opened again, the same search typed again. Any commit anywhere invalidates them all.
_EXACT_TOTALS: dict[tuple[Any, ...], tuple[Any, int]] = {}
EXACT_TOTALS_MAX = 4096


def _trim(cache: dict[Any, Any], size: int) -> None:
    """Drop the oldest entries (insertion order) beyond `size`; request threads share the dict."""
    while len(cache) > size:
        try:
            cache.pop(next(iter(cache)), None)
        except (RuntimeError, StopIteration):  # changed by another thread meanwhile: try again
            continue


def _frozen(value: Any) -> Any:
    """A bound value in hashable form (IN lists and ARRAY values are lists)."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _frozen(v)) for k, v in value.items()))
    return value


def _count_key(session: Session, count_base: Select[Any]) -> tuple[Any, ...]:
    """The count query itself (its structure and bound values, which include the caller's scope) identifies a total.

    SQLAlchemy's own cache key of the statement is the structure (the key its compiled-SQL cache trusts: two statements
    with equal keys compile to the same SQL) and its bound parameters, in order, carry every value (owner id,
    department paths, shared and granted record ids, filter and search values). Cheaper than compiling the statement
    (~a tenth of the CPU), which the count's own execution then gets from SQLAlchemy's cache anyway."""
    bind = session.get_bind()
    ck = count_base._generate_cache_key()
    if ck is None:  # a construct that opts out of caching: fall back to the compiled SQL and its values
        compiled = count_base.compile(bind, compile_kwargs={"render_postcompile": True})
        return (bind.url.render_as_string(hide_password=True), compiled.string,
                repr(sorted(compiled.params.items(), key=lambda kv: kv[0])))
    return (bind.url.render_as_string(hide_password=True), ck.key, tuple(_frozen(b.effective_value) for b in ck.bindparams))


@dataclass
class F:
    """A field a list may filter and/or sort by."""

    column: Any
    kind: str = "str"  # str | int | decimal | date | datetime | bool
    nullable: bool = True
    sortable: bool = True
    filterable: bool = True


@dataclass
class ListSpec:
    model: Any
    module: str
    fields: dict[str, F]
    default_sort: str = "-id"
    searchable: bool = False
    soft_delete: bool = True
    scoped: bool = True
    # extra filters: name -> function(session, value) -> condition
    extra_filters: dict[str, Callable[[Session, str], ColumnElement[bool]]] = field(default_factory=dict)
    custom_entity: str | None = None


def parse_value(name: str, kind: str, raw: str) -> Any:
    try:
        if kind == "int":
            return int(raw)
        if kind == "decimal":
            value = Decimal(raw)
            if not value.is_finite():
                raise InvalidOperation
            return value
        if kind == "date":
            return date.fromisoformat(raw)
        if kind == "datetime":
            value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+")) if "T" in raw else datetime.fromisoformat(raw)
            return value
        if kind == "bool":
            if raw.lower() in ("true", "1", "yes"):
                return True
            if raw.lower() in ("false", "0", "no"):
                return False
            raise ValueError
        if kind == "float":
            return float(raw)
    except (ValueError, InvalidOperation, OverflowError):
        code = {"int": "invalid_number", "decimal": "invalid_number", "float": "invalid_number", "date": "invalid_date",
                "datetime": "invalid_datetime", "bool": "invalid_boolean"}[kind]
        raise field_error(name, code, status=400) from None
    if len(raw) > 500:
        raise field_error(name, "too_long", status=400, max=500)
    return raw


def _encode_cursor(sort: str, value: Any, last_id: int) -> str:
    if isinstance(value, (datetime, date)):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = str(value)
    raw = json.dumps({"s": sort, "v": value, "i": last_id}, ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        if data["s"] != sort or not isinstance(data["i"], int):
            raise ValueError
        return data["v"], data["i"]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise KithError(400, "invalid_cursor", fields=[FieldError("cursor", "invalid")]) from None


class ListQuery:
    def __init__(self, session: Session, actor: Actor, spec: ListSpec, params: Mapping[str, str]) -> None:
        self.session = session
        self.actor = actor
        self.spec = spec
        self.params = params
        self.where: list[ColumnElement[bool]] = []
        self.custom_fields: dict[str, Any] = {}
        if spec.custom_entity:
            from kith.customfields.service import definitions

            self.custom_fields = {d.name: d for d in definitions(session, spec.custom_entity)}

    def _field(self, name: str) -> F | None:
        if name in self.spec.fields:
            return self.spec.fields[name]
        if name.startswith("cf_") and name[3:] in self.custom_fields:
            from kith.customfields.service import filter_field

            return filter_field(self.spec.model, self.custom_fields[name[3:]])
        return None

    def build(self) -> None:
        spec, model = self.spec, self.spec.model
        if spec.scoped:
            self.where.append(readable(self.actor, model, spec.module))
        if spec.soft_delete:
            deleted = self.params.get("deleted", "false")
            if deleted not in ("true", "false"):
                raise field_error("deleted", "invalid_boolean", status=400)
            self.where.append(model.deleted_at.is_not(None) if deleted == "true" else model.deleted_at.is_(None))
        q = self.params.get("q")
        if q is not None and q.strip():
            if not spec.searchable:
                raise KithError(400, "invalid_filter", {"field": "q"}, fields=[FieldError("q", "invalid")])
            from kith.search.index import match

            self.where.append(match(self.session, model, q[:100], self.actor))
        for key, raw in self.params.items():
            if key in RESERVED:
                continue
            self.where.append(self._filter(key, raw))

    def _filter(self, key: str, raw: str) -> ColumnElement[bool]:
        spec = self.spec
        if key in spec.extra_filters:
            check_filter(self.actor, spec.module, key)
            return spec.extra_filters[key](self.session, raw)
        if key in ("updated_after", "created_after", "updated_before", "created_before"):
            col = getattr(spec.model, key.split("_")[0] + "_at")
            value = parse_value(key, "datetime", raw)
            return col >= value if key.endswith("after") else col < value
        name, _, op = key.partition("__")
        f = self._field(name)
        if f is None or not f.filterable or op not in ("", "gte", "lte", "in", "isnull"):
            raise KithError(400, "invalid_filter", {"field": key}, fields=[FieldError(key, "unknown_field")])
        check_filter(self.actor, spec.module, name)
        if op == "isnull":
            return f.column.is_(None) if parse_value(key, "bool", raw) else f.column.is_not(None)
        if op == "in":
            values = [parse_value(key, f.kind, v) for v in raw.split(",") if v != ""][:200]
            return f.column.in_(values)
        value = parse_value(key, f.kind, raw)
        if op == "gte":
            return f.column >= value
        if op == "lte":
            return f.column <= value
        return f.column == value

    def _sort(self) -> tuple[str, F | None, bool]:
        sort = self.params.get("sort") or self.spec.default_sort
        desc = sort.startswith("-")
        name = sort.lstrip("-")
        if name == "id":
            return sort, None, desc
        f = self._field(name)
        if f is None or not f.sortable:
            raise KithError(400, "invalid_sort", {"field": name}, fields=[FieldError("sort", "invalid")])
        check_filter(self.actor, self.spec.module, name)
        return sort, f, desc

    def run(self, extra: Callable[[Select[Any]], Select[Any]] | None = None, *, count: bool = True,
            columns: Any = ()) -> tuple[list[Any], str | None, int]:
        """The page: (records, next cursor, total). `columns` are read along, last in each row (`self.rows`)."""
        self.build()
        try:
            limit = int(self.params.get("limit", 20))
        except ValueError:
            raise field_error("limit", "invalid_number", status=400) from None
        if limit < 1 or limit > MAX_LIMIT:
            raise field_error("limit", "invalid_choice", status=400, choices="1–200")
        sort, f, desc = self._sort()
        model = self.spec.model
        stmt = select(model).where(*self.where)  # the search columns stay unloaded (deferred in SearchMixin)
        if extra:
            stmt = extra(stmt)
        count_base = stmt.with_only_columns(model.id).order_by(None)
        id_col = model.id
        cursor = self.params.get("cursor")
        if f is None:
            if cursor:
                _, last = _decode_cursor(cursor, sort)
                stmt = stmt.where(id_col < last if desc else id_col > last)
            stmt = stmt.order_by(id_col.desc() if desc else id_col.asc())
        else:
            col = f.column
            if cursor:
                raw_value, last = _decode_cursor(cursor, sort)
                value = None if raw_value is None else parse_value("cursor", f.kind, str(raw_value))
                if value is None:
                    cond = and_(col.is_(None), id_col < last if desc else id_col > last)
                else:
                    after = col < value if desc else col > value
                    tie = and_(col == value, id_col < last if desc else id_col > last)
                    cond = or_(after, tie, col.is_(None)) if f.nullable else or_(after, tie)
                stmt = stmt.where(cond)
            order = col.desc() if desc else col.asc()
            if f.nullable:
                order = order.nulls_last()
            stmt = stmt.order_by(order, id_col.desc() if desc else id_col.asc())
            stmt = stmt.add_columns(col.label("_sort_value"))
        if columns:
            stmt = stmt.add_columns(*columns)
        rows = self.session.execute(stmt.limit(limit + 1)).all()
        has_more = len(rows) > limit
        rows = rows[:limit]
        self.rows = rows
        items = [r[0] for r in rows]
        next_cursor = None
        if has_more and rows:
            last_row = rows[-1]
            next_cursor = _encode_cursor(sort, last_row[1] if f is not None else None, last_row[0].id)
        self.total_estimated = False
        if not count:
            return items, next_cursor, -1
        if not cursor and not has_more:
            # the first page holds every matching row: that is the exact total, no count query needed
            return items, next_cursor, len(items)
        key = _count_key(self.session, count_base)
        cached = _LARGE_TOTALS.get(key)
        if cached is not None and time.monotonic() - cached[0] < LARGE_TOTAL_TTL:
            self.total_estimated = True
            return items, next_cursor, cached[1]
        from kith.db import changes

        token = changes.token(self.session)
        exact = _EXACT_TOTALS.get(key) if token is not None else None
        if exact is not None and exact[0] == token:
            return items, next_cursor, exact[1]
        total = self.session.scalar(select(func.count()).select_from(count_base.limit(COUNT_CAP + 1).subquery())) or 0
        if total <= COUNT_CAP and token is not None:
            _EXACT_TOTALS.pop(key, None)
            _EXACT_TOTALS[key] = (token, total)
            _trim(_EXACT_TOTALS, EXACT_TOTALS_MAX)
        if total > COUNT_CAP:
            total = self._large_total(count_base)
            self.total_estimated = True
            _LARGE_TOTALS[key] = (time.monotonic(), total)
            _trim(_LARGE_TOTALS, 2048)
        return items, next_cursor, total

    def _large_total(self, count_base: Select[Any]) -> int:
        """Exact on SQLite (a count there is cheap); the planner's estimate on PostgreSQL (DESIGN rule 5)."""
        if self.session.get_bind().dialect.name != "postgresql":
            return self.session.scalar(select(func.count()).select_from(count_base.subquery())) or 0
        compiled = count_base.compile(self.session.get_bind(), compile_kwargs={"render_postcompile": True})
        plan = self.session.connection().exec_driver_sql("EXPLAIN (FORMAT JSON) " + compiled.string, compiled.params).scalar()
        data = plan if isinstance(plan, list) else json.loads(plan)
        self.total_estimated = True
        return max(COUNT_CAP + 1, int(data[0]["Plan"]["Plan Rows"]))
