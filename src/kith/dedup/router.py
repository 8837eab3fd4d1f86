"""Duplicate finder, merge and undo (API)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from kith.access import Actor, readable, require, strip
from kith.access.gate import hidden_fields
from kith.core.deps import current_actor, get_session
from kith.core.errors import FieldError, KithError, not_found, validation
from kith.core.normalize import display_phone
from kith.core.resource import etag_of, jsonable, parse_if_match
from kith.core.types import RecordId
from kith.dedup.engine import existing_matcher
from kith.dedup.merge import blocking, merge, undo
from kith.dedup.models import Merge

router = APIRouter(tags=["duplicates"])

_SUMMARY = {
    "customer": ("id", "name", "phone", "email", "province", "city", "owner_id"),
    "contact": ("id", "name", "customer_id", "mobile", "phone", "email", "title", "owner_id"),
}


def _resource(kind: str):
    if kind == "customer":
        from kith.customers.router import customers

        return customers
    from kith.contacts.router import contacts

    return contacts


def _summary(actor: Actor, kind: str, obj: Any) -> dict[str, Any]:
    data = {k: getattr(obj, k) for k in _SUMMARY[kind]}
    for k in ("phone", "mobile"):
        if k in data:
            data[f"{k}_display"] = display_phone(data[k])
    data["version"] = obj.version
    out = strip(actor, kind, data)
    hidden = hidden_fields(actor, kind)
    return {k: jsonable(v) for k, v in out.items() if not (k.endswith("_display") and k[: -len("_display")] in hidden)}


@router.get("/duplicates", summary="Candidate duplicate pairs among the records you can read, best first",
            operation_id="list_duplicates")
def list_duplicates(
    kind: Literal["customer", "contact"] = Query("customer"),
    limit: int = Query(50, ge=1, le=500),
    min_score: float | None = Query(None, ge=0, le=1),
    actor: Actor = Depends(current_actor),
    session: Session = Depends(get_session),
) -> Any:
    require(actor, kind, "read")
    res = _resource(kind)
    model = res.model
    hidden = hidden_fields(actor, kind)
    matcher = existing_matcher(session, kind, readable_condition=readable(actor, model, kind), threshold=min_score,
                               exclude=hidden)
    pairs = matcher.pairs()[:limit]
    ids = {c.a for c in pairs} | {c.b for c in pairs}
    objs = {o.id: o for o in session.scalars(select(model).where(model.id.in_(ids)))} if ids else {}
    items = []
    for c in pairs:
        items.append({"a": _summary(actor, kind, objs[c.a]), "b": _summary(actor, kind, objs[c.b]),
                      "score": round(c.score, 4),
                      "matched": {k: round(v, 4) for k, v in c.matched.items() if k not in hidden}})
    return JSONResponse({"items": items, "total": len(items)})


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    other_id: RecordId
    fields: dict[str, Literal["survivor", "other"]] = Field(default_factory=dict)
    version: int | None = None


def _merge_route(kind: str):
    def merge_records(
        request: Request,
        record_id: RecordId,
        body: MergeIn,
        actor: Actor = Depends(current_actor),
        session: Session = Depends(get_session),
    ) -> Any:
        res = _resource(kind)
        survivor = res.get_visible(session, actor, record_id)
        res.require_writable(session, actor, survivor)
        expected = parse_if_match(request.headers.get("if-match"))
        if expected is None:
            expected = body.version
        if expected is None:
            raise KithError(428, "precondition_required")
        if expected != survivor.version:
            raise KithError(412, "precondition_failed", headers={"ETag": etag_of(survivor)})
        if body.other_id == survivor.id:
            raise validation(FieldError("other_id", "same_record"))
        try:
            other = res.get_visible(session, actor, body.other_id)
        except KithError:
            raise validation(FieldError("other_id", "invalid_reference")) from None
        res.require_writable(session, actor, other)
        res.require_writable(session, actor, other, "delete")
        try:
            record = merge(session, actor, kind, survivor, other, dict(body.fields))
            session.flush()
        except StaleDataError:
            session.rollback()
            raise KithError(412, "precondition_failed") from None
        survivor = session.get(res.model, record_id)
        payload = {"merge_id": record.id, "survivor": res.serialize(session, actor, survivor),
                   "other_id": record.other_id,
                   "fields": sorted(k for k in record.data["fields"] if k not in hidden_fields(actor, kind)),
                   "moved": {g["table"]: len(g["rows"]) for g in record.data["moved"]}}
        session.commit()
        return JSONResponse(payload, headers={"ETag": etag_of(survivor)})

    merge_records.__name__ = f"merge_{kind}s"
    return merge_records


for _kind in ("customer", "contact"):
    router.add_api_route(f"/{_kind}s/{{record_id}}/merge", _merge_route(_kind), methods=["POST"],
                         summary=f"Merge another {_kind} into this one (undoable)", operation_id=f"merge_{_kind}s",
                         responses={409: {"description": "conflict"}, 412: {"description": "stale version"},
                                    428: {"description": "If-Match or version required"}})


def _visible_merge(session: Session, actor: Actor, merge_id: int) -> Merge:
    record = session.get(Merge, merge_id)
    if record is None:
        raise not_found()
    res = _resource(record.entity_type)
    res.get_visible(session, actor, record.survivor_id, deleted=None)  # 404 when the caller cannot see it
    return record


def _merge_out(session: Session, record: Merge) -> dict[str, Any]:
    return {"id": record.id, "entity_type": record.entity_type, "survivor_id": record.survivor_id,
            "other_id": record.other_id, "created_at": jsonable(record.created_at),
            "undone_at": jsonable(record.undone_at),
            "moved": {g["table"]: len(g["rows"]) for g in record.data.get("moved", [])},
            "undoable": record.undone_at is None and not blocking(session, record)}


@router.get("/merges/{merge_id}", summary="One merge and whether it can still be undone", operation_id="get_merge")
def get_merge(merge_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    record = _visible_merge(session, actor, merge_id)
    return JSONResponse(_merge_out(session, record))


@router.post("/merges/{merge_id}/undo", summary="Undo a merge: restore the other record and move back what was moved",
             operation_id="undo_merge", responses={409: {"description": "something changed since the merge"}})
def undo_merge(merge_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    record = _visible_merge(session, actor, merge_id)
    res = _resource(record.entity_type)
    survivor = res.get_visible(session, actor, record.survivor_id, deleted=None)
    res.require_writable(session, actor, survivor)
    other = session.get(res.model, record.other_id)
    if other is not None:
        res.require_writable(session, actor, other, "delete")
    undo(session, actor, record)
    session.flush()
    out = _merge_out(session, record)
    session.commit()
    return JSONResponse(out)
