"""Import batches, their rows (one per source row, with its outcome) and saved mapping templates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kith.db.base import Base, BigID, IdMixin, JSONType

BATCH_STATUSES = ("uploaded", "previewed", "running", "done", "failed", "rolled_back")
ROW_STATUSES = ("pending", "created", "updated", "merged", "skipped", "rejected")


class ImportBatch(IdMixin, Base):
    __tablename__ = "import_batches"
    __table_args__ = (Index("ix_import_batches_created_by_id_id", "created_by_id", "id"),)

    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    file_path: Mapped[str] = mapped_column(String(500), nullable=False)
    file_size: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    checksum: Mapped[str] = mapped_column(String(64), nullable=False)
    encoding: Mapped[str | None] = mapped_column(String(20), nullable=True)
    sheets: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    sheet: Mapped[str | None] = mapped_column(String(100), nullable=True)
    header_row: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    headers: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    # [{"column": 0, "header": "客户名称", "field": "name", "confidence": 1.0}]
    mapping: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False, default=list)
    # rules for duplicates, chunk size …
    options: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="uploaded", index=True)
    total_rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    counts: Mapped[dict[str, int]] = mapped_column(JSONType, nullable=False, default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    backup_path: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # events written by the batch all have an id above this (rollback removes them)
    event_floor: Mapped[int | None] = mapped_column(BigID, nullable=True)
    runner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_by_id: Mapped[int] = mapped_column(BigID, ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    rolled_back_at: Mapped[datetime | None] = mapped_column(nullable=True)


class ImportRow(IdMixin, Base):
    """One source row: raw and cleaned values, validation, duplicate candidates, then its outcome.
    The outcome is written in the same transaction as the records it created or changed."""

    __tablename__ = "import_rows"
    __table_args__ = (
        UniqueConstraint("batch_id", "row_number"),
        Index("ix_import_rows_batch_id_status_row_number", "batch_id", "status", "row_number"),
    )

    batch_id: Mapped[int] = mapped_column(BigID, ForeignKey("import_batches.id", ondelete="CASCADE"), nullable=False)
    row_number: Mapped[int] = mapped_column(Integer, nullable=False)
    raw: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    cleaned: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    # field -> {"raw", "value", "display"} for values the cleaning changed
    changes: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False, default=list)
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False, default=list)
    # the action proposed by analysis and the user's decision: create | skip | merge:<id> | update:<id>
    proposed: Mapped[str | None] = mapped_column(String(40), nullable=True)
    decision: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    record_id: Mapped[int | None] = mapped_column(BigID, nullable=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    after_version: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ImportTemplate(IdMixin, Base):
    """A saved mapping: source header text -> target field, per record kind."""

    __tablename__ = "import_templates"
    __table_args__ = (UniqueConstraint("created_by_id", "kind", "name"),)

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    mapping: Mapped[dict[str, str]] = mapped_column(JSONType, nullable=False, default=dict)
    created_by_id: Mapped[int] = mapped_column(BigID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
