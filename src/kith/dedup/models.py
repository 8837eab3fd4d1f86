"""A merge of two records, kept with everything needed to undo it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from kith.db.base import Base, BigID, IdMixin, JSONType, utcnow


class Merge(IdMixin, Base):
    """``other`` was merged into ``survivor`` (and soft-deleted: this row is its pointer to the survivor).

    ``data`` holds the undo information: the survivor's field values before and after, the versions
    both records had right after the merge, and every moved row (table, column, id, version after the
    move, previous owner fields)."""

    __tablename__ = "merges"
    __table_args__ = (
        Index("ix_merges_entity_other", "entity_type", "other_id"),
        Index("ix_merges_entity_survivor", "entity_type", "survivor_id"),
    )

    entity_type: Mapped[str] = mapped_column(String(20), nullable=False)
    survivor_id: Mapped[int] = mapped_column(BigID, nullable=False)
    other_id: Mapped[int] = mapped_column(BigID, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    undone_at: Mapped[datetime | None] = mapped_column(nullable=True)
    undone_by_id: Mapped[int | None] = mapped_column(BigID, nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
