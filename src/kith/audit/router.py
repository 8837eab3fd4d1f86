"""GET /audit-log: for auditors and administrators, hidden fields masked by the viewer's field rights."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.access import Actor, require
from kith.access.gate import hidden_fields
from kith.audit.models import AuditEntry
from kith.audit.service import AUDITED
from kith.core.deps import current_actor, get_session
from kith.core.resource import jsonable
from kith.core.types import AwareDatetime, RefId

router = APIRouter(tags=["audit"])
_MODULE_OF = {entity: module for entity, module in AUDITED.values()}
_MODULE_OF.update({"user": "user"})


class AuditOut(BaseModel):
    id: int
    occurred_at: datetime
    actor_id: RefId | None
    actor_name: str | None
    action: str
    entity_type: str | None
    entity_id: RefId | None
    changes: dict[str, Any]
    ip: str | None
    user_agent: str | None
    request_id: str | None
    note: str | None


class AuditPage(BaseModel):
    items: list[AuditOut]
    next_cursor: str | None


def _mask(actor: Actor, entry: AuditEntry) -> dict[str, Any]:
    module = _MODULE_OF.get(entry.entity_type or "", entry.entity_type or "")
    hidden = hidden_fields(actor, module)
    changes = {k: v for k, v in (entry.changes or {}).items() if k not in hidden}
    if hidden and any(k in hidden for k in (entry.changes or {})):
        changes["_masked"] = sorted(k for k in entry.changes if k in hidden)
    return {"id": entry.id, "occurred_at": jsonable(entry.occurred_at), "actor_id": entry.actor_id, "actor_name": entry.actor_name,
            "action": entry.action, "entity_type": entry.entity_type, "entity_id": entry.entity_id, "changes": changes,
            "ip": entry.ip, "user_agent": entry.user_agent, "request_id": entry.request_id, "note": entry.note}


@router.get("/audit-log", response_model=AuditPage, summary="The audit log, newest first (auditors, administrators)")
def audit_log(
    limit: int = Query(50, ge=1, le=200),
    cursor: str | None = Query(None, max_length=20, pattern=r"^\d+$"),
    entity_type: str | None = Query(None, max_length=40),
    entity_id: RefId | None = Query(None),
    actor_id: RefId | None = Query(None),
    action: str | None = Query(None, max_length=40),
    since: AwareDatetime | None = Query(None),
    until: AwareDatetime | None = Query(None),
    actor: Actor = Depends(current_actor),
    session: Session = Depends(get_session),
) -> Any:
    require(actor, "audit", "read")
    stmt = select(AuditEntry)
    if entity_type:
        stmt = stmt.where(AuditEntry.entity_type == entity_type)
    if entity_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if since:
        stmt = stmt.where(AuditEntry.occurred_at >= since)
    if until:
        stmt = stmt.where(AuditEntry.occurred_at < until)
    if cursor:
        stmt = stmt.where(AuditEntry.id < int(cursor))
    rows = list(session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return JSONResponse({"items": [_mask(actor, e) for e in rows], "next_cursor": str(rows[-1].id) if more and rows else None})
