"""/api/v1/imports and /api/v1/import-templates: the import wizard's API."""

from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.access import Actor, can, require
from kith.access.gate import hidden_fields
from kith.core import clock, idempotency
from kith.core.deps import current_actor, get_session
from kith.core.errors import FieldError, KithError, not_found, validation
from kith.core.types import RecordId
from kith.imports import service
from kith.imports.mapping import KINDS
from kith.imports.models import ImportBatch, ImportRow, ImportTemplate

router = APIRouter(prefix="/imports", tags=["imports"])
templates_router = APIRouter(prefix="/import-templates", tags=["imports"])

Kind = Literal["customer", "contact", "opportunity", "followup"]


class MappingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sheet: str | None = Field(None, max_length=100)
    header_row: int | None = Field(None, ge=1, le=1000)
    template_id: int | None = Field(None, ge=1)
    mapping: dict[str, str | None] | None = Field(None, description="column index -> target field (null: ignore the column)")
    save_as: str | None = Field(None, min_length=1, max_length=100, description="save the mapping as a template with this name")


class RulesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    existing: Literal["skip", "merge", "create"] | None = None
    min_score: float | None = Field(None, ge=0, le=1)
    in_file: Literal["skip", "create"] | None = None


class DecisionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: dict[str, str | None] | None = Field(None, description="row number -> create | skip | merge:<id> (null: back to the rule)")
    rules: RulesIn | None = None


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1, max_length=100)
    kind: Kind
    mapping: dict[str, str | None] = Field(..., description="source header -> target field (null: ignore the column)")


def _batch(session: Session, actor: Actor, batch_id: int) -> ImportBatch:
    return service.visible_batch(session, actor, batch_id)


def _locked(session: Session, batch_id: int) -> ImportBatch:
    """Re-read the batch row for a state change (FOR UPDATE on PostgreSQL)."""
    batch = session.scalar(select(ImportBatch).where(ImportBatch.id == batch_id).with_for_update())
    assert batch is not None
    return batch


@router.post("", status_code=201, summary="Upload a spreadsheet (xlsx, xls, csv): sheets, detected header row and proposed mapping",
             operation_id="create_import")
async def upload(
    file: UploadFile = File(...),
    kind: Kind = Form("customer"),
    sheet: str | None = Form(None, max_length=100),
    template_id: int | None = Form(None, ge=1),
    actor: Actor = Depends(current_actor),
    session: Session = Depends(get_session),
) -> Any:
    require(actor, kind, "import")
    data = await file.read(service.parser.MAX_BYTES + 1)
    batch = service.create_batch(session, actor, file_name=file.filename or "upload", data=data, kind=kind, sheet=sheet,
                                 template_id=template_id)
    payload = service.batch_out(session, actor, batch)
    session.commit()
    return JSONResponse(payload, status_code=201, headers={"Location": f"/api/v1/imports/{batch.id}"})


