from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kith.db.base import Base, BigID, IdMixin, JSONType


class Notification(IdMixin, Base):
    """An in-app notification. Stored as a message key with parameters, rendered in the reader's language."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_id_id", "user_id", "id"), Index("ix_notifications_user_unread", "user_id", "read_at"))

    user_id: Mapped[int] = mapped_column(BigID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(60), nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    link: Mapped[str | None] = mapped_column(String(300), nullable=True)
    entity_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    entity_id: Mapped[int | None] = mapped_column(BigID, nullable=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(nullable=True)


class NotificationChannel(IdMixin, Base):
    """An administrator-configured endpoint: a WeChat Work group robot or a generic (HMAC-signed) webhook."""

    __tablename__ = "notification_channels"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    type: Mapped[str] = mapped_column(String(20), nullable=False)  # "wechat_work" | "webhook"
    url: Mapped[str] = mapped_column(String(1000), nullable=False)
    secret: Mapped[str | None] = mapped_column(String(200), nullable=True)
    kinds: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)  # empty: every kind
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)


class Delivery(IdMixin, Base):
    """The outbox: one row per message to send on a channel other than in-app; retried with backoff until delivered."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (Index("ix_notification_deliveries_status_next", "status", "next_attempt_at"),)

    notification_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("notifications.id", ondelete="SET NULL"), nullable=True,
                                                        index=True)
    user_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    channel: Mapped[str] = mapped_column(String(20), nullable=False)  # "email" | "wechat_work" | "webhook"
    channel_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("notification_channels.id", ondelete="CASCADE"), nullable=True)
    target: Mapped[str] = mapped_column(String(1000), nullable=False)  # an e-mail address or the endpoint URL
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(nullable=False)
    last_error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    delivered_at: Mapped[datetime | None] = mapped_column(nullable=True)


class NotificationPreference(Base):
    """A user's choice of extra channels for one notification kind (in-app is always on)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(BigID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    wechat_work: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


from kith.core.jobs import JobLease  # noqa: E402,F401  (the periodic-task lease table lives in this migration too)
