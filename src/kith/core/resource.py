"""One implementation of the REST conventions (API.md) that every record type plugs into:
list / create / read / update / delete / restore with keyset paging, ETag + If-Match,
Idempotency-Key, field rights and 404-for-invisible.

No `from __future__ import annotations` here: endpoint signatures are built at runtime from
each resource's schemas, so FastAPI can document them."""

import json
import re
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from kith.access import Actor, can, check_write, readable, require, strip, writable
from kith.core import clock, idempotency
from kith.core.types import RecordId
from kith.core.deps import current_actor, get_session, read_only, read_request, token_claims
from kith.core.errors import FieldError, KithError, not_found, validation
from kith.core.listing import ListQuery, ListSpec
from kith.core.responses import FastJSONResponse
from kith.db.session import json_loads

ETAG_RE = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')


def jsonable(value: Any) -> Any:
    """The API's JSON form of a value: UTC ISO 8601 times, ISO dates, money with two places; lists and dicts deeply."""
    if type(value) is datetime and value.tzinfo is timezone.utc:  # what UTCDateTime returns: already the API's form
        return value.isoformat()
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


_PLAIN = frozenset({str, int, float, bool, type(None)})

_OWNERS_AND_TAGS: Any = None


def _owners_and_tags(session: Session, entity_type: str, objs: list[Any]) -> tuple[dict[int, str], dict[int, list[dict[str, Any]]]]:
    """Owner id -> display name and record id -> its tags (ordered by name), in one query."""
    from collections import defaultdict

    global _OWNERS_AND_TAGS
    if _OWNERS_AND_TAGS is None:
        from sqlalchemy import bindparam, text

        _OWNERS_AND_TAGS = text(
            "SELECT 'u' AS k, u.id AS a, NULL AS b, u.display_name AS s, NULL AS c FROM users u WHERE u.id IN :uids "
            "UNION ALL "
            "SELECT 't', tg.entity_id, t.id, t.name, t.color FROM taggings tg JOIN tags t ON t.id = tg.tag_id "
            "WHERE tg.entity_type = :etype AND tg.entity_id IN :eids "
            "ORDER BY 1, 4"
        ).bindparams(bindparam("uids", expanding=True), bindparam("eids", expanding=True))
    users: dict[int, str] = {}
    tags: dict[int, list[dict[str, Any]]] = defaultdict(list)
    uids = sorted({o.owner_id for o in objs if o.owner_id is not None})
    eids = [o.id for o in objs]
    if not uids and not eids:
        return users, tags
    for k, a, b, name, color in session.execute(_OWNERS_AND_TAGS, {"uids": uids, "eids": eids, "etype": entity_type}):
        if k == "u":
            users[a] = name
        else:
            tags[a].append({"id": b, "name": name, "color": color})
    return users, tags


_DECOR: dict[tuple[str, str, str], tuple[Any, Any]] = {}


def decoration_columns(session: Session, model: Any, entity_type: str) -> tuple[Any, Any]:
    """The owner's display name and the record's tags as two correlated subqueries, so that a page or a record comes
    with them in its own query (one round trip fewer than `_owners_and_tags`, ADR 0027). Tags arrive as JSON
    [[id, name, color], ...]: ordered by name by PostgreSQL (its collation, as the separate query did); SQLite 3.40
    has no ordered aggregate, so `unpack_decorations` sorts them (SQLite compares text by code point, as Python)."""
    dialect = session.get_bind().dialect.name
    key = (dialect, model.__tablename__, entity_type)
    hit = _DECOR.get(key)
    if hit is None:
        from sqlalchemy import literal_column

        from kith.auth.models import User

        table = model.__tablename__
        owner = select(User.display_name).where(User.id == model.owner_id).scalar_subquery().label("_owner_name")
        where = f"tg.entity_type = '{entity_type}' AND tg.entity_id = {table}.id"  # code constants, not input
        if dialect == "postgresql":
            tags = (f"(SELECT json_agg(json_build_array(t.id, t.name, t.color) ORDER BY t.name) FROM taggings tg "
                    f"JOIN tags t ON t.id = tg.tag_id WHERE {where})")
        else:
            tags = (f"(SELECT json_group_array(json_array(t.id, t.name, t.color)) FROM taggings tg "
                    f"JOIN tags t ON t.id = tg.tag_id WHERE {where})")
        hit = (owner, literal_column(tags).label("_tags"))
        _DECOR[key] = hit
    return hit


