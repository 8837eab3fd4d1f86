"""In-app notifications: list, unread count, mark read."""

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kith.access import Actor
from kith.core import clock
from kith.core.deps import current_actor, get_session
from kith.core.errors import not_found
from kith.core.i18n import current_language
from kith.core.resource import jsonable
from kith.core.types import RecordId
from kith.notifications.models import Notification
from kith.notifications.service import render

router = APIRouter(tags=["notifications"])


def _out(n: Notification) -> dict[str, Any]:
    return {"id": n.id, "kind": n.kind, "text": render(n.kind, n.params or {}, current_language.get()), "link": n.link,
            "entity_type": n.entity_type, "entity_id": n.entity_id, "created_at": jsonable(n.created_at),
            "read": n.read_at is not None}


@router.get("/notifications", summary="My notifications, newest first")
def list_notifications(
    unread: bool = Query(False),
    limit: int = Query(20, ge=1, le=200),
    cursor: str | None = Query(None, max_length=20, pattern=r"^\d+$"),
    actor: Actor = Depends(current_actor),
    session: Session = Depends(get_session),
) -> Any:
    stmt = select(Notification).where(Notification.user_id == actor.user_id)
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    if cursor:
        stmt = stmt.where(Notification.id < int(cursor))
    rows = list(session.scalars(stmt.order_by(Notification.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return JSONResponse({"items": [_out(n) for n in rows], "next_cursor": str(rows[-1].id) if more and rows else None})


@router.get("/notifications/unread-count", summary="How many unread notifications I have (poll this for the bell)")
def unread_count(actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    n = session.scalar(select(func.count()).select_from(Notification).where(Notification.user_id == actor.user_id,
                                                                            Notification.read_at.is_(None)))
    return JSONResponse({"unread": n or 0})


@router.post("/notifications/{record_id}/read", summary="Mark one notification read")
def mark_read(record_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    n = session.get(Notification, record_id)
    if n is None or n.user_id != actor.user_id:
        raise not_found()
    if n.read_at is None:
        n.read_at = clock.now()
    payload = _out(n)
    session.commit()
    return JSONResponse(payload)


@router.post("/notifications/read-all", summary="Mark all my notifications read")
def mark_all(actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    result = session.execute(update(Notification).where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
                             .values(read_at=clock.now()))
    session.commit()
    return JSONResponse({"marked": result.rowcount or 0})
