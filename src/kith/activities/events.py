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
) -> Event:
    event = Event(
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
