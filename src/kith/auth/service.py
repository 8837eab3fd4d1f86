"""Sign-in, refresh-token rotation with reuse detection, lockout, logout."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kith.auth.models import LoginFailure, RefreshToken, User
from kith.auth.security import (
    DUMMY_HASH,
    create_access_token,
    hash_password,
    hash_token,
    needs_rehash,
    new_refresh_token,
    verify_password,
)
from kith.config import Settings
from kith.core import clock
from kith.core.errors import KithError


def _issue(session: Session, settings: Settings, user: User, family_id: str | None = None) -> dict[str, Any]:
    access, expires_in = create_access_token(settings, user.id, user.token_version)
    token, digest = new_refresh_token()
    now = clock.now()
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id or uuid.uuid4().hex,
            token_hash=digest,
            issued_at=now,
            expires_at=now + timedelta(days=settings.refresh_token_days),
        )
    )
    return {"access_token": access, "refresh_token": token, "token_type": "bearer", "expires_in": expires_in}


def login(session: Session, settings: Settings, username: str, password: str) -> tuple[dict[str, Any] | None, KithError | None]:
    """Returns (tokens, None) or (None, error). Failures are recorded even though the error is returned
    (the caller commits either way so the failure counter survives)."""
    now = clock.now()
    key = username.strip().lower()[:64]
    failure = session.scalar(select(LoginFailure).where(LoginFailure.username == key))
    if failure and failure.locked_until and failure.locked_until > now:
        minutes = max(1, int((failure.locked_until - now).total_seconds() // 60) + 1)
        return None, KithError(429, "account_locked", {"minutes": minutes}, headers={"Retry-After": str(minutes * 60)})
    user = session.scalar(select(User).where(User.username == key))
    ok = verify_password(user.password_hash if user else DUMMY_HASH, password)
    if not ok or user is None:
        window = timedelta(minutes=settings.login_lockout_minutes)
        if failure is None:
            failure = LoginFailure(username=key, count=0, window_start=now)
            session.add(failure)
        if failure.window_start < now - window:
            failure.count = 0
            failure.window_start = now
            failure.locked_until = None
        failure.count += 1
        if failure.count >= settings.login_max_failures:
            failure.locked_until = now + window
            failure.count = 0
            failure.window_start = now
        return None, KithError(401, "invalid_credentials")
    if not user.is_active:
        return None, KithError(401, "account_inactive")
    if failure:
        session.delete(failure)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    return _issue(session, settings, user), None


def refresh(session: Session, settings: Settings, token: str) -> tuple[dict[str, Any] | None, KithError | None]:
    now = clock.now()
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_token(token)))
    if row is None:
        return None, KithError(401, "invalid_token")
    if row.used_at is not None or row.revoked_at is not None:
        # Reuse of a rotated (or revoked) token: someone has a copy. Revoke the whole family.
        session.execute(
            update(RefreshToken).where(RefreshToken.family_id == row.family_id, RefreshToken.revoked_at.is_(None)).values(revoked_at=now)
        )
        return None, KithError(401, "refresh_reused")
    if row.expires_at <= now:
        return None, KithError(401, "invalid_token")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None, KithError(401, "invalid_token")
    row.used_at = now
    return _issue(session, settings, user, family_id=row.family_id), None


def logout(session: Session, token: str) -> None:
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_token(token)))
    if row is not None:
        now = clock.now()
        session.execute(
            update(RefreshToken).where(RefreshToken.family_id == row.family_id, RefreshToken.revoked_at.is_(None)).values(revoked_at=now)
        )


def revoke_all(session: Session, user: User) -> None:
    """Every access and refresh token of the user stops working (password change, deactivation)."""
    user.token_version += 1
    session.execute(
        update(RefreshToken).where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None)).values(revoked_at=clock.now())
    )
