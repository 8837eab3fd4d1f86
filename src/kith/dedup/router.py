"""Duplicate finder, merge and undo (API)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.elements import False_, True_

from kith.access import Actor, readable, require, strip
from kith.access.gate import hidden_fields
from kith.core.deps import current_actor, get_session
from kith.core.errors import FieldError, KithError, not_found, validation
from kith.core.i18n import t
from kith.core.listing import MAX_LIMIT, _decode_cursor, _encode_cursor
from kith.core.normalize import display_phone
from kith.core.resource import etag_of, jsonable, parse_if_match
from kith.core.types import RecordId
from kith.dedup.engine import existing_matcher
from kith.dedup.merge import blocking_many, merge, undo
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


_BLOCKING_SHOWN = 20  # a history item names at most this many blocking records (the undo's 409 names them all)


def _merge_items(session: Session, actor: Actor, records: list[Merge],
                 blockers: dict[int, list[Any]] | None = None) -> list[dict[str, Any]]:
    """Merges as the API shows them: who merged and when, both records' names (the other's as it was when merged,
    absent when the caller's field rights hide names), what moved, and whether it can still be undone and if not why
    (the code and message the undo would answer with). A fixed number of queries for any number of merges."""
    from kith.auth.models import User

    if blockers is None:
        blockers = blocking_many(session, [r for r in records if r.undone_at is None])
    user_ids = {i for r in records for i in (r.actor_id, r.undone_by_id) if i is not None}
    users = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all()) if user_ids else {}
    names: dict[str, dict[int, str]] = {}
    for kind in ("customer", "contact"):
        ids = {r.survivor_id for r in records if r.entity_type == kind}
        if ids:
            model = _resource(kind).model
            names[kind] = dict(session.execute(select(model.id, model.name).where(model.id.in_(ids))).all())
    out = []
    for r in records:
        why: dict[str, Any] | None = None
        if r.undone_at is not None:
            why = {"code": "merge_already_undone", "message": t("merge_already_undone"), "count": 0, "blocking": []}
        elif blockers[r.id]:
            found = blockers[r.id]
            why = {"code": "merge_undo_blocked", "message": t("merge_undo_blocked", count=len(found)), "count": len(found),
                   "blocking": found[:_BLOCKING_SHOWN]}
        item: dict[str, Any] = {
            "id": r.id, "entity_type": r.entity_type, "survivor_id": r.survivor_id, "other_id": r.other_id,
            "actor_id": r.actor_id, "actor_name": users.get(r.actor_id) if r.actor_id is not None else None,
            "created_at": jsonable(r.created_at), "undone_at": jsonable(r.undone_at), "undone_by_id": r.undone_by_id,
            "undone_by_name": users.get(r.undone_by_id) if r.undone_by_id is not None else None,
            "moved": {g["table"]: len(g["rows"]) for g in r.data.get("moved", [])},
            "undoable": why is None, "undo_blocked": why,
        }
        if "name" not in hidden_fields(actor, r.entity_type):
            item["survivor_name"] = names.get(r.entity_type, {}).get(r.survivor_id)
            item["other_name"] = r.data.get("other_name")
        out.append(item)
    return out


def _merge_out(session: Session, actor: Actor, record: Merge) -> dict[str, Any]:
    return _merge_items(session, actor, [record])[0]


def _visible_merges(actor: Actor, entity_type: str | None) -> ColumnElement[bool]:
    """A merge is visible when the caller can read its surviving record (deleted or not), as for GET /merges/{id}."""
    conds = []
    for kind in ("customer", "contact") if entity_type is None else (entity_type,):
        res = _resource(kind)
        cond = readable(actor, res.model, res.module)
        if isinstance(cond, False_):
            continue
        mine = Merge.entity_type == kind
        if not isinstance(cond, True_):  # a scope of "all" needs no join
            mine = and_(mine, Merge.survivor_id.in_(select(res.model.id).where(cond)))
        conds.append(mine)
    return or_(*conds) if conds else false()


# undoable=true|false is decided per merge in Python (it compares the moved rows' versions, kept in JSON): the list
# scans the visible merges newest first in chunks until a page is full, and counts exactly up to this many candidates
# (beyond, `total` is the number of candidates and `total_estimated` is true).
_SCAN_CHUNK = 200
_UNDOABLE_EXACT_TOTAL = 1000
_SCAN_MAX = 5000  # rows examined per request; a page may then come back short, with a next_cursor to go on


class Blocker(BaseModel):
    table: str
    id: int


class UndoBlocked(BaseModel):
    code: Literal["merge_already_undone", "merge_undo_blocked"] = Field(description="the code the undo answers 409 with")
    message: str
    count: int = Field(description="how many records changed since the merge")
    blocking: list[Blocker] = Field(description="the first 20 of them")


class MergeItem(BaseModel):
    id: int
    entity_type: Literal["customer", "contact"]
    survivor_id: int
    other_id: int
    survivor_name: str | None = Field(None, description="absent when the caller's field rights hide names")
    other_name: str | None = Field(None, description="the merged-away record's name when it was merged")
    actor_id: int | None
    actor_name: str | None
    created_at: str
    undone_at: str | None
    undone_by_id: int | None
    undone_by_name: str | None
    moved: dict[str, int]
    undoable: bool
    undo_blocked: UndoBlocked | None = Field(description="why it cannot be undone; null when it can")


class MergePage(BaseModel):
    items: list[MergeItem]
    next_cursor: str | None
    total: int
    total_estimated: bool | None = None


@router.get("/merges", response_model=MergePage, operation_id="list_merges",
            summary="Merges of records you can read (administrators: all), newest first, with whether each can be undone")
def list_merges(
    request: Request,
    limit: int = Query(20, ge=1, le=MAX_LIMIT),
    cursor: str | None = Query(None, max_length=2000),
    entity_type: Literal["customer", "contact"] | None = Query(None),
    undoable: bool | None = Query(None, description="true: can still be undone; false: undone or blocked by a later change"),
    actor: Actor = Depends(current_actor),
    session: Session = Depends(get_session),
) -> Any:
    for key in request.query_params:
        if key not in ("limit", "cursor", "entity_type", "undoable"):
            raise KithError(400, "invalid_filter", {"field": key}, fields=[FieldError(key, "unknown_field")])
    where = [_visible_merges(actor, entity_type)]
    if undoable is True:
        where.append(Merge.undone_at.is_(None))
    start = None
    if cursor:
        _, start = _decode_cursor(cursor, "-id")
    base = select(Merge).where(*where)
    total = session.scalar(select(func.count()).select_from(base.with_only_columns(Merge.id).subquery())) or 0
    estimated = False

    page: list[Merge] = []
    next_id: int | None = None
    known: dict[int, list[Any]] = {}
    if undoable is None:
        stmt = base.where(Merge.id < start) if start is not None else base
        rows = list(session.scalars(stmt.order_by(Merge.id.desc()).limit(limit + 1)))
        page = rows[:limit]
        next_id = page[-1].id if len(rows) > limit else None
    else:
        # scan from the cursor (or, to count exactly, from the newest) in chunks, deciding each merge
        exact = total <= _UNDOABLE_EXACT_TOTAL
        after = None if exact else start
        matches = 0
        scanned = 0
        done = False
        while not done:
            stmt = base.where(Merge.id < after) if after is not None else base
            rows = list(session.scalars(stmt.order_by(Merge.id.desc()).limit(_SCAN_CHUNK)))
            blockers = blocking_many(session, [r for r in rows if r.undone_at is None])
            for r in rows:
                if (r.undone_at is None and not blockers[r.id]) is not undoable:
                    continue
                matches += 1
                if start is not None and r.id >= start:
                    continue  # before the cursor: counted only
                if len(page) < limit:
                    page.append(r)
                    known[r.id] = blockers.get(r.id, [])
                elif next_id is None:
                    next_id = page[-1].id
                    done = not exact
            scanned += len(rows)
            if len(rows) < _SCAN_CHUNK:
                break
            after = rows[-1].id
            if not exact and scanned >= _SCAN_MAX and not done:
                next_id, done = after, True  # a short page: go on from here
        if exact:
            total = matches
        else:
            estimated = True
    out: dict[str, Any] = {"items": _merge_items(session, actor, page, known if undoable is not None else None),
                           "next_cursor": _encode_cursor("-id", None, next_id) if next_id is not None else None,
                           "total": total}
    if estimated:
        out["total_estimated"] = True
    return JSONResponse(out)


@router.get("/merges/{merge_id}", response_model=MergeItem, summary="One merge and whether it can still be undone",
            operation_id="get_merge")
def get_merge(merge_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    record = _visible_merge(session, actor, merge_id)
    return JSONResponse(_merge_out(session, actor, record))


@router.post("/merges/{merge_id}/undo", summary="Undo a merge: restore the other record and move back what was moved",
             operation_id="undo_merge", response_model=MergeItem,
             responses={409: {"description": "something changed since the merge"}})
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
    out = _merge_out(session, actor, record)
    session.commit()
    return JSONResponse(out)
