"""Follow-up records (跟进记录) and timeline events (客户动态)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kith.db.base import Base, BigID, IdMixin, JSONType, OwnedMixin, SoftDeleteMixin, TimestampMixin, VersionedMixin

FOLLOWUP_TYPES = ("call", "visit", "email", "wechat", "meeting", "note")


class Followup(IdMixin, TimestampMixin, VersionedMixin, OwnedMixin, SoftDeleteMixin, Base):
    __tablename__ = "followups"
    __table_args__ = (Index("ix_followups_customer_id_occurred_at", "customer_id", "occurred_at"),)

    customer_id: Mapped[int] = mapped_column(BigID, ForeignKey("customers.id"), nullable=False)
    contact_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("contacts.id"), nullable=True, index=True)
    opportunity_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("opportunities.id"), nullable=True, index=True)
    type: Mapped[str] = mapped_column(String(20), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(nullable=False)
    next_followup_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Event(IdMixin, Base):
    """A domain event: the raw material of the timeline. Data keeps field names so field rights can strip them."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_customer_id_id", "customer_id", "id"),
        Index("ix_events_entity", "entity_type", "entity_id", "id"),
        Index("ix_events_contact_id_id", "contact_id", "id"),
        Index("ix_events_opportunity_id_id", "opportunity_id", "id"),
    )

    customer_id: Mapped[int | None] = mapped_column(BigID, nullable=True)
    # the contact and deal the event concerns, for their own timelines
    contact_id: Mapped[int | None] = mapped_column(BigID, nullable=True)
    opportunity_id: Mapped[int | None] = mapped_column(BigID, nullable=True)
    entity_type: Mapped[str] = mapped_column(String(20), nullable=False)
    entity_id: Mapped[int] = mapped_column(BigID, nullable=False)
    type: Mapped[str] = mapped_column(String(40), nullable=False)
    actor_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("users.id"), nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(nullable=False)
    summary: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
