"""Idempotency-Key on POST: the same key and body within 24 h returns the first response."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kith.core import clock
from kith.core.errors import KithError
from kith.db.base import Base, BigID, IdMixin, JSONType

TTL = timedelta(hours=24)


class IdempotencyKey(IdMixin, Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    user_id: Mapped[int] = mapped_column(BigID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    path: Mapped[str] = mapped_column(String(255), nullable=False)
    body_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    status_code: Mapped[int] = mapped_column(Integer, nullable=False)
    response: Mapped[Any] = mapped_column(JSONType, nullable=True)
    headers: Mapped[dict[str, str]] = mapped_column(JSONType, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(nullable=False, index=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


def body_hash(path: str, body: Any) -> str:
    raw = json.dumps({"path": path, "body": body}, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def lookup(session: Session, user_id: int, key: str, path: str, digest: str) -> IdempotencyKey | None:
    row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key))
    if row is None:
        return None
    if row.created_at < clock.now() - TTL:
        session.delete(row)
        session.flush()
        return None
    if row.body_hash != digest or row.path != path:
        raise KithError(422, "idempotency_conflict")
    return row


def remember(session: Session, user_id: int, key: str, path: str, digest: str, status: int, response: Any, headers: dict[str, str]) -> None:
    session.add(
        IdempotencyKey(
            user_id=user_id, key=key, path=path, body_hash=digest, status_code=status,
            response=response, headers=headers, created_at=clock.now(),
        )
    )
