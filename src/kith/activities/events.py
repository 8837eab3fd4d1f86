"""Domain events: services emit them; the timeline (and later notifications) read them."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from kith.access import Actor
from kith.activities.models import Event
from kith.core import clock


def emit(
    session: Session,
    actor: Actor | None,
    *,
    type: str,
    entity_type: str,
    entity_id: int,
    customer_id: int | None,
    summary: str = "",
    data: dict[str, Any] | None = None,
    contact_id: int | None = None,
    opportunity_id: int | None = None,
) -> Event:
    if entity_type == "contact":
        contact_id = contact_id or entity_id
    if entity_type == "opportunity":
        opportunity_id = opportunity_id or entity_id
    event = Event(
        contact_id=contact_id,
        opportunity_id=opportunity_id,
        type=type,
        entity_type=entity_type,
        entity_id=entity_id,
        customer_id=customer_id,
        actor_id=actor.user_id if actor else None,
        occurred_at=clock.now(),
        summary=summary[:500],
        data=json.loads(json.dumps(data or {}, default=str, ensure_ascii=False)),
    )
    session.add(event)
    return event


BACKFILL_SQL = [
    "UPDATE events SET contact_id = entity_id WHERE entity_type = 'contact' AND contact_id IS NULL",
    "UPDATE events SET opportunity_id = entity_id WHERE entity_type = 'opportunity' AND opportunity_id IS NULL",
    "UPDATE events SET contact_id = (SELECT f.contact_id FROM followups f WHERE f.id = events.entity_id), "
    "opportunity_id = (SELECT f.opportunity_id FROM followups f WHERE f.id = events.entity_id) "
    "WHERE entity_type = 'followup' AND contact_id IS NULL AND opportunity_id IS NULL",
]


def backfill_links(session: Session) -> None:
    """Link events written without contact/opportunity ids (bulk loaders, older data) to them."""
    from sqlalchemy import text

    for sql in BACKFILL_SQL:
        session.execute(text(sql))
