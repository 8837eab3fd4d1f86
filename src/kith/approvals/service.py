"""The approval engine: requests walk ordered steps; each step's approvers are fixed when the request is made."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.access import Actor
from kith.access.models import AccessGrant
from kith.approvals.models import ApprovalAction, ApprovalFlow, ApprovalRequest
from kith.audit import service as audit
from kith.auth.models import Department, Role, User, UserRole
from kith.config import get_settings
from kith.core import clock
from kith.core.errors import FieldError, KithError, validation

DEFAULT_FLOWS = [
    {"code": "customer_access", "name": "跨部门客户访问申请", "name_en": "Cross-department customer access",
     "steps": [{"approver": "owner_manager", "name": "客户负责人所在部门主管"}]},
]


def ensure_default_flows(session: Session) -> None:
    existing = {f.code for f in session.scalars(select(ApprovalFlow))}
    for spec in DEFAULT_FLOWS:
        if spec["code"] not in existing:
            session.add(ApprovalFlow(**spec))
    session.flush()


def _manager_of(session: Session, dept_id: int | None, exclude: int | None = None) -> list[int]:
    """The manager of the department, or of the nearest ancestor that has one (never the applicant)."""
    while dept_id is not None:
        dept = session.get(Department, dept_id)
        if dept is None:
            break
        if dept.manager_id and dept.manager_id != exclude:
            mgr = session.get(User, dept.manager_id)
            if mgr is not None and mgr.is_active:
                return [mgr.id]
        dept_id = dept.parent_id
    return []


def _admins(session: Session) -> list[int]:
    return list(session.scalars(select(User.id).join(UserRole, UserRole.user_id == User.id).join(Role, Role.id == UserRole.role_id)
                                .where(Role.code == "admin", User.is_active.is_(True)).order_by(User.id)))


def resolve_step(session: Session, spec: dict[str, Any], applicant: User, subject_owner: User | None) -> list[int]:
    rule = str(spec.get("approver", ""))
    ids: list[int] = []
    if rule == "owner_manager" and subject_owner is not None:
        ids = _manager_of(session, subject_owner.department_id, exclude=applicant.id)
    elif rule == "applicant_manager":
        ids = _manager_of(session, applicant.department_id, exclude=applicant.id)
    elif rule.startswith("role:"):
        ids = list(session.scalars(select(User.id).join(UserRole, UserRole.user_id == User.id).join(Role, Role.id == UserRole.role_id)
                                   .where(Role.code == rule[5:], User.is_active.is_(True), User.id != applicant.id).order_by(User.id)))
    elif rule.startswith("user:") and rule[5:].isdigit():
        user = session.get(User, int(rule[5:]))
        ids = [user.id] if user is not None and user.is_active else []
    # nobody to ask: administrators decide
    return ids or [i for i in _admins(session) if i != applicant.id] or _admins(session)


def create_request(session: Session, actor: Actor, *, flow_code: str, kind: str, subject_type: str, subject_id: int,
                   subject_owner_id: int | None, payload: dict[str, Any], reason: str) -> ApprovalRequest:
    flow = session.scalar(select(ApprovalFlow).where(ApprovalFlow.code == flow_code, ApprovalFlow.active.is_(True)))
    if flow is None or not flow.steps:
        raise KithError(409, "conflict")
    applicant = session.get(User, actor.user_id)
    assert applicant is not None
    owner = session.get(User, subject_owner_id) if subject_owner_id else None
    approvers = [resolve_step(session, step, applicant, owner) for step in flow.steps]
    req = ApprovalRequest(flow_id=flow.id, kind=kind, applicant_id=actor.user_id, subject_type=subject_type, subject_id=subject_id,
                          payload=payload, reason=reason, status="pending", current_step=0, approvers=approvers)
    session.add(req)
    session.flush()
    _notify_step(session, req, "approval_requested")
    return req


def _subject_name(session: Session, req: ApprovalRequest) -> str:
    from kith.customers.models import Customer

    customer = session.get(Customer, req.subject_id) if req.subject_type == "customer" else None
    return customer.name if customer else f"#{req.subject_id}"


def _local_time(session: Session, user_id: int, at: datetime) -> str:
    """``at`` as the user reads it: their time zone (the installation's when unset), with its abbreviation."""
    user = session.get(User, user_id)
    zone = (user.timezone if user is not None else None) or get_settings().timezone
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def _notify_step(session: Session, req: ApprovalRequest, kind: str) -> None:
    """The approvers of the current step may see the subject: their message names it."""
    from kith.notifications.service import notify

    applicant = session.get(User, req.applicant_id)
    notify(session, req.approvers[req.current_step], kind,
           {"applicant": applicant.display_name if applicant else "?", "customer": _subject_name(session, req),
            "days": req.payload.get("duration_days", "")}, link=f"/approvals/{req.id}", entity_type="approval", entity_id=req.id)


def involved(req: ApprovalRequest, user_id: int) -> bool:
    return req.applicant_id == user_id or any(user_id in step for step in req.approvers)


def decide(session: Session, actor: Actor, req: ApprovalRequest, decision: str, comment: str | None) -> ApprovalRequest:
    now = clock.now()
    if decision == "comment":
        if not involved(req, actor.user_id) and not actor.is_admin:
            raise KithError(403, "forbidden")
    elif req.status != "pending":
        raise KithError(409, "conflict", details={"status": req.status})
    elif decision == "withdraw":
        if req.applicant_id != actor.user_id:
            raise KithError(403, "forbidden")
        req.status, req.decided_at = "withdrawn", now
    else:
        if actor.user_id not in req.approvers[req.current_step]:
            raise KithError(403, "forbidden")
        from kith.notifications.service import notify

        if decision == "reject":
            if not comment:
                raise validation(FieldError("comment", "required"))
            req.status, req.decided_at = "rejected", now
            # the applicant may not see the customer: the message carries its number only
            notify(session, [req.applicant_id], "approval_rejected", {"customer_id": req.subject_id, "comment": comment[:200]},
                   link=f"/approvals/{req.id}", entity_type="approval", entity_id=req.id)
        else:
            if req.current_step + 1 < len(req.approvers):
                req.current_step += 1
                _notify_step(session, req, "approval_next_step")
            else:
                req.status, req.decided_at = "approved", now
                grant = _apply(session, req)
                # approved: the applicant may now see the customer, so the message names it; the expiry is in
                # the applicant's own time zone
                notify(session, [req.applicant_id], "approval_approved",
                       {"customer_id": req.subject_id, "customer": _subject_name(session, req),
                        "expires": _local_time(session, req.applicant_id, grant.expires_at) if grant else ""},
                       link=f"/customers/{req.subject_id}", entity_type="approval", entity_id=req.id)
    session.add(ApprovalAction(request_id=req.id, step=req.current_step, actor_id=actor.user_id, decision=decision, comment=comment, at=now))
    session.flush()
    return req


def _apply(session: Session, req: ApprovalRequest) -> AccessGrant | None:
    """What an approved request does."""
    if req.kind == "customer_access":
        days = int(req.payload.get("duration_days", 7))
        now = clock.now()
        grant = AccessGrant(user_id=req.applicant_id, customer_id=req.subject_id, access=req.payload.get("access", "read"),
                            starts_at=now, expires_at=now + timedelta(days=days), approval_id=req.id)
        session.add(grant)
        session.flush()
        audit.record(session, "access_granted", entity_type="customer", entity_id=req.subject_id,
                     changes={"user_id": req.applicant_id, "access": grant.access, "expires_at": grant.expires_at, "approval_id": req.id})
        return grant
    return None
