"""In-app notifications: list, unread count, mark read."""

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from typing import Any, Literal

import jwt
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from kith.access import Actor, require
from kith.core import clock, jobs
from kith.core.deps import current_actor, get_session
from kith.core.errors import KithError, field_error, not_found
from kith.core.i18n import current_language
from kith.core.resource import jsonable
from kith.core.types import RecordId, SafeStr
from kith.notifications import channels as ch
from kith.notifications.models import Delivery, Notification, NotificationChannel, NotificationPreference
from kith.notifications.service import DEFAULT_PREFS, TEMPLATES, preferences, render, wants

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


# ---------------------------------------------------------------- per-user channel preferences

class PreferenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(min_length=1, max_length=60)
    email: bool | None = None
    wechat_work: bool | None = None


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[PreferenceIn] = Field(max_length=200)


def _prefs_out(session: Session, actor: Actor) -> dict[str, Any]:
    from kith.auth.models import User

    stored = preferences(session, [actor.user_id])[actor.user_id]
    kinds = sorted(set(TEMPLATES) | set(stored))
    user = session.get(User, actor.user_id)
    settings = jobs.current_settings()
    has_wechat = session.scalar(select(func.count()).select_from(NotificationChannel).where(
        NotificationChannel.type == "wechat_work", NotificationChannel.active.is_(True))) or 0
    return {
        "items": [{"kind": k, "in_app": True, "email": wants(stored, k, "email"), "wechat_work": wants(stored, k, "wechat_work")}
                  for k in kinds],
        "email_available": bool(settings.smtp_host and user is not None and user.email),
        "wechat_work_available": bool(has_wechat),
    }


