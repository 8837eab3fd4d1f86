"""Home-page pins, and the indexes the report group-bys use (created by migration 0013)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kith.activities.models import Event, Followup
from kith.contracts.models import Payment
from kith.db.base import Base, BigID, IdMixin, JSONType, utcnow
from kith.opportunities.models import Opportunity, StageHistory


class ReportPin(IdMixin, Base):
    """A chart a user pinned to their home page: a report name and its filters."""

    __tablename__ = "report_pins"
    __table_args__ = (Index("ix_report_pins_user_id_position", "user_id", "position"),)

    user_id: Mapped[int] = mapped_column(BigID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    report: Mapped[str] = mapped_column(String(40), nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)


# Plain (non-partial) indexes for the report group-bys; the partial ones (live rows, department
# prefixes) are created by hand in the migration and named *_live_* (see kith.db.migrate.include_object).
REPORT_INDEXES = [
    Index("ix_events_type_occurred_at", Event.type, Event.occurred_at),
    Index("ix_followups_occurred_at", Followup.occurred_at),
    Index("ix_payments_received_on_contract_id", Payment.received_on, Payment.contract_id),
    Index("ix_opportunities_status_closed_at", Opportunity.status, Opportunity.closed_at),
    Index("ix_opportunity_stage_history_changed_at", StageHistory.changed_at),
]

# the exact customer counts behind completeness / follow-up timeliness, kept by a flush listener (ADR 0017)
from kith.reports.rollup import CustomerCount  # noqa: E402,F401
from kith.reports.stage_days import StageDayCount  # noqa: E402,F401
from kith.reports.followup_days import FollowupDayCount  # noqa: E402,F401