def unpack_decorations(objs: list[Any], rows: list[Any]) -> tuple[dict[int, str], dict[int, list[dict[str, Any]]]]:
    """(owner id -> name, record id -> tags) from the last two columns of the rows `decoration_columns` added."""
    users: dict[int, str] = {}
    tags: dict[int, list[dict[str, Any]]] = {}
    for obj, row in zip(objs, rows):
        owner_name, raw = row[-2], row[-1]
        if obj.owner_id is not None and owner_name is not None:
            users[obj.owner_id] = owner_name
        if raw is None:
            continue
        items = json_loads(raw) if isinstance(raw, str) else raw  # SQLite's json_group_array arrives as text
        if not items:
            continue
        if isinstance(raw, str):
            items.sort(key=lambda t: t[1])
        tags[obj.id] = [{"id": i, "name": n, "color": c} for i, n, c in items]
    return users, tags


def names_by_id(session: Session, id_col: Any, name_col: Any, ids: Any) -> dict[int, str]:
    """id -> name for a batch of ids in one query (serialisers use it for customer, owner and creator names)."""
    wanted = {i for i in ids if i is not None}
    return dict(session.execute(select(id_col, name_col).where(id_col.in_(wanted))).all()) if wanted else {}


def etag_of(obj: Any) -> str:
    return f'"{obj.version}"'


def parse_if_match(header: str | None) -> int | None:
    if header is None:
        return None
    m = ETAG_RE.match(header)
    if not m:
        raise KithError(412, "precondition_failed")
    return int(m.group(1))