@router.get("/me/notification-preferences", summary="Which channels I get each notification kind on (in-app is always on)")
def get_preferences(actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    return JSONResponse(_prefs_out(session, actor))


@router.put("/me/notification-preferences", summary="Change my channels per notification kind (kinds not listed keep theirs)")
def put_preferences(body: PreferencesIn, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    for i, item in enumerate(body.items):
        if item.kind not in TEMPLATES:
            raise field_error(f"items.{i}.kind", "unknown_notification_kind", kind=item.kind[:60])
    for item in body.items:
        pref = session.get(NotificationPreference, (actor.user_id, item.kind))
        if pref is None:
            pref = NotificationPreference(user_id=actor.user_id, kind=item.kind, **DEFAULT_PREFS)
            session.add(pref)
        if item.email is not None:
            pref.email = item.email
        if item.wechat_work is not None:
            pref.wechat_work = item.wechat_work
    session.flush()
    out = _prefs_out(session, actor)
    session.commit()
    return JSONResponse(out)


# ---------------------------------------------------------------- channels (administrators)

CHANNEL_MODULE = ("role", "manage")  # administrators only (see docs/adr/0011)
CHANNEL_TYPES = ("wechat_work", "webhook")


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: SafeStr = Field(min_length=1, max_length=100)
    type: Literal["wechat_work", "webhook"]
    url: str = Field(min_length=1, max_length=1000)
    secret: SafeStr | None = Field(None, min_length=16, max_length=200)
    kinds: list[str] = Field(default_factory=list, max_length=100)
    active: bool = True


class ChannelPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: SafeStr | None = Field(None, min_length=1, max_length=100)
    url: str | None = Field(None, min_length=1, max_length=1000)
    secret: SafeStr | None = Field(None, min_length=16, max_length=200)
    kinds: list[str] | None = Field(None, max_length=100)
    active: bool | None = None


def _channel_out(c: NotificationChannel) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "type": c.type, "url": c.url, "kinds": list(c.kinds or []), "active": c.active,
            "has_secret": bool(c.secret), "created_at": jsonable(c.created_at), "updated_at": jsonable(c.updated_at)}


def _check_target(url: str) -> None:
    try:
        ch.check_url(url, ch.allow_list(jobs.current_settings()))
    except ch.TargetRefused as exc:
        raise field_error("url", exc.code) from None


def _check_kinds(kinds: list[str]) -> list[str]:
    for i, k in enumerate(kinds):
        if k not in TEMPLATES:
            raise field_error(f"kinds.{i}", "unknown_notification_kind", kind=k[:60])
    return list(dict.fromkeys(kinds))


@router.get("/notification-channels", summary="WeChat Work robots and webhooks (administrators; secrets are never shown)")
def list_channels(actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    require(actor, *CHANNEL_MODULE)
    rows = session.scalars(select(NotificationChannel).order_by(NotificationChannel.id))
    return JSONResponse({"items": [_channel_out(c) for c in rows]})


@router.post("/notification-channels", status_code=201, summary="Add a WeChat Work robot or a webhook; a webhook's secret is "
             "shown once, in this answer")
def create_channel(body: ChannelIn, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    require(actor, *CHANNEL_MODULE)
    _check_target(body.url)
    kinds = _check_kinds(body.kinds)
    secret = body.secret
    if body.type == "webhook" and not secret:
        secret = secrets.token_hex(24)
    now = clock.now()
    c = NotificationChannel(name=body.name.strip(), type=body.type, url=body.url, secret=secret, kinds=kinds, active=body.active,
                            created_at=now, updated_at=now)
    session.add(c)
    session.flush()
    out = _channel_out(c)
    if body.type == "webhook":
        out["secret"] = secret  # the only time it is returned
    session.commit()
    return JSONResponse(out, status_code=201)


def _get_channel(session: Session, record_id: int) -> NotificationChannel:
    c = session.get(NotificationChannel, record_id)
    if c is None:
        raise not_found()
    return c


@router.get("/notification-channels/{record_id}", summary="One channel (without its secret)")
def get_channel(record_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    require(actor, *CHANNEL_MODULE)
    return JSONResponse(_channel_out(_get_channel(session, record_id)))


@router.patch("/notification-channels/{record_id}", summary="Change a channel (name, URL, secret, kinds, active)")
def patch_channel(record_id: RecordId, body: ChannelPatch, actor: Actor = Depends(current_actor),
                  session: Session = Depends(get_session)) -> Any:
    require(actor, *CHANNEL_MODULE)
    c = _get_channel(session, record_id)
    if body.url is not None:
        _check_target(body.url)
        c.url = body.url
    if body.kinds is not None:
        c.kinds = _check_kinds(body.kinds)
    if body.name is not None:
        c.name = body.name.strip()
    if body.secret is not None:
        c.secret = body.secret
    if body.active is not None:
        c.active = body.active
    c.updated_at = clock.now()
    out = _channel_out(c)
    session.commit()
    return JSONResponse(out)


@router.delete("/notification-channels/{record_id}", status_code=204, response_model=None, summary="Remove a channel")
def delete_channel(record_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Response:
    require(actor, *CHANNEL_MODULE)
    session.delete(_get_channel(session, record_id))
    session.commit()
    return Response(status_code=204)


# ---------------------------------------------------------------- the outbox (administrators)

def _delivery_out(d: Delivery) -> dict[str, Any]:
    return {"id": d.id, "notification_id": d.notification_id, "user_id": d.user_id, "channel": d.channel,
            "channel_id": d.channel_id, "target": d.target, "status": d.status, "attempts": d.attempts,
            "next_attempt_at": jsonable(d.next_attempt_at), "last_error": d.last_error, "created_at": jsonable(d.created_at),
            "delivered_at": jsonable(d.delivered_at)}


@router.get("/notification-deliveries", summary="The delivery outbox (administrators): pending, delivered and failed messages")
def list_deliveries(
    status: Literal["pending", "delivered", "failed"] | None = Query(None),
    limit: int = Query(50, ge=1, le=200),
    cursor: str | None = Query(None, max_length=20, pattern=r"^\d+$"),
    actor: Actor = Depends(current_actor),
    session: Session = Depends(get_session),
) -> Any:
    require(actor, *CHANNEL_MODULE)
    stmt = select(Delivery)
    if status:
        stmt = stmt.where(Delivery.status == status)
    if cursor:
        stmt = stmt.where(Delivery.id < int(cursor))
    rows = list(session.scalars(stmt.order_by(Delivery.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return JSONResponse({"items": [_delivery_out(d) for d in rows], "next_cursor": str(rows[-1].id) if more and rows else None})


@router.post("/notification-deliveries/{record_id}/retry", summary="Send a failed (or pending) delivery again now")
def retry_delivery(record_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    require(actor, *CHANNEL_MODULE)
    d = session.get(Delivery, record_id)
    if d is None:
        raise not_found()
    if d.status == "delivered":
        raise KithError(409, "delivery_already_delivered")
    d.status, d.attempts, d.next_attempt_at = "pending", 0, clock.now()
    jobs.enqueue(session, "kith.notifications.delivery:deliver_ids", [d.id])
    session.commit()
    session.refresh(d)
    return JSONResponse(_delivery_out(d))


# ---------------------------------------------------------------- push: server-sent events

STREAM_AUDIENCE = "kith-stream"
STREAM_TOKEN_SECONDS = 60


@router.post("/notifications/stream-token", summary="A 60-second token for EventSource (which cannot send headers): "
             "GET /notifications/stream?token=…")
def stream_token(request: Request, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    from kith.auth.models import User

    settings = request.app.state.settings
    user = session.get(User, actor.user_id)
    assert user is not None
    now = clock.now()
    token = jwt.encode({"sub": str(user.id), "tv": user.token_version, "aud": STREAM_AUDIENCE, "iss": settings.jwt_issuer,
                        "iat": int(now.timestamp()), "exp": int(now.timestamp()) + STREAM_TOKEN_SECONDS},
                       settings.secret_key, algorithm="HS256")
    return JSONResponse({"token": token, "expires_in": STREAM_TOKEN_SECONDS})


def _stream_user(request: Request, token: str | None, credentials: HTTPAuthorizationCredentials | None) -> int:
    """The user of a stream: the bearer header (a normal access token) or ?token= (a stream token)."""
    from kith.auth.models import User
    from kith.auth.security import decode_access_token
    from kith.db.session import session_factory

    settings = request.app.state.settings
    try:
        if credentials is not None and credentials.scheme.lower() == "bearer":
            claims = decode_access_token(settings, credentials.credentials)
        elif token:
            claims = jwt.decode(token, settings.secret_key, algorithms=["HS256"], audience=STREAM_AUDIENCE,
                                issuer=settings.jwt_issuer, options={"require": ["exp", "sub", "aud"], "verify_exp": False})
            if int(claims["exp"]) < int(clock.now().timestamp()):
                raise jwt.ExpiredSignatureError("expired")
        else:
            raise KithError(401, "unauthorized", headers={"WWW-Authenticate": "Bearer"})
        user_id = int(claims["sub"])
    except (jwt.InvalidTokenError, ValueError, KeyError):
        raise KithError(401, "invalid_token", headers={"WWW-Authenticate": "Bearer"}) from None
    with session_factory(request.app.state.engine)() as s:
        user = s.get(User, user_id)
        if user is None or not user.is_active or user.token_version != claims.get("tv"):
            raise KithError(401, "invalid_token", headers={"WWW-Authenticate": "Bearer"})
    return user_id


def _unread_state(engine: Any, user_id: int) -> tuple[int, int]:
    from kith.db.session import session_factory

    with session_factory(engine)() as s:
        n = s.scalar(select(func.count()).select_from(Notification).where(Notification.user_id == user_id,
                                                                          Notification.read_at.is_(None))) or 0
        latest = s.scalar(select(func.max(Notification.id)).where(Notification.user_id == user_id)) or 0
    return int(n), int(latest)


@router.get("/notifications/stream", summary="Server-sent events: an `unread` event now and whenever my notifications change",
            response_class=StreamingResponse, responses={200: {"content": {"text/event-stream": {}}}})
async def stream(
    request: Request,
    token: str | None = Query(None, max_length=2000, description="a token from POST /notifications/stream-token"),
    seconds: int = Query(300, ge=1, le=3600, description="close after this long (EventSource reconnects by itself)"),
    credentials: HTTPAuthorizationCredentials | None = Depends(HTTPBearer(auto_error=False)),
) -> Any:
    user_id = await run_in_threadpool(_stream_user, request, token, credentials)
    engine = request.app.state.engine

    async def events() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        last: tuple[int, int] | None = None
        last_sent = loop.time()
        yield "retry: 5000\n\n"
        while True:
            state = await run_in_threadpool(_unread_state, engine, user_id)
            if state != last:
                last = state
                last_sent = loop.time()
                yield f"event: unread\ndata: {json.dumps({'unread': state[0], 'latest_id': state[1]})}\n\n"
            elif loop.time() - last_sent >= 15:
                last_sent = loop.time()
                yield ": keep-alive\n\n"
            if loop.time() >= deadline or await request.is_disconnected():
                return
            await asyncio.sleep(min(STREAM_POLL_SECONDS, max(deadline - loop.time(), 0)))

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


STREAM_POLL_SECONDS = 2.0
