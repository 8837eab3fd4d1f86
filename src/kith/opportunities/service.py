"""Pipeline rules: the mandatory next action, stage moves with history, won/lost."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.access import Actor
from kith.activities.events import emit
from kith.core import clock
from kith.core.errors import FieldError, KithError, validation
from kith.opportunities.models import Opportunity, Pipeline, Stage, StageHistory


def default_pipeline(session: Session) -> Pipeline:
    pipeline = session.scalar(select(Pipeline).where(Pipeline.is_default.is_(True)).order_by(Pipeline.id).limit(1))
    if pipeline is None:
        pipeline = session.scalar(select(Pipeline).order_by(Pipeline.position, Pipeline.id).limit(1))
    if pipeline is None:
        raise KithError(409, "conflict")
    return pipeline


def first_stage(session: Session, pipeline_id: int) -> Stage:
    stage = session.scalar(select(Stage).where(Stage.pipeline_id == pipeline_id).order_by(Stage.position, Stage.id).limit(1))
    if stage is None:
        raise validation(FieldError("pipeline_id", "invalid_reference"))
    return stage


def stage_of(session: Session, stage_id: int, pipeline_id: int | None, field: str = "stage_id") -> Stage:
    stage = session.get(Stage, stage_id)
    if stage is None:
        raise validation(FieldError(field, "invalid_reference"))
    if pipeline_id is not None and stage.pipeline_id != pipeline_id:
        raise validation(FieldError(field, "stage_not_in_pipeline"))
    return stage


def require_next_action(next_action: str | None, due: datetime | None) -> None:
    errors = []
    if not next_action:
        errors.append(FieldError("next_action", "next_action_required"))
    if due is None:
        errors.append(FieldError("next_action_due", "next_action_required"))
    if errors:
        raise validation(*errors)


def apply_stage(session: Session, actor: Actor, opp: Opportunity, stage: Stage, *, next_action: str | None,
                next_action_due: datetime | None, lost_reason: str | None) -> None:
    """Move to `stage`: open stages need a next action; lost needs a reason; history and event kept."""
    if stage.kind == "open":
        require_next_action(next_action, next_action_due)
        opp.next_action, opp.next_action_due = next_action, next_action_due
        opp.status = "open"
        opp.closed_at = None
        opp.lost_reason = None
    elif stage.kind == "lost":
        if not (lost_reason or opp.lost_reason):
            raise validation(FieldError("lost_reason", "lost_reason_required"))
        opp.lost_reason = lost_reason or opp.lost_reason
        opp.status = "lost"
        opp.closed_at = clock.now()
    else:
        opp.status = "won"
        opp.closed_at = clock.now()
        if next_action is not None:
            opp.next_action = next_action
    if stage.id == opp.stage_id:
        return
    old = session.get(Stage, opp.stage_id) if opp.stage_id else None
    now = clock.now()
    session.add(StageHistory(opportunity_id=opp.id, from_stage_id=opp.stage_id, to_stage_id=stage.id, changed_at=now,
                             changed_by_id=actor.user_id, next_action=opp.next_action))
    opp.stage_id = stage.id
    opp.stage_changed_at = now
    emit(session, actor, type="opportunity.stage_changed", entity_type="opportunity", entity_id=opp.id, customer_id=opp.customer_id,
         summary=opp.name, data={"changes": {"stage": [old.name if old else None, stage.name]}, "status": opp.status,
                                 "next_action": opp.next_action, "lost_reason": opp.lost_reason})


def check_open_has_next_action(opp: Opportunity) -> None:
    if opp.status == "open":
        require_next_action(opp.next_action, opp.next_action_due)


TRACKED = ("name", "amount", "expected_close_date", "next_action")


def changes(before: dict[str, Any], opp: Opportunity) -> dict[str, list[Any]]:
    out = {}
    for key in TRACKED:
        if key in before and before[key] != getattr(opp, key):
            old, new = before[key], getattr(opp, key)
            out[key] = [str(old) if isinstance(old, Decimal) else old, str(new) if isinstance(new, Decimal) else new]
    return out
