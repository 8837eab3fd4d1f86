"""Collaborators (团队成员) on customers, opportunities and contracts."""

from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.access.actor import Actor
from kith.access.models import RecordCollaborator
from kith.auth.models import User
from kith.core.types import RecordId
from kith.core.deps import current_actor, get_session
from kith.core.errors import FieldError, not_found, validation


class CollaboratorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    access: Literal["read", "write"] = "read"


def add_routes(router: APIRouter, res: Any, entity_type: str) -> None:
    def _list(session: Session, record_id: RecordId) -> dict[str, Any]:
        rows = session.execute(select(RecordCollaborator, User.display_name).join(User, User.id == RecordCollaborator.user_id)
                               .where(RecordCollaborator.entity_type == entity_type, RecordCollaborator.entity_id == record_id)
                               .order_by(RecordCollaborator.id)).all()
        return {"items": [{"user_id": c.user_id, "display_name": name, "access": c.access} for c, name in rows]}

    @router.get("/{record_id}/collaborators", summary=f"Collaborators on this {entity_type}", operation_id=f"list_{entity_type}_collaborators")
    def list_collaborators(record_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
        res.get_visible(session, actor, record_id, deleted=None)
        return JSONResponse(_list(session, record_id))

    @router.put("/{record_id}/collaborators/{user_id}", summary=f"Add or change a collaborator on this {entity_type}",
                operation_id=f"put_{entity_type}_collaborator")
    def put_collaborator(record_id: RecordId, user_id: RecordId, body: CollaboratorIn, actor: Actor = Depends(current_actor),
                         session: Session = Depends(get_session)) -> Any:
        obj = res.get_visible(session, actor, record_id)
        res.require_writable(session, actor, obj)
        user = session.get(User, user_id)
        if user is None or not user.is_active:
            raise validation(FieldError("user_id", "invalid_reference"))
        if user.id == obj.owner_id:
            raise validation(FieldError("user_id", "invalid"))
        row = session.scalar(select(RecordCollaborator).where(RecordCollaborator.entity_type == entity_type,
                                                              RecordCollaborator.entity_id == obj.id, RecordCollaborator.user_id == user.id))
        if row is None:
            row = RecordCollaborator(entity_type=entity_type, entity_id=obj.id, user_id=user.id, added_by_id=actor.user_id)
            session.add(row)
        row.access = body.access
        session.flush()
        payload = _list(session, obj.id)
        session.commit()
        return JSONResponse(payload)

    @router.delete("/{record_id}/collaborators/{user_id}", status_code=204, response_model=None,
                   summary=f"Remove a collaborator from this {entity_type}", operation_id=f"delete_{entity_type}_collaborator")
    def delete_collaborator(record_id: RecordId, user_id: RecordId, actor: Actor = Depends(current_actor),
                            session: Session = Depends(get_session)) -> Response:
        obj = res.get_visible(session, actor, record_id)
        res.require_writable(session, actor, obj)
        row = session.scalar(select(RecordCollaborator).where(RecordCollaborator.entity_type == entity_type,
                                                              RecordCollaborator.entity_id == obj.id, RecordCollaborator.user_id == user_id))
        if row is None:
            raise not_found()
        session.delete(row)
        session.commit()
        return Response(status_code=204)
