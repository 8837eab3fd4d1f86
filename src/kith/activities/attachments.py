"""Follow-up attachments: size and type limits, stored outside the web root, served as downloads."""

import hashlib
import mimetypes
import os
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kith.access import Actor
from kith.activities.events import emit
from kith.core.deps import current_actor, get_session
from kith.core.errors import FieldError, KithError, not_found
from kith.core.ownership import copy_owner
from kith.core.resource import jsonable
from kith.core.types import RecordId
from kith.db.base import Base, BigID, IdMixin, OwnedMixin, TimestampMixin

MAX_BYTES = 20 * 1024 * 1024
ALLOWED = {
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
    ".pdf": "application/pdf", ".txt": "text/plain", ".csv": "text/csv",
    ".doc": "application/msword", ".xls": "application/vnd.ms-excel", ".ppt": "application/vnd.ms-powerpoint",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
MAGIC = {".png": b"\x89PNG", ".jpg": b"\xff\xd8", ".jpeg": b"\xff\xd8", ".gif": b"GIF8", ".pdf": b"%PDF",
         ".docx": b"PK", ".xlsx": b"PK", ".pptx": b"PK", ".webp": b"RIFF"}


class Attachment(IdMixin, TimestampMixin, OwnedMixin, Base):
    __tablename__ = "attachments"

    followup_id: Mapped[int] = mapped_column(BigID, ForeignKey("followups.id", ondelete="CASCADE"), nullable=False, index=True)
    customer_id: Mapped[int] = mapped_column(BigID, ForeignKey("customers.id"), nullable=False, index=True)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(120), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    storage_key: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)


class AttachmentOut(BaseModel):
    id: int
    followup_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    download_url: str
    created_at: datetime


router = APIRouter(tags=["followups"])


def storage_dir(request: Request) -> Path:
    root = Path(request.app.state.settings.data_dir) / "attachments"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _safe_name(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")).strip()
    base = re.sub(r"[\x00-\x1f\x7f\ud800-\udfff\"<>|:*?]", "_", base)
    return base[:200] or "file"


def _out(a: Attachment) -> dict[str, Any]:
    return {"id": a.id, "followup_id": a.followup_id, "filename": a.filename, "content_type": a.content_type, "size": a.size,
            "sha256": a.sha256, "download_url": f"/api/v1/attachments/{a.id}/download", "created_at": jsonable(a.created_at)}


def _followups():
    from kith.activities.router import followups

    return followups


@router.post("/followups/{record_id}/attachments", status_code=201, response_model=AttachmentOut, summary="Attach a file to a follow-up",
             responses={413: {"description": "too large"}, 422: {"description": "type not allowed"}})
async def upload(record_id: RecordId, request: Request, file: UploadFile = File(...), actor: Actor = Depends(current_actor),
                 session: Session = Depends(get_session)) -> Any:
    from starlette.concurrency import run_in_threadpool

    res = _followups()
    followup = await run_in_threadpool(res.get_visible, session, actor, record_id)
    await run_in_threadpool(res.require_writable, session, actor, followup)
    name = _safe_name(file.filename or "")
    ext = Path(name).suffix.lower()
    if ext not in ALLOWED:
        raise KithError(422, "validation_error", fields=[FieldError("file", "invalid_choice", {"choices": " ".join(sorted(ALLOWED))})])
    key = uuid.uuid4().hex
    target = storage_dir(request) / key
    digest = hashlib.sha256()
    size = 0
    head = b""
    with target.open("wb") as out:
        while chunk := await file.read(1 << 16):
            size += len(chunk)
            if size > MAX_BYTES:
                out.close()
                target.unlink(missing_ok=True)
                raise KithError(413, "validation_error", fields=[FieldError("file", "too_long", {"max": MAX_BYTES})])
            if len(head) < 16:
                head += chunk[:16]
            digest.update(chunk)
            out.write(chunk)
    if size == 0 or (ext in MAGIC and not head.startswith(MAGIC[ext])):
        target.unlink(missing_ok=True)
        raise KithError(422, "validation_error", fields=[FieldError("file", "invalid")])

    def save() -> dict[str, Any]:
        a = Attachment(followup_id=followup.id, customer_id=followup.customer_id, filename=name, content_type=ALLOWED[ext], size=size,
                       sha256=digest.hexdigest(), storage_key=key)
        copy_owner(a, followup)
        a.created_by_id = actor.user_id
        session.add(a)
        session.flush()
        emit(session, actor, type="followup.attachment", entity_type="followup", entity_id=followup.id, customer_id=followup.customer_id,
             summary=name, data={"filename": name, "size": size})
        payload = _out(a)
        session.commit()
        return payload

    try:
        payload = await run_in_threadpool(save)
    except Exception:
        target.unlink(missing_ok=True)
        raise
    return JSONResponse(payload, status_code=201, headers={"Location": payload["download_url"]})


@router.get("/followups/{record_id}/attachments", summary="Files attached to a follow-up")
def list_attachments(record_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    followup = _followups().get_visible(session, actor, record_id, deleted=None)
    rows = session.scalars(select(Attachment).where(Attachment.followup_id == followup.id).order_by(Attachment.id))
    return JSONResponse({"items": [_out(a) for a in rows]})


def _visible_attachment(session: Session, actor: Actor, attachment_id: int) -> Attachment:
    a = session.get(Attachment, attachment_id)
    if a is None:
        raise not_found()
    _followups().get_visible(session, actor, a.followup_id, deleted=None)
    return a


@router.get("/attachments/{record_id}/download", summary="Download an attachment", response_class=Response)
def download(record_id: RecordId, request: Request, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    a = _visible_attachment(session, actor, record_id)
    path = storage_dir(request) / a.storage_key
    if not path.is_file():
        raise not_found()
    ascii_name = a.filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return FileResponse(path, media_type=a.content_type, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(a.filename)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


@router.delete("/attachments/{record_id}", status_code=204, response_model=None, summary="Remove an attachment")
def delete(record_id: RecordId, request: Request, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Response:
    a = _visible_attachment(session, actor, record_id)
    res = _followups()
    followup = res.get_visible(session, actor, a.followup_id, deleted=None)
    res.require_writable(session, actor, followup)
    key = a.storage_key
    session.delete(a)
    session.commit()
    (storage_dir(request) / key).unlink(missing_ok=True)
    return Response(status_code=204)


_ = mimetypes
