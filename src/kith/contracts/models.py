from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kith.db.base import Base, BigID, IdMixin, Money, OwnedMixin, SoftDeleteMixin, TimestampMixin, VersionedMixin


class Contract(IdMixin, TimestampMixin, VersionedMixin, OwnedMixin, SoftDeleteMixin, Base):
    __tablename__ = "contracts"
    __table_args__ = (Index("ix_contracts_customer_id_id", "customer_id", "id"),)

    customer_id: Mapped[int] = mapped_column(BigID, ForeignKey("customers.id"), nullable=False)
    opportunity_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("opportunities.id"), nullable=True, index=True)
    number: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False, default=0)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="CNY")
    sign_date: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    # draft | active | completed | terminated
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="draft", index=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)


class PaymentPlan(IdMixin, TimestampMixin, VersionedMixin, Base):
    """One instalment the customer is expected to pay (回款计划)."""

    __tablename__ = "payment_plans"

    contract_id: Mapped[int] = mapped_column(BigID, ForeignKey("contracts.id", ondelete="CASCADE"), nullable=False, index=True)
    due_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)


class Payment(IdMixin, TimestampMixin, VersionedMixin, Base):
    """Money received (回款)."""

    __tablename__ = "payments"

    contract_id: Mapped[int] = mapped_column(BigID, ForeignKey("contracts.id", ondelete="CASCADE"), nullable=False, index=True)
    plan_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("payment_plans.id", ondelete="SET NULL"), nullable=True)
    received_on: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    method: Mapped[str | None] = mapped_column(String(30), nullable=True)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
