"""Approvals inbox and decisions; cross-department customer access requests."""

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kith.access import Actor, can, readable, require
from kith.access.models import AccessGrant
from kith.approvals import service
from kith.approvals.models import ApprovalAction, ApprovalFlow, ApprovalRequest
from kith.auth.models import User
from kith.core import clock
from kith.core.types import RecordId, RefId
from kith.core.deps import current_actor, get_session
from kith.core.errors import KithError, not_found
from kith.core.resource import jsonable, names_by_id
from kith.core.types import LongText, SafeStr
from kith.customers.models import Customer

router = APIRouter(tags=["approvals"])


class AccessRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: RefId
    reason: SafeStr = Field(..., min_length=2, max_length=2000)
    duration_days: int = Field(7, ge=1, le=90)
    access: Literal["read", "write"] = "read"


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: LongText = None


class ApprovalOut(BaseModel):
    id: int
    kind: str
    status: str
    applicant: dict[str, Any]
    subject_type: str
    subject_id: RefId
    subject_name: str | None = None
    payload: dict[str, Any]
    reason: str
    current_step: int
    steps: list[dict[str, Any]]
    can_decide: bool
    actions: list[dict[str, Any]]
    created_at: datetime
    decided_at: datetime | None = None
    version: int


def _serialize(session: Session, actor: Actor, reqs: list[ApprovalRequest]) -> list[dict[str, Any]]:
    uids = {r.applicant_id for r in reqs} | {u for r in reqs for step in r.approvers for u in step}
    names = names_by_id(session, User.id, User.display_name, uids)
    flows = {f.id: f for f in session.scalars(select(ApprovalFlow).where(ApprovalFlow.id.in_({r.flow_id for r in reqs})))} if reqs else {}
    ids = [r.id for r in reqs]
    actions: dict[int, list[dict[str, Any]]] = {}
    if ids:
        for a in session.scalars(select(ApprovalAction).where(ApprovalAction.request_id.in_(ids)).order_by(ApprovalAction.id)):
            actions.setdefault(a.request_id, []).append({"step": a.step, "actor": {"id": a.actor_id, "display_name": names.get(a.actor_id)},
                                                          "decision": a.decision, "comment": a.comment, "at": jsonable(a.at)})
    cust_ids = [r.subject_id for r in reqs if r.subject_type == "customer"]
    # the subject's name only for those who may see it or decide on it
    cust_names = names_by_id(session, Customer.id, Customer.name, cust_ids)
    out = []
    for r in reqs:
        flow = flows.get(r.flow_id)
        steps = [{"name": (flow.steps[i].get("name") if flow and i < len(flow.steps) else None),
                  "approvers": [{"id": u, "display_name": names.get(u)} for u in step]} for i, step in enumerate(r.approvers)]
        may_decide = r.status == "pending" and actor.user_id in r.approvers[r.current_step]
        out.append({
            "id": r.id, "kind": r.kind, "status": r.status, "applicant": {"id": r.applicant_id, "display_name": names.get(r.applicant_id)},
            "subject_type": r.subject_type, "subject_id": r.subject_id,
            "subject_name": cust_names.get(r.subject_id) if (may_decide or any(actor.user_id in s for s in r.approvers) or actor.is_admin) else None,
            "payload": r.payload, "reason": r.reason, "current_step": r.current_step, "steps": steps, "can_decide": may_decide,
            "actions": actions.get(r.id, []), "created_at": jsonable(r.created_at), "decided_at": jsonable(r.decided_at), "version": r.version,
        })
    return out


@router.post("/access-requests", status_code=201, response_model=ApprovalOut,
             summary="Ask for time-limited access to a customer outside your scope (goes through approval)")
