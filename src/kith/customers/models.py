from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kith.db.base import Base, BigID, IdMixin, JSONType, OwnedMixin, SearchMixin, SoftDeleteMixin, TimestampMixin, VersionedMixin


class Customer(IdMixin, TimestampMixin, VersionedMixin, OwnedMixin, SoftDeleteMixin, SearchMixin, Base):
    __tablename__ = "customers"
    __table_args__ = (
        Index("ix_customers_owner_id_id", "owner_id", "id"),
        Index("ix_customers_department_path_id", "department_path", "id"),
    )

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    name_key: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    industry: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    source: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    level: Mapped[str | None] = mapped_column(String(10), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="potential", index=True)
    province: Mapped[str | None] = mapped_column(String(50), nullable=True, index=True)
    city: Mapped[str | None] = mapped_column(String(50), nullable=True)
    district: Mapped[str | None] = mapped_column(String(50), nullable=True)
    address: Mapped[str | None] = mapped_column(String(500), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    email: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    website: Mapped[str | None] = mapped_column(String(255), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_followup_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    next_followup_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    custom: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    # public pool (公海): set while the customer sits in a pool; owner_id keeps the last owner, who no longer owns it
    pool_entered_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    pool_path: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    pool_rule_id: Mapped[int | None] = mapped_column(BigID, nullable=True)
    pool_released_by_id: Mapped[int | None] = mapped_column(BigID, nullable=True)
    pool_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