@router.get("", summary="My import batches, newest first", operation_id="list_imports")
def list_batches(limit: int = Query(20, ge=1, le=100), actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    rows = session.scalars(select(ImportBatch).where(ImportBatch.created_by_id == actor.user_id).order_by(ImportBatch.id.desc()).limit(limit))
    return JSONResponse({"items": [service.batch_out(session, actor, b) for b in rows]})


@router.get("/{batch_id}", summary="A batch: status, progress and counts (polled while it runs)", operation_id="get_import")
def get_batch(batch_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    return JSONResponse(service.batch_out(session, actor, _batch(session, actor, batch_id)))


@router.put("/{batch_id}/mapping", summary="Choose the sheet / header row / template, correct the mapping, save it as a template",
            operation_id="set_import_mapping")
def set_mapping(batch_id: RecordId, body: MappingIn, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    batch = _batch(session, actor, batch_id)
    require(actor, batch.kind, "import")
    service.set_mapping(session, actor, _locked(session, batch.id), body.model_dump(exclude_unset=True))
    payload = service.batch_out(session, actor, batch)
    session.commit()
    return JSONResponse(payload)


@router.get("/{batch_id}/preview", summary="Every row: validation, cleaned values with what changed, duplicate candidates",
            operation_id="preview_import")
def preview(
    batch_id: RecordId,
    cursor: int = Query(0, ge=0, description="the last row number of the previous page"),
    limit: int = Query(100, ge=1, le=500),
    status: Literal["pending", "rejected", "duplicates", "created", "updated", "merged", "skipped"] | None = Query(None),
    actor: Actor = Depends(current_actor),
    session: Session = Depends(get_session),
) -> Any:
    batch = _batch(session, actor, batch_id)
    require(actor, batch.kind, "import")
    if batch.status == "uploaded":
        batch = _locked(session, batch.id)
        if batch.status == "uploaded":
            service.analyse(session, actor, batch)
            session.commit()
    stmt = select(ImportRow).where(ImportRow.batch_id == batch.id, ImportRow.row_number > cursor)
    if status == "duplicates":
        stmt = stmt.where(ImportRow.proposed.is_not(None), ImportRow.proposed != "create")
    elif status:
        stmt = stmt.where(ImportRow.status == status)
    rows = list(session.scalars(stmt.order_by(ImportRow.row_number).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    hidden = hidden_fields(actor, batch.kind)
    rules = {**service.DEFAULT_RULES, **((batch.options or {}).get("rules") or {})}
    items = [service.row_out(r, hidden, rules) for r in rows]
    return JSONResponse({"items": items, "next_cursor": str(rows[-1].row_number) if more else None,
                         "counts": batch.counts, "status": batch.status})


@router.put("/{batch_id}/decisions", summary="Per-row decisions (create / merge:<id> / skip) and duplicate rules",
            operation_id="set_import_decisions")
def decisions(batch_id: RecordId, body: DecisionsIn, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    batch = _batch(session, actor, batch_id)
    require(actor, batch.kind, "import")
    data = body.model_dump(exclude_none=True)
    if body.rows is not None:
        data["rows"] = body.rows
    service.set_decisions(session, actor, _locked(session, batch.id), data)
    payload = service.batch_out(session, actor, batch)
    session.commit()
    return JSONResponse(payload)


@router.post("/{batch_id}/run", status_code=202, summary="Run the import in the background (Idempotency-Key honoured)",
             operation_id="run_import")
def run(request: Request, batch_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    batch = _batch(session, actor, batch_id)
    require(actor, batch.kind, "import")
    key = request.headers.get("idempotency-key")
    digest = None
    if key:
        if len(key) > 255:
            raise validation(FieldError("Idempotency-Key", "too_long", {"max": 255}))
        digest = idempotency.body_hash(request.url.path, {})
        replay = idempotency.lookup(session, actor.user_id, key, request.url.path, digest)
        if replay is not None:
            return JSONResponse(replay.response, status_code=replay.status_code, headers={**replay.headers, "Idempotent-Replay": "true"})
    batch = _locked(session, batch.id)
    service.start(session, actor, batch)
    payload = service.batch_out(session, actor, batch)
    if key and digest:
        idempotency.remember(session, actor.user_id, key, request.url.path, digest, 202, payload, {})
    session.commit()  # the job runs after this commit (synchronously in tests)
    session.expire_all()
    batch = session.get(ImportBatch, batch_id)
    return JSONResponse(service.batch_out(session, actor, batch), status_code=202)


@router.post("/{batch_id}/resume", status_code=202, summary="Resume a batch whose run stopped (crash, failure)",
             operation_id="resume_import")
def resume(batch_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    batch = _batch(session, actor, batch_id)
    service.resume(session, actor, _locked(session, batch.id))
    session.commit()
    session.expire_all()
    return JSONResponse(service.batch_out(session, actor, session.get(ImportBatch, batch_id)), status_code=202)


@router.get("/{batch_id}/report.xlsx", summary="The report: every source row with its status and reason; counts add up",
            operation_id="import_report", response_class=Response,
            responses={200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}})
def report(batch_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Response:
    batch = _batch(session, actor, batch_id)
    if batch.status == "uploaded":
        raise KithError(409, "import_not_previewed")
    body = service.report_xlsx(session, actor, batch)
    name = f"import-{batch.id}-{clock.now().strftime('%Y%m%d-%H%M%S')}.xlsx"
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/{batch_id}/rollback", summary="Undo the batch: creations removed, updates and merges reverted (409 lists blockers)",
             operation_id="rollback_import", responses={409: {"description": "records changed since block the rollback"}})
def rollback(batch_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    batch = _batch(session, actor, batch_id)
    result = service.rollback(session, actor, _locked(session, batch.id))
    payload = {**service.batch_out(session, actor, batch), "rollback": result}
    session.commit()
    return JSONResponse(payload)


# ---- templates ------------------------------------------------------------------------------

def _template_out(t: ImportTemplate) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "kind": t.kind, "mapping": t.mapping, "created_at": t.created_at.isoformat()}


@templates_router.get("", summary="My saved mapping templates", operation_id="list_import_templates")
def list_templates(kind: Kind | None = Query(None), actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    stmt = select(ImportTemplate).where(ImportTemplate.created_by_id == actor.user_id)
    if kind:
        stmt = stmt.where(ImportTemplate.kind == kind)
    return JSONResponse({"items": [_template_out(t) for t in session.scalars(stmt.order_by(ImportTemplate.name))]})


@templates_router.post("", status_code=201, summary="Save a mapping template", operation_id="create_import_template")
def create_template(body: TemplateIn, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    require(actor, body.kind, "import")
    from kith.imports.mapping import targets

    valid = set(targets(body.kind)) | {f"cf_{d.name}" for d in service.custom_defs(session, body.kind)}
    bad = [FieldError(f"mapping.{k}", "unknown_field") for k, v in body.mapping.items() if v is not None and v not in valid]
    if bad:
        raise validation(*bad)
    tpl = service.save_template(session, actor, body.kind, body.name, body.mapping)
    session.flush()
    out = _template_out(tpl)
    session.commit()
    return JSONResponse(out, status_code=201, headers={"Location": f"/api/v1/import-templates/{tpl.id}"})


@templates_router.get("/{template_id}", summary="One of my saved mapping templates", operation_id="get_import_template")
def get_template(template_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    tpl = session.get(ImportTemplate, template_id)
    if tpl is None or tpl.created_by_id != actor.user_id:
        raise not_found()
    return JSONResponse(_template_out(tpl))


@templates_router.delete("/{template_id}", status_code=204, summary="Delete a mapping template", operation_id="delete_import_template")
def delete_template(template_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Response:
    tpl = session.get(ImportTemplate, template_id)
    if tpl is None or tpl.created_by_id != actor.user_id:
        raise not_found()
    session.delete(tpl)
    session.commit()
    return Response(status_code=204)


routers = [router, templates_router]
_ = (can, KINDS)