def request_access(body: AccessRequestIn, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    require(actor, "approval", "create")
    customer = session.scalar(select(Customer).where(Customer.id == body.customer_id, Customer.deleted_at.is_(None)))
    if customer is None:
        raise not_found()
    if session.scalar(select(Customer.id).where(Customer.id == customer.id, readable(actor, Customer, "customer"))) and body.access == "read":
        raise KithError(409, "already_visible")
    pending = session.scalar(select(ApprovalRequest.id).where(ApprovalRequest.kind == "customer_access", ApprovalRequest.applicant_id == actor.user_id,
                                                              ApprovalRequest.subject_id == customer.id, ApprovalRequest.status == "pending"))
    if pending:
        raise KithError(409, "conflict", details={"approval_id": pending})
    req = service.create_request(session, actor, flow_code="customer_access", kind="customer_access", subject_type="customer",
                                 subject_id=customer.id, subject_owner_id=customer.owner_id,
                                 payload={"duration_days": body.duration_days, "access": body.access}, reason=body.reason)
    payload = _serialize(session, actor, [req])[0]
    session.commit()
    return JSONResponse(payload, status_code=201, headers={"Location": f"/api/v1/approvals/{req.id}"})


@router.get("/approvals", summary="Approvals: my inbox (to decide), mine (I asked), or all (administrators)")
def list_approvals(
    box: Literal["inbox", "mine", "all"] = Query("inbox"),
    status: Literal["pending", "approved", "rejected", "withdrawn"] | None = Query(None),
    limit: int = Query(50, ge=1, le=200),
    actor: Actor = Depends(current_actor),
    session: Session = Depends(get_session),
) -> Any:
    require(actor, "approval", "read")
    stmt = select(ApprovalRequest)
    if box == "mine":
        stmt = stmt.where(ApprovalRequest.applicant_id == actor.user_id)
    elif box == "all":
        require(actor, "approval", "manage")
    else:
        stmt = stmt.where(ApprovalRequest.status == "pending")
    if status:
        stmt = stmt.where(ApprovalRequest.status == status)
    rows = list(session.scalars(stmt.order_by(ApprovalRequest.id.desc()).limit(1000 if box == "inbox" else limit)))
    if box == "inbox":
        # approvers are fixed per request; filter the pending ones where I decide the current step
        rows = [r for r in rows if actor.user_id in r.approvers[r.current_step]][:limit]
    return JSONResponse({"items": _serialize(session, actor, rows), "next_cursor": None, "total": len(rows)})


def _visible_request(session: Session, actor: Actor, approval_id: RecordId) -> ApprovalRequest:
    req = session.get(ApprovalRequest, approval_id)
    if req is None or not (service.involved(req, actor.user_id) or can(actor, "approval", "manage")):
        raise not_found()
    return req


@router.get("/approvals/{approval_id}", response_model=ApprovalOut, summary="One approval request")
def get_approval(approval_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    return JSONResponse(_serialize(session, actor, [_visible_request(session, actor, approval_id)])[0])


def _decision_route(decision: str, summary: str):
    def handler(approval_id: RecordId, body: DecisionIn, request: Request, actor: Actor = Depends(current_actor),
                session: Session = Depends(get_session)) -> Any:
        req = _visible_request(session, actor, approval_id)
        service.decide(session, actor, req, decision, body.comment)
        payload = _serialize(session, actor, [req])[0]
        session.commit()
        return JSONResponse(payload)

    router.add_api_route(f"/approvals/{{approval_id}}/{decision}", handler, methods=["POST"], response_model=ApprovalOut,
                         summary=summary, operation_id=f"approval_{decision}", tags=["approvals"])


_decision_route("approve", "Approve the current step (the last approval applies the request)")
_decision_route("reject", "Reject (a comment is required)")
_decision_route("withdraw", "Withdraw my own pending request")
_decision_route("comment", "Comment on a request")


@router.get("/access-grants", summary="Active access grants: mine, or all for administrators")
def list_grants(actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    now = clock.now()
    stmt = select(AccessGrant).where(AccessGrant.revoked_at.is_(None), AccessGrant.expires_at > now)
    if not can(actor, "approval", "manage"):
        stmt = stmt.where(AccessGrant.user_id == actor.user_id)
    rows = list(session.scalars(stmt.order_by(AccessGrant.id.desc()).limit(500)))
    return JSONResponse({"items": [{"id": g.id, "user_id": g.user_id, "customer_id": g.customer_id, "access": g.access,
                                    "starts_at": jsonable(g.starts_at), "expires_at": jsonable(g.expires_at), "approval_id": g.approval_id}
                                   for g in rows]})


_ = (or_,)


# ---- flows (administrators) ---------------------------------------------------------------------
from kith.core.listing import F as _F, ListSpec as _ListSpec  # noqa: E402
from kith.core.resource import Resource as _Resource  # noqa: E402
from kith.core.errors import FieldError as _FieldError, validation as _validation  # noqa: E402


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approver: str = Field(..., pattern=r"^(owner_manager|applicant_manager|role:[a-z][a-z0-9_]*|user:\d+)$",
                          description="owner_manager | applicant_manager | role:<code> | user:<id>")
    name: SafeStr | None = Field(None, max_length=100)


class FlowUpdate(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: SafeStr | None = Field(None, min_length=1, max_length=100)
    name_en: SafeStr | None = Field(None, max_length=100)
    steps: list[StepIn] | None = Field(None, min_length=1, max_length=10)
    active: bool | None = None
    version: int | None = None


class FlowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(..., pattern=r"^[a-z][a-z0-9_]{1,49}$")
    name: SafeStr = Field(..., min_length=1, max_length=100)
    name_en: SafeStr = Field("", max_length=100)
    steps: list[StepIn] = Field(..., min_length=1, max_length=10)
    active: bool = True


class FlowOut(BaseModel):
    id: int
    code: str
    name: str
    name_en: str
    steps: list[dict[str, Any]]
    active: bool
    version: int


class FlowResource(_Resource):
    path = "approval-flows"
    module = "approval"
    model = ApprovalFlow
    scoped = False
    soft_delete = False
    exportable = False
    create_schema = FlowCreate
    update_schema = FlowUpdate
    out_schema = FlowOut
    list_spec = _ListSpec(model=ApprovalFlow, module="approval", scoped=False, soft_delete=False, default_sort="id",
                          fields={"code": _F(ApprovalFlow.code, nullable=False), "active": _F(ApprovalFlow.active, "bool", nullable=False)})

    def to_dict(self, session, actor, obj, ctx):
        return {"id": obj.id, "code": obj.code, "name": obj.name, "name_en": obj.name_en, "steps": obj.steps, "active": obj.active}

    def create(self, session, actor, data, custom, request):
        require(actor, "approval", "manage")
        if session.scalar(select(ApprovalFlow.id).where(ApprovalFlow.code == data["code"])):
            raise KithError(409, "duplicate_value", fields=[_FieldError("code", "duplicate_value")])
        flow = ApprovalFlow(**data)
        session.add(flow)
        return flow

    def update(self, session, actor, obj, data, custom):
        require(actor, "approval", "manage")
        if "name" in data and not data["name"]:
            raise _validation(_FieldError("name", "required"))
        if data.get("name_en") is None and "name_en" in data:
            data["name_en"] = ""
        return super().update(session, actor, obj, data, custom)

    def delete(self, session, actor, obj):
        require(actor, "approval", "manage")
        obj.active = False


flow_router = FlowResource().router()
