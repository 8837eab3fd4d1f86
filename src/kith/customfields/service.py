"""Custom field definitions and the validation of their values (flattened as cf_<name> in the API)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Float, String, select
from sqlalchemy.orm import Session

from kith.auth.models import User
from kith.core.errors import FieldError, validation
from kith.core.listing import F
from kith.customfields.models import CustomField

PREFIX = "cf_"


# Active definitions per entity type, read with one light Core query per session (no ORM identity map)
# and turned into detached CustomField objects once per process for each distinct content: the cache
# key is the rows themselves, so an edit in any process (or a reused id) is seen by the next request.
_DEFS_STMT: Any = None
_DEFS_DIGEST_STMT: Any = None
_defs_cache: dict[tuple[Any, ...], list[CustomField]] = {}
_DEFS_CACHE_MAX = 256
# PostgreSQL, read-only requests: definitions by (digest of every definition row, entity type). The request's first
# query (kith.access.actor) reads the digest, so such a request does not ask for the definitions at all while they
# are unchanged (ADR 0027). Entries are stored under the digest read in the same statement as the rows.
_defs_by_digest: dict[tuple[str, str], list[CustomField]] = {}


def definitions(session: Session, entity_type: str) -> list[CustomField]:
    """The active custom fields of an entity type, ordered by position. Read-only objects shared between
    requests: change definitions through the ORM (CustomFieldResource), never through these."""
    global _DEFS_STMT, _DEFS_DIGEST_STMT
    cache = session.info.setdefault("cf_defs", {})
    if entity_type in cache:
        return cache[entity_type]
    digest = session.info.get("cf_digest") if session.info.get("read_only") else None
    if digest is not None:
        hit = _defs_by_digest.get((digest, entity_type))
        if hit is not None:
            cache[entity_type] = list(hit)
            return cache[entity_type]
    table = CustomField.__table__
    if digest is not None:
        if _DEFS_DIGEST_STMT is None:
            from sqlalchemy import column, text

            from kith.db.changes import CUSTOM_FIELDS_DIGEST_SQL

            cols = ", ".join(f"cf.{c.name}" for c in table.columns)
            # the digest row joined to the definitions: one statement, one snapshot, a row even when none is active
            _DEFS_DIGEST_STMT = text(
                f"SELECT d.digest, {cols} FROM (SELECT {CUSTOM_FIELDS_DIGEST_SQL} AS digest) d "
                "LEFT JOIN custom_fields cf ON cf.entity_type = :etype AND cf.active ORDER BY cf.position, cf.id"
            ).columns(column("digest", String()), *[column(c.name, c.type) for c in table.columns])
        fetched = session.execute(_DEFS_DIGEST_STMT, {"etype": entity_type}).all()
        fetched_digest = fetched[0][0]
        rows = [tuple(r[1:]) for r in fetched if r[1] is not None]
    else:
        if _DEFS_STMT is None:
            from sqlalchemy import bindparam

            _DEFS_STMT = (select(table).where(table.c.entity_type == bindparam("etype"), table.c.active.is_(True))
                          .order_by(table.c.position, table.c.id))
        rows = [tuple(r) for r in session.execute(_DEFS_STMT, {"etype": entity_type}).all()]
        fetched_digest = None
    key = tuple(_freeze(r) for r in rows)
    defs = _defs_cache.get(key)
    if defs is None:
        names = [c.name for c in table.columns]
        defs = [_detached(dict(zip(names, r))) for r in rows]
        if len(_defs_cache) >= _DEFS_CACHE_MAX:
            _defs_cache.clear()
        _defs_cache[key] = defs
    if fetched_digest is not None:
        if len(_defs_by_digest) >= _DEFS_CACHE_MAX:
            _defs_by_digest.clear()
        _defs_by_digest[(fetched_digest, entity_type)] = defs
    cache[entity_type] = list(defs)
    return cache[entity_type]


def _freeze(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


def _detached(mapping: Any) -> CustomField:
    return CustomField(**{k: (list(v) if isinstance(v, list) else v) for k, v in mapping.items()})


def invalidate(session: Session) -> None:
    session.info.pop("cf_defs", None)


def filter_field(model: Any, d: CustomField) -> F:
    element = model.custom[d.name]
    if d.field_type == "number":
        return F(element.as_float(), "float")
    if d.field_type == "boolean":
        return F(element.as_boolean(), "bool")
    if d.field_type == "user":
        return F(element.as_integer(), "int")
    if d.field_type == "multiselect":
        # equality on a list is meaningless; filter via containment on the serialised list
        return F(element.as_string(), "str", sortable=False)
    return F(element.as_string(), "str")


def flatten(custom: dict[str, Any] | None, defs: list[CustomField]) -> dict[str, Any]:
    custom = custom or {}
    return {PREFIX + d.name: custom.get(d.name) for d in defs}


def _coerce(session: Session, d: CustomField, value: Any) -> tuple[Any, FieldError | None]:
    name = PREFIX + d.name
    t = d.field_type
    if t == "text":
        if not isinstance(value, str):
            return None, FieldError(name, "invalid_type")
        if len(value) > 2000:
            return None, FieldError(name, "too_long", {"max": 2000})
        return value, None
    if t == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            return None, FieldError(name, "invalid_number")
        try:
            num = Decimal(str(value))
            if not num.is_finite() or abs(num) > Decimal("1e15"):
                raise InvalidOperation
        except InvalidOperation:
            return None, FieldError(name, "invalid_number")
        return (int(num) if num == num.to_integral_value() else float(num)), None
    if t == "date":
        if not isinstance(value, str):
            return None, FieldError(name, "invalid_date")
        try:
            return date.fromisoformat(value).isoformat(), None
        except ValueError:
            return None, FieldError(name, "invalid_date")
    if t == "boolean":
        if not isinstance(value, bool):
            return None, FieldError(name, "invalid_boolean")
        return value, None
    if t == "select":
        if not isinstance(value, str) or value not in (d.options or []):
            return None, FieldError(name, "invalid_choice", {"choices": "、".join(map(str, d.options or []))})
        return value, None
    if t == "multiselect":
        if not isinstance(value, list) or any(not isinstance(v, str) or v not in (d.options or []) for v in value):
            return None, FieldError(name, "invalid_choice", {"choices": "、".join(map(str, d.options or []))})
        return list(dict.fromkeys(value)), None
    if t == "user":
        if isinstance(value, bool) or not isinstance(value, int) or session.get(User, value) is None:
            return None, FieldError(name, "invalid_reference")
        return value, None
    return None, FieldError(name, "invalid")


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def apply(session: Session, entity_type: str, current: dict[str, Any] | None, incoming: dict[str, Any], creating: bool) -> dict[str, Any]:
    """Validate cf_* values from a request; return the new `custom` dict. 422 naming each bad field."""
    defs = {d.name: d for d in definitions(session, entity_type)}
    result = dict(current or {})
    errors: list[FieldError] = []
    for key, value in incoming.items():
        name = key[len(PREFIX):]
        d = defs.get(name)
        if d is None:
            errors.append(FieldError(key, "unknown_field"))
            continue
        if _empty(value):
            if d.required:
                errors.append(FieldError(key, "required"))
            else:
                result.pop(name, None)
            continue
        coerced, err = _coerce(session, d, value)
        if err:
            errors.append(err)
        else:
            result[name] = coerced
    if creating:
        for name, d in defs.items():
            if d.required and _empty(result.get(name)) and (PREFIX + name) not in incoming:
                errors.append(FieldError(PREFIX + name, "required"))
    if errors:
        raise validation(*errors)
    return result


__all__ = ["definitions", "filter_field", "flatten", "apply", "invalidate", "PREFIX", "Float", "String"]
