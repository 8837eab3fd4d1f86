from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from kith.core.types import RefId
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.access import Actor
from kith.access.policy import MODULES
from kith.auth import service
from kith.auth.models import User
from kith.core.deps import current_actor, get_session
from kith.core.types import SafeStr

router = APIRouter(tags=["auth"])


class LoginIn(BaseModel):
    username: SafeStr = Field(min_length=1, max_length=64)
    password: SafeStr = Field(min_length=1, max_length=256)


class RefreshIn(BaseModel):
    refresh_token: SafeStr = Field(min_length=1, max_length=512)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


@router.post("/auth/login", response_model=TokenPair, summary="Sign in", responses={401: {}, 429: {}})
def login(body: LoginIn, request: Request, session: Session = Depends(get_session)) -> Any:
    from kith.audit import service as audit

    tokens, error = service.login(session, request.app.state.settings, body.username, body.password)
    user = session.scalar(select(User).where(User.username == body.username.strip().lower()))
    audit.record(session, "login" if error is None else "login_failed", entity_type="user", entity_id=user.id if user else None,
                 actor_id=user.id if user and error is None else None, actor_name=user.display_name if user and error is None else None,
                 changes={"username": body.username[:64]} if error else {}, note=error.code if error else None)
    session.commit()
    if error:
        raise error
    return JSONResponse(tokens)


@router.post("/auth/refresh", response_model=TokenPair, summary="Rotate the refresh token; reuse revokes the family", responses={401: {}})
def refresh(body: RefreshIn, request: Request, session: Session = Depends(get_session)) -> Any:
    tokens, error = service.refresh(session, request.app.state.settings, body.refresh_token)
    session.commit()
    if error:
        raise error
    return JSONResponse(tokens)


@router.post("/auth/logout", status_code=204, response_model=None, summary="Revoke the refresh token (and its family)")
def logout(body: RefreshIn, session: Session = Depends(get_session)) -> Response:
    service.logout(session, body.refresh_token)
    session.commit()
    return Response(status_code=204)


class MeOut(BaseModel):
    id: int
    username: str
    display_name: str
    email: str | None
    department_id: RefId | None
    timezone: str
    language: str
    roles: list[dict[str, Any]]
    permissions: dict[str, list[str]]
    data_scopes: dict[str, str]
    field_rights: dict[str, dict[str, str]]


@router.get("/me", response_model=MeOut, summary="The current user, roles, permissions and field rights")
def me(actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    user = session.get(User, actor.user_id)
    assert user is not None
    return JSONResponse({
        "id": user.id, "username": user.username, "display_name": user.display_name, "email": user.email,
        "department_id": user.department_id, "timezone": user.timezone, "language": user.language,
        "roles": [{"id": r.id, "code": r.code, "name": r.name, "name_en": r.name_en} for r in user.roles],
        "permissions": {m: sorted(actor.permissions.get(m, set())) for m in MODULES if actor.permissions.get(m)},
        "data_scopes": dict(actor.scopes),
        "field_rights": actor.field_rights,
    })
