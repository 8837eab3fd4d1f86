"""The customer timeline (客户动态): events newest first, keyset paged, hidden fields removed."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.access import Actor, can
from kith.access.gate import hidden_fields
from kith.activities.models import Event
from kith.auth.models import User
from kith.core.errors import FieldError, KithError
from kith.core.resource import jsonable, names_by_id

# Which access module governs the fields of an event's entity.
ENTITY_MODULE = {
    "customer": "customer", "contact": "contact", "opportunity": "opportunity", "contract": "contract",
    "payment": "payment", "followup": "followup", "quote_line": "quote_line", "task": "task",
}


def _strip_data(actor: Actor, entity_type: str, data: dict[str, Any]) -> dict[str, Any]:
    module = ENTITY_MODULE.get(entity_type, entity_type)
    if not can(actor, module, "read") and module not in ("quote_line",):
        return {}
    hidden = hidden_fields(actor, module)
    if not hidden:
        return data
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("changes", "fields") and isinstance(value, dict):
            out[key] = {k: v for k, v in value.items() if k not in hidden}
        elif key not in hidden:
            out[key] = value
    return out


def timeline(session: Session, actor: Actor, customer_id: int | None = None, *, limit: int, cursor: str | None, type_prefix: str | None,
             since: datetime | None = None, until: datetime | None = None, contact_id: int | None = None,
             opportunity_id: int | None = None) -> dict[str, Any]:
    """One stream: a customer's (customer_id), a contact's (contact_id) or a deal's (opportunity_id)."""
    if contact_id is not None:
        stmt = select(Event).where(Event.contact_id == contact_id)
    elif opportunity_id is not None:
        stmt = select(Event).where(Event.opportunity_id == opportunity_id)
    else:
        stmt = select(Event).where(Event.customer_id == customer_id)
    if type_prefix:
        types = [t for t in type_prefix.split(",") if t][:20]
        from sqlalchemy import or_

        stmt = stmt.where(or_(*[(Event.type == t) | Event.type.startswith(t + ".", autoescape=True) for t in types]))
    if since:
        stmt = stmt.where(Event.occurred_at >= since)
    if until:
        stmt = stmt.where(Event.occurred_at < until)
    if cursor:
        try:
            last = int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
        except (ValueError, UnicodeDecodeError):
            raise KithError(400, "invalid_cursor", fields=[FieldError("cursor", "invalid")]) from None
        stmt = stmt.where(Event.id < last)
    rows = list(session.scalars(stmt.order_by(Event.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    actor_ids = {r.actor_id for r in rows if r.actor_id}
    names = names_by_id(session, User.id, User.display_name, actor_ids)
    items = []
    for ev in rows:
        items.append({
            "id": ev.id,
            "type": ev.type,
            "entity_type": ev.entity_type,
            "entity_id": ev.entity_id,
            "occurred_at": jsonable(ev.occurred_at),
            "actor": {"id": ev.actor_id, "display_name": names.get(ev.actor_id)} if ev.actor_id else None,
            "summary": ev.summary,
            "data": _strip_data(actor, ev.entity_type, ev.data or {}),
        })
    next_cursor = base64.urlsafe_b64encode(str(rows[-1].id).encode()).decode().rstrip("=") if more and rows else None
    return {"items": items, "next_cursor": next_cursor}
