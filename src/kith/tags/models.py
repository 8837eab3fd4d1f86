from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kith.db.base import Base, BigID, IdMixin, TimestampMixin, VersionedMixin


class Tag(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "tags"

    name: Mapped[str] = mapped_column(String(50), nullable=False, unique=True)
    color: Mapped[str] = mapped_column(String(16), nullable=False, default="#409EFF")


class Tagging(IdMixin, Base):
    """A tag on a customer, contact or opportunity."""

    __tablename__ = "taggings"
    __table_args__ = (
        UniqueConstraint("tag_id", "entity_type", "entity_id"),
        Index("ix_taggings_entity", "entity_type", "entity_id"),
    )

    tag_id: Mapped[int] = mapped_column(BigID, ForeignKey("tags.id", ondelete="CASCADE"), nullable=False)
    entity_type: Mapped[str] = mapped_column(String(20), nullable=False)
    entity_id: Mapped[int] = mapped_column(BigID, nullable=False)
