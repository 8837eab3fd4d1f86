"""Reports API: /reports/<name> (JSON or xlsx), /reports/<name>/records (drill-down), /dashboards (role default + pins)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kith.access import Actor, require
from kith.core.deps import current_actor, get_session
from kith.core.errors import FieldError, KithError, validation
from kith.reports import cache  # noqa: F401  (registers the invalidation listeners)
from kith.reports import service
from kith.reports.models import ReportPin

router = APIRouter(tags=["reports"])
FILTERS = ("period", "from", "to", "department_id", "owner_id", "days", "pipeline_id")
MAX_PINS = 30
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _params(request: Request) -> dict[str, Any]:
    q = request.query_params
    return {k: q.get(k) for k in FILTERS if q.get(k) not in (None, "")}


@router.get("/reports", summary="Reports the caller may open (name and title)")
def list_reports(actor: Actor = Depends(current_actor)) -> dict[str, Any]:
    require(actor, "report", "read")
    zh = actor.language != "en"
    return {"items": [{"name": n, "title": service.TITLES[n][0 if zh else 1]} for n in service.available(actor)]}


@router.get("/reports/{name}", summary="One report over the caller's data scope; ?format=xlsx (or <name>.xlsx) exports it",
            responses={200: {"content": {"application/json": {}, XLSX: {}}}})
def get_report(name: str, request: Request, format: str = Query("json", pattern="^(json|xlsx)$"),
               period: str | None = Query(None, description="week | month | quarter | year | custom"),
               from_: str | None = Query(None, alias="from", description="custom period start (YYYY-MM-DD)"),
               to: str | None = Query(None, description="custom period end, inclusive (YYYY-MM-DD)"),
               department_id: str | None = Query(None, description="department subtree (narrows the scope)"),
               owner_id: str | None = Query(None), days: str | None = Query(None, description="follow-up window in days"),
               pipeline_id: str | None = Query(None),
               session: Session = Depends(get_session), actor: Actor = Depends(current_actor)) -> Any:
    if name.endswith(".xlsx"):
        name, format = name[: -len(".xlsx")], "xlsx"
    payload = service.run(session, actor, name, _params(request))
    if format == "xlsx":
        require(actor, "report", "export")
        body = service.xlsx(payload)
        return Response(body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="report-{name}.xlsx"'})
    return payload


@router.get("/reports/{name}/records", summary="Drill-down: the records behind one figure (bucket) of a report")
def report_records(name: str, request: Request, bucket: str | None = Query(None, max_length=200),
                   limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=100_000),
                   period: str | None = Query(None), from_: str | None = Query(None, alias="from"), to: str | None = Query(None),
                   department_id: str | None = Query(None), owner_id: str | None = Query(None), days: str | None = Query(None),
                   pipeline_id: str | None = Query(None),
                   session: Session = Depends(get_session), actor: Actor = Depends(current_actor)) -> dict[str, Any]:
    return service.records(session, actor, name, _params(request), bucket, limit=limit, offset=offset)


class PinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    report: str = Field(..., max_length=40)
    params: dict[str, str] = Field(default_factory=dict)


def _pin(p: ReportPin) -> dict[str, Any]:
    return {"id": p.id, "report": p.report, "params": p.params or {}, "position": p.position}


@router.get("/dashboards/me", summary="My dashboard: the default charts of my role and my home-page pins")
def my_dashboard(session: Session = Depends(get_session), actor: Actor = Depends(current_actor)) -> dict[str, Any]:
    require(actor, "report", "read")
    role, charts = service.default_dashboard(actor)
    ok = set(service.available(actor))
    pins = session.scalars(select(ReportPin).where(ReportPin.user_id == actor.user_id).order_by(ReportPin.position, ReportPin.id))
    return {"role": role, "charts": [{"report": c, "params": {"period": "month"}} for c in charts],
            "pins": [_pin(p) for p in pins if p.report in ok]}


@router.post("/dashboards/pins", status_code=201, summary="Pin a chart (a report and its filters) to my home page")
def add_pin(body: PinIn, session: Session = Depends(get_session), actor: Actor = Depends(current_actor)) -> dict[str, Any]:
    require(actor, "report", "read")
    if body.report not in service.REPORTS:
        raise validation(FieldError("report", "unknown_report"))
    service.check(actor, body.report)
    unknown = [k for k in body.params if k not in FILTERS]
    if unknown:
        raise validation(FieldError(f"params.{unknown[0]}", "invalid_filter"))
    service.resolve(session, actor, body.params)  # bad filters → 422 now, not on the home page
    count = session.scalar(select(func.count()).select_from(ReportPin).where(ReportPin.user_id == actor.user_id)) or 0
    if count >= MAX_PINS:
        raise validation(FieldError("report", "too_many_pins"))
    pin = ReportPin(user_id=actor.user_id, report=body.report, params=dict(body.params), position=count)
    session.add(pin)
    session.commit()
    return _pin(pin)


@router.delete("/dashboards/pins/{pin_id}", status_code=204, response_class=Response, summary="Unpin a chart from my home page")
def remove_pin(pin_id: int, session: Session = Depends(get_session), actor: Actor = Depends(current_actor)) -> Response:
    require(actor, "report", "read")
    done = session.execute(delete(ReportPin).where(ReportPin.id == pin_id, ReportPin.user_id == actor.user_id))
    if not done.rowcount:
        raise KithError(404, "not_found")
    session.commit()
    return Response(status_code=204)
