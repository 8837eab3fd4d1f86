"""A general approval engine: flows with ordered steps, requests, and the decisions taken on them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kith.db.base import Base, BigID, IdMixin, JSONType, TimestampMixin, VersionedMixin


class ApprovalFlow(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "approval_flows"

    code: Mapped[str] = mapped_column(String(50), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    name_en: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    # [{"approver": "owner_manager" | "applicant_manager" | "role:<code>" | "user:<id>", "name": "..."}]
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False, default=list)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class ApprovalRequest(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "approval_requests"
    __table_args__ = (Index("ix_approval_requests_status_step", "status", "current_step"),)

    flow_id: Mapped[int] = mapped_column(BigID, ForeignKey("approval_flows.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(50), nullable=False)  # e.g. customer_access
    applicant_id: Mapped[int] = mapped_column(BigID, ForeignKey("users.id"), nullable=False, index=True)
    subject_type: Mapped[str] = mapped_column(String(30), nullable=False)
    subject_id: Mapped[int] = mapped_column(BigID, nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending", index=True)  # pending|approved|rejected|withdrawn
    current_step: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # resolved approver user ids per step, fixed when the request is made: [[ids of step 0], [ids of step 1], ...]
    approvers: Mapped[list[list[int]]] = mapped_column(JSONType, nullable=False, default=list)
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)


class ApprovalAction(IdMixin, Base):
    __tablename__ = "approval_actions"

    request_id: Mapped[int] = mapped_column(BigID, ForeignKey("approval_requests.id", ondelete="CASCADE"), nullable=False, index=True)
    step: Mapped[int] = mapped_column(Integer, nullable=False)
    actor_id: Mapped[int] = mapped_column(BigID, ForeignKey("users.id"), nullable=False)
    decision: Mapped[str] = mapped_column(String(20), nullable=False)  # approve | reject | withdraw | comment
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(nullable=False)
