"""Request dependencies: the database session (the request owns the transaction) and the actor."""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Callable
from typing import Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from kith.access import Actor
from kith.access.actor import actor_for
from kith.auth.security import decode_access_token
from kith.core import clock
from kith.core.errors import KithError
from kith.db.session import session_factory

bearer = HTTPBearer(auto_error=False)


def client_info(request: Request) -> dict[str, str | None]:
    return {
        "ip": request.client.host if request.client else None,
        "user_agent": (request.headers.get("user-agent") or "")[:300] or None,
        "request_id": getattr(request.state, "request_id", None),
    }


def read_only(endpoint: Any) -> Any:
    """Mark an endpoint that never writes. On PostgreSQL its session runs in autocommit: no BEGIN and no ROLLBACK
    round trip around its reads (two of the ~7 round trips of a detail request; ADR 0025). Each statement still
    sees what was committed before it, as under READ COMMITTED inside a transaction."""
    endpoint.kith_read_only = True
    return endpoint


def _autocommit_engine(engine: Any) -> Any:
    cached = engine.__dict__.get("_kith_autocommit")
    if cached is None:
        cached = engine.execution_options(isolation_level="AUTOCOMMIT")
        engine.__dict__["_kith_autocommit"] = cached
    return cached


def _end(session: Session) -> None:
    # Routers commit explicitly before answering; anything left over is rolled back.
    session.rollback()
    session.close()


def open_session(request: Request, *, read_only: bool = False) -> Session:
    """The request's session. Opening one does no I/O. On PostgreSQL a read-only endpoint's session runs in
    autocommit (see read_only)."""
    engine = request.app.state.engine
    if engine.dialect.name == "postgresql" and read_only:
        session = session_factory(engine)(bind=_autocommit_engine(engine))
    else:
        session = session_factory(engine)()
    if read_only:
        session.info["read_only"] = True  # facts read by the request's first query stay true for all of it
    session.info["audit"] = client_info(request)
    return session


def _ends_without_io(session: Session) -> bool:
    """Nothing to roll back: SQLite (in-process), or no transaction open on a connection."""
    return session.get_bind().dialect.name == "sqlite" or not session.in_transaction() or session.info.get("read_only", False)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session, opened on the event loop rather than on a pool thread (a sync generator dependency
    costs two thread hand-overs, ADR 0025). Ending it may need a PostgreSQL ROLLBACK round trip: that goes to a
    thread; ending a session with nothing open is in-process."""
    route = request.scope.get("route")
    session = open_session(request, read_only=getattr(getattr(route, "endpoint", None), "kith_read_only", False))
    try:
        yield session
    finally:
        if _ends_without_io(session):
            _end(session)
        else:
            from starlette.concurrency import run_in_threadpool

            await run_in_threadpool(_end, session)


# Verified access tokens -> their claims. A token's signature, algorithm, issuer and audience never
# change, so each token is verified once per process; expiry is checked on every request (against
# Kith's clock, like decode_access_token). Revocation is the token version, checked in actor_for.
_verified: dict[tuple[str, str, str, str], dict[str, Any]] = {}
_VERIFIED_MAX = 20_000


def _verified_claims(settings: Any, token: str) -> dict[str, Any]:
    key = (settings.secret_key, settings.jwt_issuer, settings.jwt_audience, token)
    claims = _verified.get(key)
    if claims is None:
        claims = decode_access_token(settings, token)
        if len(_verified) >= _VERIFIED_MAX:
            _verified.clear()
        _verified[key] = claims
    elif claims["exp"] <= clock.now().timestamp():
        raise jwt.ExpiredSignatureError("token expired")
    return claims


def _claims(request: Request, credentials: HTTPAuthorizationCredentials | None) -> dict[str, Any]:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise KithError(401, "unauthorized", headers={"WWW-Authenticate": "Bearer"})
    try:
        claims = _verified_claims(request.app.state.settings, credentials.credentials)
        int(claims["sub"])
    except (jwt.InvalidTokenError, ValueError, KeyError):
        raise KithError(401, "invalid_token", headers={"WWW-Authenticate": "Bearer"}) from None
    return claims


def _actor(request: Request, session: Session, claims: dict[str, Any]) -> Actor:
    # one query for the user, its department, roles, collaborations and grants; the compiled policy is
    # cached per process under that content (kith.access.actor.actor_for, ADR 0016)
    actor = actor_for(session, int(claims["sub"]), claims.get("tv"))
    if actor is None:
        raise KithError(401, "invalid_token", headers={"WWW-Authenticate": "Bearer"})
    request.state.user_id = actor.user_id
    request.state.actor_name = actor.display_name
    session.info["audit"].update({"actor_id": actor.user_id, "actor_name": actor.display_name})
    return actor


def current_actor(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    session: Session = Depends(get_session),
) -> Actor:
    return _actor(request, session, _claims(request, credentials))


async def token_claims(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> dict[str, Any]:
    """The verified claims of the request's access token (401 without one). Pure CPU, cached per token: it runs on
    the event loop. The user behind it is checked by `read_request`, in the request's one thread."""
    return _claims(request, credentials)


def _read_in_thread(request: Request, claims: dict[str, Any], body: Callable[[Session, Actor], Any]) -> Any:
    session = open_session(request, read_only=True)
    try:
        return body(session, _actor(request, session, claims))
    finally:
        session.close()  # nothing to roll back: it only read (on PostgreSQL in autocommit)


_READ_LANES: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()


def _read_lane(request: Request) -> Any:
    """The hot reads' own thread limiter, one per event loop (a server process has one; the test client opens
    several). Separate from the default limiter that every other blocking request shares (ADR 0028): a long export
    or report does not hold up lists and records, and lists and records run at most `read_threads` at a time, so
    they do not queue behind each other for the GIL after every database round trip."""
    import asyncio

    import anyio

    loop = asyncio.get_running_loop()
    lane = _READ_LANES.get(loop)
    if lane is None:
        lane = anyio.CapacityLimiter(request.app.state.settings.read_threads)
        _READ_LANES[loop] = lane
    return lane


async def read_request(request: Request, claims: dict[str, Any], body: Callable[[Session, Actor], Any]) -> Any:
    """A whole read-only request - the actor (the access gate's first step), the reads, the session's end - in one
    hand-over to a request thread, where `current_actor` + `get_session` + a sync endpoint take three (ADR 0027:
    each hand-over wakes a thread and the event loop, ~10 % of a detail request's CPU). For the hot read paths:
    lists, a record, search, in their own lane of threads (`_read_lane`, ADR 0028). On PostgreSQL the session runs
    in autocommit, as for `read_only` endpoints."""
    import anyio.to_thread

    return await anyio.to_thread.run_sync(_read_in_thread, request, claims, body, limiter=_read_lane(request))