class Resource:
    """Subclasses set the attributes and override hooks; `router()` builds the endpoints."""

    path: str = ""
    module: str = ""
    model: Any = None
    create_schema: type[BaseModel] = BaseModel
    update_schema: type[BaseModel] = BaseModel
    out_schema: type[BaseModel] = BaseModel
    list_spec: ListSpec
    scoped: bool = True
    soft_delete: bool = True
    custom_entity: str | None = None
    tag_entity: str | None = None
    title_en: str = ""
    tag: str = ""
    collaborators: str | None = None  # entity type when the record takes collaborators
    exportable: bool = True
    timeline_key: str | None = None  # customer_id | contact_id | opportunity_id: the record has a timeline

    # ---- visibility -------------------------------------------------------------------------
    def visible_query(self, actor: Actor):
        stmt = select(self.model)
        if self.scoped:
            stmt = stmt.where(readable(actor, self.model, self.module))
        else:
            if not can(actor, self.module, "read"):
                stmt = stmt.where(False)  # type: ignore[arg-type]
        return stmt

    def get_visible(self, session: Session, actor: Actor, record_id: RecordId, *, deleted: bool | None = False,
                    decorate: bool = False) -> Any:
        """The record if the actor may read it, else 404. `decorate`: the owner's name and the tags come in the same
        query (decoration_columns), for the serialiser."""
        stmt = self.visible_query(actor).where(self.model.id == record_id)
        if self.soft_delete and deleted is not None:
            stmt = stmt.where(self.model.deleted_at.is_not(None) if deleted else self.model.deleted_at.is_(None))
        if decorate and self.decorates():
            row = session.execute(stmt.add_columns(*decoration_columns(session, self.model, self.tag_entity))).first()
            if row is None:
                raise not_found()
            self.remember_decorations(session, [row[0]], [row])
            return row[0]
        obj = session.scalar(stmt)
        if obj is None:
            raise not_found()
        return obj

    def decorates(self) -> bool:
        """Owner names and tags can come with the records (decoration_columns)."""
        return bool(self.tag_entity) and hasattr(self.model, "owner_id")

    def remember_decorations(self, session: Session, objs: list[Any], rows: list[Any]) -> None:
        users, tags = unpack_decorations(objs, rows)
        session.info["decorations"] = ([o.id for o in objs], users, tags)

    def require_writable(self, session: Session, actor: Actor, obj: Any, action: str = "update") -> None:
        """The record is visible (else 404 earlier); changing it needs the permission and write access (else 403)."""
        require(actor, self.module, action)
        if self.scoped:
            ok = session.scalar(select(exists().where(self.model.id == obj.id, writable(actor, self.model, self.module))))
            if not ok:
                raise KithError(403, "forbidden")

    def is_visible(self, session: Session, actor: Actor, model: Any, module: str, record_id: RecordId) -> bool:
        cond = readable(actor, model, module)
        stmt = select(exists().where(model.id == record_id, cond, *( [model.deleted_at.is_(None)] if hasattr(model, "deleted_at") else [])))
        return bool(session.scalar(stmt))

    # ---- serialisation ------------------------------------------------------------------------
    def to_dict(self, session: Session, actor: Actor, obj: Any, ctx: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def context(self, session: Session, actor: Actor, objs: list[Any]) -> dict[str, Any]:
        """Batch-load what the serialiser needs (owner names, tags …) in a few queries."""
        ctx: dict[str, Any] = {}
        decorated = session.info.pop("decorations", None)
        if decorated is not None and decorated[0] == [o.id for o in objs]:
            ctx["users"], ctx["tags"] = decorated[1], decorated[2]  # read with the records (decoration_columns)
        elif self.decorates():
            # owner names and tags in one round trip (the common case: customers, contacts, opportunities …)
            ctx["users"], ctx["tags"] = _owners_and_tags(session, self.tag_entity, objs)
        elif hasattr(self.model, "owner_id"):
            from kith.auth.models import User

            ids = {o.owner_id for o in objs}
            ctx["users"] = names_by_id(session, User.id, User.display_name, ids)
        if self.tag_entity and "tags" not in ctx:
            from kith.tags.service import tags_for

            ctx["tags"] = tags_for(session, self.tag_entity, [o.id for o in objs])
        if self.custom_entity:
            from kith.customfields.service import definitions

            ctx["cf_defs"] = definitions(session, self.custom_entity)
        return ctx

    def serialize_many(self, session: Session, actor: Actor, objs: list[Any]) -> list[dict[str, Any]]:
        ctx = self.context(session, actor, objs)
        out = []
        if self.custom_entity:
            from kith.customfields.service import flatten
        tags = ctx["tags"] if self.tag_entity else None
        shape: tuple[bool, tuple[str, ...]] | None = None
        shape_of: type | None = None
        for obj in objs:
            data = self.to_dict(session, actor, obj, ctx)
            if self.custom_entity:
                data.update(flatten(obj.custom, ctx["cf_defs"]))
            if tags is not None:
                data["tags"] = tags.get(obj.id, [])
            if type(obj) is not shape_of:  # which stamps the record type carries: looked up once per type
                shape_of = type(obj)
                shape = (hasattr(obj, "owner_id"), tuple(k for k in ("version", "created_at", "updated_at") if hasattr(obj, k)))
            has_owner, stamps = shape  # type: ignore[misc]
            if has_owner:
                data.setdefault("owner", {"id": obj.owner_id, "display_name": ctx["users"].get(obj.owner_id)})
            for key in stamps:
                data[key] = getattr(obj, key)
            if self.soft_delete:
                data["deleted_at"] = obj.deleted_at
            # the gate removes hidden fields; plain values skip jsonable()
            out.append({k: (v if type(v) in _PLAIN else jsonable(v)) for k, v in strip(actor, self.module, data).items()})
        return out

    def serialize(self, session: Session, actor: Actor, obj: Any) -> dict[str, Any]:
        return self.serialize_many(session, actor, [obj])[0]

    # ---- writes (hooks) -----------------------------------------------------------------------
    def split_payload(self, actor: Actor, body: BaseModel, *, partial: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        """(standard fields, cf_* fields) from a validated body; unknown extras are refused."""
        data = body.model_dump(exclude_unset=partial)
        extras = dict(body.model_extra or {})
        for key in extras:
            data.pop(key, None)
        data.pop("version", None)
        custom = {k: v for k, v in extras.items() if k.startswith("cf_") and self.custom_entity}
        others = [k for k in extras if k not in custom]
        sent = [k for k in body.model_fields_set if k != "version" and k not in extras]
        if not partial:
            # a create schema that declares owner_id lets the service decide (it needs the transfer right)
            sent = [k for k in sent if k != "owner_id"]
        check_write(actor, self.module, [*sent, *others, *custom])
        if others:
            raise validation(*[FieldError(k, "unknown_field") for k in others])
        return data, custom

    def create(self, session: Session, actor: Actor, data: dict[str, Any], custom: dict[str, Any], request: Request) -> Any:
        raise NotImplementedError

    def update(self, session: Session, actor: Actor, obj: Any, data: dict[str, Any], custom: dict[str, Any]) -> Any:
        before = {k: getattr(obj, k) for k in data}
        table = self.model.__table__
        nulls = [k for k, v in data.items() if v is None and k in table.c and not table.c[k].nullable]
        if nulls:
            raise validation(*[FieldError(k, "required") for k in nulls])
        for key, value in data.items():
            setattr(obj, key, value)
        if custom and self.custom_entity:
            from kith.customfields.service import apply

            obj.custom = apply(session, self.custom_entity, obj.custom, custom, creating=False)
        self.after_update(session, actor, obj, before)
        return obj

    def after_update(self, session: Session, actor: Actor, obj: Any, before: dict[str, Any]) -> None:
        pass

    def delete(self, session: Session, actor: Actor, obj: Any) -> None:
        if self.soft_delete:
            obj.deleted_at = clock.now()
            obj.deleted_by_id = actor.user_id
        else:
            session.delete(obj)

    def restore(self, session: Session, actor: Actor, obj: Any) -> None:
        obj.deleted_at = None
        obj.deleted_by_id = None

    def list_extra(self, stmt):
        return stmt

    def extra_routes(self, router: APIRouter) -> None:
        pass

    # ---- router -----------------------------------------------------------------------------
    def router(self) -> APIRouter:
        res = self
        router = APIRouter(prefix=f"/{self.path}", tags=[self.tag or self.path])
        Out = self.out_schema
        Create = self.create_schema
        Update = self.update_schema

        class Page(BaseModel):
            items: list[Out]  # type: ignore[valid-type]
            next_cursor: str | None
            total: int

        Page.__name__ = f"{Out.__name__}Page"

        @router.get("", response_model=Page, summary=f"List {self.path}", operation_id=f"list_{self.path.replace('-', '_')}")
        async def list_records(
            request: Request,
            limit: int = Query(20, ge=1, le=200),
            cursor: str | None = Query(None, max_length=2000),
            q: str | None = Query(None, max_length=100, description="search: Chinese, pinyin, initials, phone fragment, e-mail"),
            sort: str | None = Query(None, max_length=60, description="field or -field"),
            deleted: bool = Query(False, description="true lists the recycle bin"),
            claims: dict[str, Any] = Depends(token_claims),
        ) -> Any:
            params = dict(request.query_params)

            def body(session: Session, actor: Actor) -> Any:
                require(actor, res.module, "read")
                lq = ListQuery(session, actor, res.list_spec, params)
                decor = decoration_columns(session, res.model, res.tag_entity) if res.decorates() else ()
                items, next_cursor, total = lq.run(res.list_extra, columns=decor)
                if decor:
                    res.remember_decorations(session, items, lq.rows)
                page = {"items": res.serialize_many(session, actor, items), "next_cursor": next_cursor, "total": total}
                if lq.total_estimated:
                    page["total_estimated"] = True
                return FastJSONResponse(page)

            return await read_request(request, claims, body)

        if self.exportable:

            @router.get("/export", summary=f"Export {self.path} (current filters, your field rights) to xlsx or csv",
                        operation_id=f"export_{self.path.replace('-', '_')}", response_class=Response,
                        responses={200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}})
            def export_records(
                request: Request,
                format: str = Query("xlsx", pattern="^(xlsx|csv)$"),
                q: str | None = Query(None, max_length=100),
                sort: str | None = Query(None, max_length=60),
                actor: Actor = Depends(current_actor),
                session: Session = Depends(get_session),
            ) -> Response:
                from kith.audit import service as audit
                from kith.core import clock as _clock
                from kith.core.export import collect, render

                require(actor, res.module, "read")
                require(actor, res.module, "export")
                params = dict(request.query_params)
                rows = collect(session, actor, res, params)
                body, media = render(rows, format, res.path)
                audit.record(session, "export", entity_type=res.module, changes={"rows": len(rows), "format": format,
                                                                                 "filters": {k: v for k, v in params.items() if k != "format"}})
                session.commit()
                name = f"{res.path}-{_clock.now().strftime('%Y%m%d-%H%M%S')}.{format}"
                return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})

        @router.post("", status_code=201, response_model=Out, summary=f"Create a record in {self.path}", operation_id=f"create_{self.path.replace('-', '_')}")
        def create_record(
            request: Request,
            body: Create,  # type: ignore[valid-type]
            actor: Actor = Depends(current_actor),
            session: Session = Depends(get_session),
        ) -> Any:
            require(actor, res.module, "create")
            key = request.headers.get("idempotency-key")
            digest = None
            if key:
                if len(key) > 255:
                    raise validation(FieldError("Idempotency-Key", "too_long", {"max": 255}))
                digest = idempotency.body_hash(request.url.path, body.model_dump(mode="json"))
                replay = idempotency.lookup(session, actor.user_id, key, request.url.path, digest)
                if replay is not None:
                    return JSONResponse(replay.response, status_code=replay.status_code, headers={**replay.headers, "Idempotent-Replay": "true"})
            data, custom = res.split_payload(actor, body, partial=False)
            obj = res.create(session, actor, data, custom, request)
            session.flush()
            payload = res.serialize(session, actor, obj)
            headers = {"Location": f"{request.url.path.rstrip('/')}/{obj.id}", "ETag": etag_of(obj)}
            if key and digest:
                idempotency.remember(session, actor.user_id, key, request.url.path, digest, 201, payload, headers)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                if key and digest:
                    replay = idempotency.lookup(session, actor.user_id, key, request.url.path, digest)
                    if replay is not None:
                        return JSONResponse(replay.response, status_code=replay.status_code, headers=replay.headers)
                raise
            return JSONResponse(payload, status_code=201, headers=headers)

        @router.get("/{record_id}", response_model=Out, summary=f"Read one of {self.path}", operation_id=f"get_{self.path.replace('-', '_')}")
        async def get_record(
            request: Request,
            record_id: RecordId,
            claims: dict[str, Any] = Depends(token_claims),
        ) -> Any:
            def body(session: Session, actor: Actor) -> Any:
                obj = res.get_visible(session, actor, record_id, deleted=None, decorate=True)
                return FastJSONResponse(res.serialize(session, actor, obj), headers={"ETag": etag_of(obj)})

            return await read_request(request, claims, body)

        @router.patch("/{record_id}", response_model=Out, summary=f"Update one of {self.path}", operation_id=f"update_{self.path.replace('-', '_')}",
                      responses={412: {"description": "stale version"}, 428: {"description": "If-Match or version required"}})
        def update_record(
            request: Request,
            record_id: RecordId,
            body: Update,  # type: ignore[valid-type]
            actor: Actor = Depends(current_actor),
            session: Session = Depends(get_session),
        ) -> Any:
            obj = res.get_visible(session, actor, record_id)
            res.require_writable(session, actor, obj)
            expected = parse_if_match(request.headers.get("if-match"))
            body_version = getattr(body, "version", None)
            if expected is None:
                expected = body_version
            if expected is None:
                raise KithError(428, "precondition_required")
            if expected != obj.version:
                raise KithError(412, "precondition_failed", headers={"ETag": etag_of(obj)})
            data, custom = res.split_payload(actor, body, partial=True)
            res.update(session, actor, obj, data, custom)
            try:
                session.flush()
            except StaleDataError:
                session.rollback()
                raise KithError(412, "precondition_failed") from None
            payload = res.serialize(session, actor, obj)
            session.commit()
            return JSONResponse(payload, headers={"ETag": etag_of(obj)})

        @router.delete("/{record_id}", status_code=204, summary=f"Move one of {self.path} to the recycle bin", operation_id=f"delete_{self.path.replace('-', '_')}")
        def delete_record(
            record_id: RecordId,
            actor: Actor = Depends(current_actor),
            session: Session = Depends(get_session),
        ) -> Response:
            obj = res.get_visible(session, actor, record_id)
            res.require_writable(session, actor, obj, "delete")
            res.delete(session, actor, obj)
            session.commit()
            return Response(status_code=204)

        if self.soft_delete:

            @router.post("/{record_id}/restore", response_model=Out, summary=f"Restore one of {self.path} from the recycle bin", operation_id=f"restore_{self.path.replace('-', '_')}")
            def restore_record(
                record_id: RecordId,
                actor: Actor = Depends(current_actor),
                session: Session = Depends(get_session),
            ) -> Any:
                obj = res.get_visible(session, actor, record_id, deleted=None)
                res.require_writable(session, actor, obj, "delete")
                if obj.deleted_at is None:
                    raise KithError(409, "not_deleted")
                res.restore(session, actor, obj)
                session.flush()
                payload = res.serialize(session, actor, obj)
                session.commit()
                return JSONResponse(payload, headers={"ETag": etag_of(obj)})

        if self.timeline_key:
            from kith.activities.timeline import timeline as _timeline
            from kith.core.types import AwareDatetime

            key = self.timeline_key

            @router.get("/{record_id}/timeline", summary=f"The timeline of one of {self.path}, newest first",
                        operation_id=f"{self.path}_timeline")
            @read_only
            def record_timeline(
                record_id: RecordId,
                limit: int = Query(20, ge=1, le=200),
                cursor: str | None = Query(None, max_length=200),
                type: str | None = Query(None, max_length=200, description="event type or prefix, e.g. followup, customer.created"),
                since: AwareDatetime | None = Query(None),
                until: AwareDatetime | None = Query(None),
                actor: Actor = Depends(current_actor),
                session: Session = Depends(get_session),
            ) -> Any:
                res.get_visible(session, actor, record_id, deleted=None)
                return JSONResponse(_timeline(session, actor, limit=limit, cursor=cursor, type_prefix=type, since=since, until=until,
                                              **{key: record_id}))

        if self.collaborators:
            from kith.access.sharing import add_routes

            add_routes(router, self, self.collaborators)
        self.extra_routes(router)
        return router


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=jsonable)
