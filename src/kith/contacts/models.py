from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from kith.db.base import Base, BigID, IdMixin, JSONType, OwnedMixin, SearchMixin, SoftDeleteMixin, TimestampMixin, VersionedMixin


class Contact(IdMixin, TimestampMixin, VersionedMixin, OwnedMixin, SoftDeleteMixin, SearchMixin, Base):
    """A person at a customer. Owner and department follow the customer's (kept in step on transfer)."""

    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_customer_id_id", "customer_id", "id"),)

    customer_id: Mapped[int] = mapped_column(BigID, ForeignKey("customers.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    title: Mapped[str | None] = mapped_column(String(100), nullable=True)
    mobile: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    email: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    wechat: Mapped[str | None] = mapped_column(String(100), nullable=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    custom: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
