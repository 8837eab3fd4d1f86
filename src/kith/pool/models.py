from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kith.db.base import Base, BigID, IdMixin, JSONType, TimestampMixin, VersionedMixin

POOL_FIELDS = ("name", "industry", "source", "level", "status", "province", "city", "district", "address", "phone", "email",
               "website", "description", "last_followup_at", "created_at")
DEFAULT_VISIBLE = ["name", "industry", "source", "level", "province", "city", "phone", "last_followup_at"]
DEFAULT_MASKED = ["phone", "email"]


class PoolRule(IdMixin, TimestampMixin, VersionedMixin, Base):
    """Which customers return to which pool and on what terms. A rule covers a department subtree (null: the whole
    company) and optionally some customer levels; the most specific active rule wins."""

    __tablename__ = "pool_rules"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    department_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("departments.id", ondelete="CASCADE"), nullable=True)
    levels: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    no_followup_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    no_won_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    warn_days_before: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    claim_cap: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cooldown_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    visible_fields: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    masked_fields: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class PoolLog(IdMixin, Base):
    """Every move in and out of the pool (released / returned / claimed / assigned) and every warning sent.
    `owner_id` is the owner before the move (the cool-down applies to them); a warning is unique per period."""

    __tablename__ = "pool_log"
    __table_args__ = (
        UniqueConstraint("customer_id", "action", "period_at"),
        Index("ix_pool_log_customer_owner", "customer_id", "owner_id", "at"),
    )

    customer_id: Mapped[int] = mapped_column(BigID, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False)
    action: Mapped[str] = mapped_column(String(20), nullable=False)
    owner_id: Mapped[int | None] = mapped_column(BigID, nullable=True)
    actor_id: Mapped[int | None] = mapped_column(BigID, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    rule_id: Mapped[int | None] = mapped_column(BigID, nullable=True)
    period_at: Mapped[datetime | None] = mapped_column(nullable=True)
    at: Mapped[datetime] = mapped_column(nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)


class Handover(IdMixin, Base):
    """One 离职交接: who handed whose records to whom, what was included and how many moved."""

    __tablename__ = "handovers"

    from_user_id: Mapped[int] = mapped_column(BigID, ForeignKey("users.id"), nullable=False, index=True)
    to_user_id: Mapped[int] = mapped_column(BigID, ForeignKey("users.id"), nullable=False, index=True)
    actor_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    include: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    customer_ids: Mapped[list[int] | None] = mapped_column(JSONType, nullable=True)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
