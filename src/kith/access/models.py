"""Sharing: collaborators on a record, and time-limited access grants from approvals."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kith.db.base import Base, BigID, IdMixin, TimestampMixin


class RecordCollaborator(IdMixin, TimestampMixin, Base):
    """A team member (团队成员) on a customer, opportunity or contract, with read or write access."""

    __tablename__ = "record_collaborators"
    __table_args__ = (
        UniqueConstraint("entity_type", "entity_id", "user_id"),
        Index("ix_record_collaborators_user", "user_id", "entity_type", "entity_id"),
    )

    entity_type: Mapped[str] = mapped_column(String(20), nullable=False)
    entity_id: Mapped[int] = mapped_column(BigID, nullable=False)
    user_id: Mapped[int] = mapped_column(BigID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    access: Mapped[str] = mapped_column(String(10), nullable=False, default="read")  # read | write
    added_by_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("users.id"), nullable=True)


class AccessGrant(IdMixin, TimestampMixin, Base):
    """Access to a customer outside one's scope, granted by an approval for a limited time."""

    __tablename__ = "access_grants"
    __table_args__ = (Index("ix_access_grants_user", "user_id", "expires_at"),)

    user_id: Mapped[int] = mapped_column(BigID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    customer_id: Mapped[int] = mapped_column(BigID, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True)
    access: Mapped[str] = mapped_column(String(10), nullable=False, default="read")  # read | write
    starts_at: Mapped[datetime] = mapped_column(nullable=False)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    approval_id: Mapped[int | None] = mapped_column(BigID, nullable=True)
