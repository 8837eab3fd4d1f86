"""Request dependencies: the database session (the request owns the transaction) and the actor."""

from __future__ import annotations

from collections.abc import Iterator

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, joinedload

from kith.access import Actor, load_actor
from kith.auth.models import User
from kith.auth.security import decode_access_token
from kith.core.errors import KithError
from kith.db.session import session_factory

bearer = HTTPBearer(auto_error=False)


def client_info(request: Request) -> dict[str, str | None]:
    return {
        "ip": request.client.host if request.client else None,
        "user_agent": (request.headers.get("user-agent") or "")[:300] or None,
        "request_id": getattr(request.state, "request_id", None),
    }


def get_session(request: Request) -> Iterator[Session]:
    session = session_factory(request.app.state.engine)()
    session.info["audit"] = client_info(request)
    try:
        yield session
    finally:
        # Routers commit explicitly before answering; anything left over is rolled back.
        session.rollback()
        session.close()


def current_actor(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    session: Session = Depends(get_session),
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise KithError(401, "unauthorized", headers={"WWW-Authenticate": "Bearer"})
    try:
        claims = decode_access_token(request.app.state.settings, credentials.credentials)
        user_id = int(claims["sub"])
    except (jwt.InvalidTokenError, ValueError, KeyError):
        raise KithError(401, "invalid_token", headers={"WWW-Authenticate": "Bearer"}) from None
    # one query for the user, department and roles
    user = session.get(User, user_id, options=[joinedload(User.roles)])
    if user is None or not user.is_active or user.token_version != claims.get("tv"):
        raise KithError(401, "invalid_token", headers={"WWW-Authenticate": "Bearer"})
    actor = load_actor(session, user)
    request.state.user_id = user.id
    request.state.actor_name = user.display_name
    session.info["audit"].update({"actor_id": user.id, "actor_name": user.display_name})
    return actor
