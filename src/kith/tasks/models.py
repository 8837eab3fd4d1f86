from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kith.db.base import Base, BigID, IdMixin, OwnedMixin, SoftDeleteMixin, TimestampMixin, VersionedMixin


class Task(IdMixin, TimestampMixin, VersionedMixin, OwnedMixin, SoftDeleteMixin, Base):
    """A to-do (待办). The owner is the assignee; a task may relate to a customer and one of its deals."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_owner_open_due", "owner_id", "done_at", "due_at"),)

    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    remind_minutes_before: Mapped[int | None] = mapped_column(nullable=True)
    customer_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("customers.id"), nullable=True, index=True)
    opportunity_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("opportunities.id"), nullable=True, index=True)
    done_at: Mapped[datetime | None] = mapped_column(nullable=True)
    done_by_id: Mapped[int | None] = mapped_column(BigID, nullable=True)
