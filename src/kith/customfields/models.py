from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kith.db.base import Base, IdMixin, JSONType, TimestampMixin, VersionedMixin

FIELD_TYPES = ("text", "number", "date", "select", "multiselect", "boolean", "user")
ENTITY_TYPES = ("customer", "contact", "opportunity")


class CustomField(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A field an administrator adds to customers, contacts or opportunities; values live in `custom`."""

    __tablename__ = "custom_fields"
    __table_args__ = (UniqueConstraint("entity_type", "name"),)

    entity_type: Mapped[str] = mapped_column(String(20), nullable=False)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    label: Mapped[str] = mapped_column(String(100), nullable=False)
    label_en: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    field_type: Mapped[str] = mapped_column(String(20), nullable=False)
    required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    options: Mapped[list[Any]] = mapped_column(JSONType, nullable=False, default=list)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
