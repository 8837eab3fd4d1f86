from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kith.db.base import Base, BigID, IdMixin, JSONType, TimestampMixin, VersionedMixin

KINDS = ("no_followup", "next_action_overdue", "task_due", "contract_expiring", "payment_due")


class ReminderRule(IdMixin, TimestampMixin, VersionedMixin, Base):
    """One rule an administrator edits. `params` depends on the kind (days, levels, amount_threshold,
    copy_manager, lead_minutes, lead_days); `department_id` limits it to a department subtree."""

    __tablename__ = "reminder_rules"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False, index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    department_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("departments.id", ondelete="SET NULL"), nullable=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class ReminderLog(IdMixin, Base):
    """A reminder that fired: at most one per (rule, record, period). The period is the value the rule measured
    from (last follow-up, due time, end date …): when it changes, the rule may fire again."""

    __tablename__ = "reminder_log"
    __table_args__ = (
        UniqueConstraint("rule_id", "entity_type", "entity_id", "period"),
        Index("ix_reminder_log_user_id_id", "user_id", "id"),
        Index("ix_reminder_log_copy_user_id_id", "copy_user_id", "id"),
    )

    rule_id: Mapped[int] = mapped_column(BigID, ForeignKey("reminder_rules.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    entity_type: Mapped[str] = mapped_column(String(20), nullable=False)
    entity_id: Mapped[int] = mapped_column(BigID, nullable=False)
    period: Mapped[str] = mapped_column(String(40), nullable=False)
    period_at: Mapped[datetime | None] = mapped_column(nullable=True)
    period_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    user_id: Mapped[int] = mapped_column(BigID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    copy_user_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    customer_id: Mapped[int | None] = mapped_column(BigID, nullable=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    fired_at: Mapped[datetime] = mapped_column(nullable=False)


class ReminderSnooze(IdMixin, Base):
    """Silence one rule for one record until a time, with a reason."""

    __tablename__ = "reminder_snoozes"
    __table_args__ = (Index("ix_reminder_snoozes_rule_entity", "rule_id", "entity_type", "entity_id", "until"),)

    rule_id: Mapped[int] = mapped_column(BigID, ForeignKey("reminder_rules.id", ondelete="CASCADE"), nullable=False)
    entity_type: Mapped[str] = mapped_column(String(20), nullable=False)
    entity_id: Mapped[int] = mapped_column(BigID, nullable=False)
    until: Mapped[datetime] = mapped_column(nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    by_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
