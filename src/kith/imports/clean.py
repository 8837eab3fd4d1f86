"""Clean one source row into field values with the shared cleaning functions (kith.core.normalize),
recording what changed and which fields are invalid."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from kith.core.normalize import (
    Cleaned,
    clean_amount,
    clean_date,
    clean_email,
    clean_mobile,
    clean_phone,
    clean_region,
    clean_text,
    fold,
)
from kith.imports.mapping import CHOICE_WORDS, Target

_TIME = re.compile(r"(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2}))?")
_TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "主", "对", "t"}
_FALSE = {"否", "n", "no", "false", "0", "×", "x", "不是", "f", ""}
_SPLIT = re.compile(r"\s*[,，、;；/|]\s*")


def typed(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, datetime):
        return raw.isoformat(sep=" ")
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


def _err(value: Any, code: str) -> Cleaned:
    return Cleaned(None, typed(value), False, code)


def clean_datetime(raw: Any, tz: ZoneInfo) -> Cleaned:
    """A date with an optional time of day, in the company's time zone; stored as UTC."""
    if isinstance(raw, datetime):
        value = raw if raw.tzinfo else raw.replace(tzinfo=tz)
        return Cleaned(value.astimezone(timezone.utc), value.strftime("%Y-%m-%d %H:%M"), False, None)
    day = clean_date(raw)
    if not day.ok or day.value is None:
        return day if not day.ok else Cleaned(None, None, False, None)
    t = time(0, 0)
    if isinstance(raw, str):
        rest = fold(raw)
        m = _TIME.search(rest[6:]) if len(rest) > 6 else None
        if m:
            try:
                t = time(int(m[1]), int(m[2]), int(m[3] or 0))
            except ValueError:
                return _err(raw, "invalid_datetime")
    local = datetime.combine(day.value, t, tzinfo=tz)
    shown = local.strftime("%Y-%m-%d %H:%M")
    return Cleaned(local.astimezone(timezone.utc), shown, shown != typed(raw).strip(), None)


def clean_choice(raw: Any, target: Target) -> Cleaned:
    text = clean_text(raw)
    if text.value is None:
        return text
    low = text.value.lower()
    if low in target.choices:
        return Cleaned(low, low, low != typed(raw), None)
    word = CHOICE_WORDS.get(target.name, {}).get(text.value)
    if word:
        return Cleaned(word, word, True, None)
    return _err(raw, "invalid_choice")


def clean_bool(raw: Any) -> Cleaned:
    if raw is None:
        return Cleaned(None, None, False, None)
    if isinstance(raw, bool):
        return Cleaned(raw, str(raw).lower(), False, None)
    low = fold(typed(raw)).lower()
    if low in _TRUE:
        return Cleaned(True, "true", low != "true", None)
    if low in _FALSE:
        return Cleaned(False, "false", low != "false", None) if low else Cleaned(None, None, False, None)
    return _err(raw, "invalid_boolean")


def clean_int(raw: Any) -> Cleaned:
    if raw is None or raw == "":
        return Cleaned(None, None, False, None)
    if isinstance(raw, bool):
        return _err(raw, "invalid_number")
    try:
        value = int(fold(typed(raw)))
    except ValueError:
        return _err(raw, "invalid_number")
    if value <= 0 or value > 2**62:
        return _err(raw, "invalid_number")
    return Cleaned(value, str(value), False, None)


def clean_target(raw: Any, target: Target, ctx: dict[str, Any]) -> Cleaned:
    kind = target.clean
    if kind == "mobile":
        return clean_mobile(raw)
    if kind == "phone":
        return clean_phone(raw)
    if kind == "email":
        return clean_email(raw)
    if kind == "amount":
        return clean_amount(raw)
    if kind == "date":
        return clean_date(raw)
    if kind == "datetime":
        return clean_datetime(raw, ctx["tz"])
    if kind == "choice":
        return clean_choice(raw, target)
    if kind == "bool":
        return clean_bool(raw)
    if kind == "int":
        return clean_int(raw)
    if kind == "region":
        return clean_region(raw)
    if kind == "owner":
        text = clean_text(raw)
        if text.value is None:
            return text
        uid = ctx["users"].get(text.value) or ctx["users"].get(text.value.lower())
        if uid is None:
            return _err(raw, "invalid_reference")
        return Cleaned(uid, text.value, False, None)
    c = clean_text(raw)
    if c.value is not None and len(c.value) > target.max_len:
        return Cleaned(None, c.display, False, "too_long")
    return c


def clean_custom(raw: Any, d: Any, ctx: dict[str, Any]) -> Cleaned:
    """A custom field value from a cell, in the shape the custom-field validator expects."""
    t = d.field_type
    if t == "number":
        c = clean_amount(raw)
        if c.ok and c.value is not None:
            v = c.value
            num = int(v) if v == v.to_integral_value() else float(v)
            return Cleaned(num, c.display, c.changed, None)
        return c if not c.ok else Cleaned(None, None, False, None)
    if t == "date":
        c = clean_date(raw)
        return Cleaned(c.value.isoformat(), c.display, c.changed, None) if c.ok and c.value else c
    if t == "boolean":
        return clean_bool(raw)
    if t == "user":
        return clean_target(raw, Target("owner", "", "", clean="owner"), ctx)
    text = clean_text(raw)
    if text.value is None or not text.ok:
        return text
    if t == "select":
        options = {fold(str(o)).lower(): o for o in (d.options or [])}
        hit = options.get(text.value.lower())
        return Cleaned(hit, hit, hit != typed(raw), None) if hit is not None else _err(raw, "invalid_choice")
    if t == "multiselect":
        options = {fold(str(o)).lower(): o for o in (d.options or [])}
        parts = [p for p in _SPLIT.split(text.value) if p]
        hits = [options.get(p.lower()) for p in parts]
        if any(h is None for h in hits):
            return _err(raw, "invalid_choice")
        return Cleaned(hits, "、".join(hits), True, None)
    return text


def to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def from_json(value: Any, target: Target) -> Any:
    if value is None:
        return None
    if target.clean == "datetime":
        return datetime.fromisoformat(value)
    if target.clean == "date":
        return date.fromisoformat(value)
    if target.clean == "amount":
        return Decimal(value)
    return value
