from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kith.db.base import Base, IdMixin, Money, SoftDeleteMixin, TimestampMixin, VersionedMixin


class Product(IdMixin, TimestampMixin, VersionedMixin, SoftDeleteMixin, Base):
    __tablename__ = "products"

    code: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    category: Mapped[str | None] = mapped_column(String(100), nullable=True)
    unit: Mapped[str] = mapped_column(String(20), nullable=False, default="套")
    price: Mapped[Decimal] = mapped_column(Money, nullable=False, default=0)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="CNY")
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
