from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kith.db.base import Base, BigID, IdMixin, JSONType, Money, OwnedMixin, SearchMixin, SoftDeleteMixin, TimestampMixin, VersionedMixin


class Pipeline(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "pipelines"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Stage(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "stages"

    pipeline_id: Mapped[int] = mapped_column(BigID, ForeignKey("pipelines.id", ondelete="CASCADE"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    name_en: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    probability: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # open | won | lost
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="open")


class Opportunity(IdMixin, TimestampMixin, VersionedMixin, OwnedMixin, SoftDeleteMixin, SearchMixin, Base):
    __tablename__ = "opportunities"
    __table_args__ = (
        Index("ix_opportunities_customer_id_id", "customer_id", "id"),
        Index("ix_opportunities_stage_id_id", "stage_id", "id"),
    )

    customer_id: Mapped[int] = mapped_column(BigID, ForeignKey("customers.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="CNY")
    expected_close_date: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    pipeline_id: Mapped[int] = mapped_column(BigID, ForeignKey("pipelines.id"), nullable=False)
    stage_id: Mapped[int] = mapped_column(BigID, ForeignKey("stages.id"), nullable=False)
    stage_changed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # open | won | lost (follows the stage kind)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open", index=True)
    next_action: Mapped[str | None] = mapped_column(String(500), nullable=True)
    next_action_due: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    lost_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    custom: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)


class StageHistory(IdMixin, Base):
    __tablename__ = "opportunity_stage_history"

    opportunity_id: Mapped[int] = mapped_column(BigID, ForeignKey("opportunities.id", ondelete="CASCADE"), nullable=False, index=True)
    from_stage_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("stages.id"), nullable=True)
    to_stage_id: Mapped[int] = mapped_column(BigID, ForeignKey("stages.id"), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(nullable=False)
    changed_by_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("users.id"), nullable=True)
    next_action: Mapped[str | None] = mapped_column(String(500), nullable=True)


class OpportunityContact(IdMixin, TimestampMixin, Base):
    """The contact's role in this deal (buyer, decision maker, …) lives on the link."""

    __tablename__ = "opportunity_contacts"
    __table_args__ = (UniqueConstraint("opportunity_id", "contact_id"),)

    opportunity_id: Mapped[int] = mapped_column(BigID, ForeignKey("opportunities.id", ondelete="CASCADE"), nullable=False, index=True)
    contact_id: Mapped[int] = mapped_column(BigID, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(30), nullable=False, default="other")
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)


class QuoteLine(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "quote_lines"

    opportunity_id: Mapped[int] = mapped_column(BigID, ForeignKey("opportunities.id", ondelete="CASCADE"), nullable=False, index=True)
    product_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("products.id"), nullable=True)
    description: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3), nullable=False, default=1)
    unit_price: Mapped[Decimal] = mapped_column(Money, nullable=False, default=0)
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False, default=0)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False, default=0)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
