"""Import batches: upload → layout (sheet, header row, mapping) → analysis (every row cleaned, validated
and matched for duplicates, stored as import_rows) → decisions → run in chunks → report → rollback.

Crash safety: the run commits one chunk at a time; each chunk's records and the outcomes of its rows
are written in the same transaction, so a killed run leaves whole chunks only and resumes at the first
row still `pending`. Rollback removes what the batch created and restores before-images of what it
updated or merged, unless a record changed afterwards (its version moved)."""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import time as _time
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, DateTime, Numeric, bindparam, delete, func, insert, not_, or_, select, update
from sqlalchemy.orm import Session

from kith.reports import rollup
from kith.access import Actor, can, check_write, fields_for, readable, require, writable
from kith.access.gate import hidden_fields
from kith.core import clock
from kith.core.errors import FieldError, KithError, not_found, validation
from kith.core.normalize import grams_of, normalize_company
from kith.imports import parser
from kith.imports.clean import clean_custom, clean_target, from_json, to_json, typed
from kith.imports.mapping import KINDS, Target, header_score, propose, targets
from kith.imports.models import ImportBatch, ImportRow, ImportTemplate

log = logging.getLogger("kith.imports")

CHUNK = 1000
MAX_CHUNK = 5000
STALE_AFTER = timedelta(minutes=2)
FINAL = ("created", "updated", "merged", "skipped", "rejected")
DEFAULT_RULES = {"existing": "skip", "min_score": 0.9, "in_file": "skip"}


def _settings():
    from kith.core.jobs import current_settings

    return current_settings()


def model_of(kind: str) -> Any:
    if kind == "customer":
        from kith.customers.models import Customer

        return Customer
    if kind == "contact":
        from kith.contacts.models import Contact

        return Contact
    if kind == "opportunity":
        from kith.opportunities.models import Opportunity

        return Opportunity
    from kith.activities.models import Followup

    return Followup


def custom_defs(session: Session, kind: str) -> list[Any]:
    if kind == "followup":
        return []
    from kith.customfields.service import definitions

    return definitions(session, kind)


# ------------------------------------------------------------------------------------ access

def visible_batch(session: Session, actor: Actor, batch_id: int) -> ImportBatch:
    """The creator's batch, or any batch for someone who may import into the module with scope all."""
    batch = session.get(ImportBatch, batch_id)
    if batch is None:
        raise not_found()
    if batch.created_by_id != actor.user_id and not (can(actor, batch.kind, "import") and actor.scopes.get(batch.kind) == "all"):
        raise not_found()
    return batch


def writable_fields(actor: Actor, kind: str, fields: list[str]) -> None:
    """Mapped fields must be writable by the importer (hidden / read-only fields → 403 naming them)."""
    names = [f for f in fields if f not in ("customer_id", "customer_name", "contact_name", "stage", "id", "owner")]
    check_write(actor, kind, names)


def excluded_fields(actor: Actor, kind: str) -> set[str]:
    rights = fields_for(actor, kind)
    return {f for f, r in rights.items() if r in ("hidden", "read")}


# ------------------------------------------------------------------------------------ upload

def storage_dir() -> Path:
    path = Path(_settings().data_dir) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def create_batch(session: Session, actor: Actor, *, file_name: str, data: bytes, kind: str, sheet: str | None = None,
                 template_id: int | None = None) -> ImportBatch:
    if kind not in KINDS:
        raise validation(FieldError("kind", "invalid_choice", {"choices": "、".join(KINDS)}))
    require(actor, kind, "import")
    require(actor, kind, "create")
    if not data:
        raise validation(FieldError("file", "required"))
    if len(data) > parser.MAX_BYTES:
        raise validation(FieldError("file", "file_too_large", {"max": parser.MAX_BYTES // (1024 * 1024)}))
    safe_name = Path(file_name or "upload").name[:200] or "upload"
    try:
        sniffed = parser.sniff(data, safe_name)
    except parser.ParseError as exc:
        raise validation(FieldError("file", exc.code)) from None
    ext = {"xlsx": ".xlsx", "xls": ".xls", "csv": ".csv"}[sniffed.file_type]
    path = storage_dir() / f"{uuid.uuid4().hex}{ext}"
    path.write_bytes(data)
    now = clock.now()
    batch = ImportBatch(kind=kind, file_name=safe_name, file_path=str(path), file_size=len(data),
                        checksum=hashlib.sha256(data).hexdigest(), encoding=sniffed.encoding, sheets=[], mapping=[], headers=[],
                        options={"rules": dict(DEFAULT_RULES)}, status="uploaded", counts={}, created_by_id=actor.user_id,
                        created_at=now, updated_at=now)
    template = None
    if template_id is not None:
        template = session.get(ImportTemplate, template_id)
        if template is None or template.created_by_id != actor.user_id or template.kind != kind:
            raise validation(FieldError("template_id", "invalid_reference"))
    try:
        layout(session, actor, batch, sheet=sheet, template=template)
    except parser.ParseError as exc:
        path.unlink(missing_ok=True)
        raise validation(FieldError("file", exc.code)) from None
    session.add(batch)
    session.flush()
    return batch


def _workbook(batch: ImportBatch) -> parser.Workbook:
    ext = Path(batch.file_path).suffix.lstrip(".")
    return parser.Workbook(Path(batch.file_path), ext, batch.encoding)


def layout(session: Session, actor: Actor, batch: ImportBatch, *, sheet: str | None = None, header_row: int | None = None,
           template: ImportTemplate | None = None) -> None:
    """Pick the sheet, detect (or take) the header row and propose a mapping."""
    book = _workbook(batch)
    batch.sheets = book.sheets
    if sheet is not None and sheet not in batch.sheets:
        raise validation(FieldError("sheet", "invalid_choice", {"choices": "、".join(batch.sheets)}))
    batch.sheet = sheet or batch.sheets[0]
    rows = book.rows(batch.sheet)
    defs = custom_defs(session, batch.kind)
    if header_row is None:
        index = parser.detect_header(rows, header_score(batch.kind, defs))
    else:
        if header_row < 1 or header_row > max(1, len(rows)):
            raise validation(FieldError("header_row", "invalid"))
        index = header_row - 1
    batch.header_row = index + 1
    batch.headers = parser.header_names(rows[index]) if rows else []
    batch.total_rows = sum(1 for _ in parser.data_rows(rows, index, len(batch.headers)))
    batch.mapping = propose(batch.kind, batch.headers, defs, excluded_fields(actor, batch.kind),
                            template.mapping if template else None)
    batch.status = "uploaded"
    batch.counts = {}


def set_mapping(session: Session, actor: Actor, batch: ImportBatch, body: dict[str, Any]) -> None:
    """Manual correction: {"sheet", "header_row", "template_id", "mapping": {column: field|null}, "save_as"}."""
    if batch.status not in ("uploaded", "previewed"):
        raise KithError(409, "import_not_editable")
    template = None
    if body.get("template_id") is not None:
        template = session.get(ImportTemplate, body["template_id"])
        if template is None or template.created_by_id != actor.user_id or template.kind != batch.kind:
            raise validation(FieldError("template_id", "invalid_reference"))
    if body.get("sheet") is not None or body.get("header_row") is not None or template is not None:
        layout(session, actor, batch, sheet=body.get("sheet") or batch.sheet, header_row=body.get("header_row"), template=template)
    manual = body.get("mapping")
    if manual is not None:
        defs = custom_defs(session, batch.kind)
        valid = set(targets(batch.kind)) | {f"cf_{d.name}" for d in defs}
        errors: list[FieldError] = []
        seen: dict[str, int] = {}
        entries = {e["column"]: dict(e) for e in batch.mapping}
        for key, field in manual.items():
            try:
                col = int(key)
            except (TypeError, ValueError):
                errors.append(FieldError(f"mapping.{key}", "invalid"))
                continue
            if col not in entries:
                errors.append(FieldError(f"mapping.{key}", "invalid"))
                continue
            if field is not None and field not in valid:
                errors.append(FieldError(f"mapping.{key}", "unknown_field"))
                continue
            entries[col]["field"] = field
            entries[col]["confidence"] = 1.0 if field else 0.0
        for col, e in sorted(entries.items()):
            if e["field"]:
                if e["field"] in seen:
                    errors.append(FieldError(f"mapping.{col}", "duplicate_mapping"))
                seen[e["field"]] = col
        if errors:
            raise validation(*errors)
        batch.mapping = [entries[c] for c in sorted(entries)]
    writable_fields(actor, batch.kind, [e["field"] for e in batch.mapping if e["field"]])
    if body.get("save_as"):
        save_template(session, actor, batch.kind, str(body["save_as"])[:100],
                      {e["header"]: e["field"] for e in batch.mapping})
    _reset_analysis(session, batch)


def _reset_analysis(session: Session, batch: ImportBatch) -> None:
    session.execute(delete(ImportRow).where(ImportRow.batch_id == batch.id))
    batch.status = "uploaded"
    batch.counts = {}
    batch.updated_at = clock.now()


def save_template(session: Session, actor: Actor, kind: str, name: str, mapping: dict[str, str]) -> ImportTemplate:
    tpl = session.scalar(select(ImportTemplate).where(ImportTemplate.created_by_id == actor.user_id, ImportTemplate.kind == kind,
                                                      ImportTemplate.name == name))
    if tpl is None:
        tpl = ImportTemplate(name=name, kind=kind, created_by_id=actor.user_id, created_at=clock.now(), mapping=mapping)
        session.add(tpl)
    else:
        tpl.mapping = mapping
    session.flush()
    return tpl


# ------------------------------------------------------------------------------------ analysis

def _users(session: Session) -> dict[str, int]:
    from kith.auth.models import User

    out: dict[str, int] = {}
    for uid, username, name in session.execute(select(User.id, User.username, User.display_name).where(User.is_active.is_(True))):
        out.setdefault(name, uid)
        out[username] = uid
        out[username.lower()] = uid
    return out


def _customers_by(session: Session, actor: Actor, ids: set[int], keys: set[str]) -> tuple[dict[int, Any], dict[str, Any]]:
    """Readable customers referenced by id or by name key (owner data included for children)."""
    from kith.customers.models import Customer as C

    cols = (C.id, C.name, C.name_key, C.owner_id, C.department_id, C.department_path)
    by_id: dict[int, Any] = {}
    by_key: dict[str, Any] = {}
    cond = readable(actor, C, "customer")
    id_list, key_list = sorted(ids), sorted(keys)
    for i in range(0, len(id_list), 500):
        for row in session.execute(select(*cols).where(C.id.in_(id_list[i:i + 500]), C.deleted_at.is_(None), cond)):
            by_id[row.id] = row
    for i in range(0, len(key_list), 500):
        for row in session.execute(select(*cols).where(C.name_key.in_(key_list[i:i + 500]), C.deleted_at.is_(None), cond).order_by(C.id)):
            by_key.setdefault(row.name_key, row)
    return by_id, by_key


def analyse(session: Session, actor: Actor, batch: ImportBatch) -> dict[str, int]:
    """Clean, validate and match every row; store them as import_rows (replacing an earlier analysis)."""
    if batch.status not in ("uploaded", "previewed"):
        raise KithError(409, "import_not_editable")
    require(actor, batch.kind, "import")
    session.execute(delete(ImportRow).where(ImportRow.batch_id == batch.id))
    kind = batch.kind
    tmap = targets(kind)
    defs = {f"cf_{d.name}": d for d in custom_defs(session, kind)}
    mapped = [(e["column"], e["field"]) for e in batch.mapping if e.get("field")]
    writable_fields(actor, kind, [f for _, f in mapped])
    ctx = {"tz": ZoneInfo(_settings().timezone), "users": _users(session)}
    required = [t.name for t in tmap.values() if t.required]
    rows = _workbook(batch).rows(batch.sheet)
    width = len(batch.headers)
    may_transfer = can(actor, kind, "transfer")
    may_update = can(actor, kind, "update")

    spec = {"mapped": mapped, "tmap": tmap, "defs": defs, "ctx": ctx, "required": required, "actor_id": actor.user_id,
            "may_transfer": may_transfer, "may_update": may_update}
    source = list(parser.data_rows(rows, batch.header_row - 1, width))
    del rows
    prematched = False
    if kind == "customer" and len(source) >= PARALLEL_FROM and (os.cpu_count() or 1) > 1:
        analysed = _analyse_parallel(session, actor, kind, source, spec)
        prematched = True
    else:
        analysed = [_clean_row(number, cells, spec) for number, cells in source]
    del source

    if kind in ("contact", "opportunity", "followup"):
        _resolve_customers(session, actor, analysed)
    if kind == "opportunity":
        _resolve_stages(session, analysed)
    if kind == "followup":
        _resolve_contacts(session, actor, analysed)
    if kind == "customer":
        _resolve_update_ids(session, actor, batch, analysed)
        _hidden_duplicates(session, actor, analysed)
    if kind in ("customer", "contact"):
        _duplicates(session, actor, kind, analysed, prematched=prematched)

    counts = {"total": len(analysed), "valid": 0, "rejected": 0, "duplicates": 0}
    out = []
    for a in analysed:
        status = "rejected" if a["errors"] else "pending"
        cands = a.get("candidates", [])
        proposed = None
        reason = None
        if status == "rejected":
            counts["rejected"] += 1
            reason = "invalid_fields" if not a.get("reason") else a["reason"]
        else:
            counts["valid"] += 1
            if "id" in a["cleaned"]:
                proposed = f"update:{a['cleaned']['id']}"
            else:
                proposed = _decide(cands, batch.options.get("rules") or DEFAULT_RULES)
            if cands:
                counts["duplicates"] += 1
        out.append({"batch_id": batch.id, "row_number": a["row_number"], "raw": a["raw"], "cleaned": a["cleaned"],
                    "changes": a["changes"], "errors": a["errors"], "candidates": cands, "proposed": proposed, "decision": None,
                    "status": status, "reason": reason, "record_id": None, "before": None, "after_version": None})
    if not _write_rows(session, ImportRow.__table__, out):
        for i in range(0, len(out), 2000):
            session.execute(insert(ImportRow), out[i:i + 2000])
    batch.total_rows = len(out)
    batch.counts = counts
    batch.status = "previewed"
    batch.updated_at = clock.now()
    return counts


def _clean_row(number: int, cells: list[Any], spec: dict[str, Any]) -> dict[str, Any]:
    """One source row → raw, cleaned values, what changed, field errors."""
    mapped, tmap, defs, ctx, required = spec["mapped"], spec["tmap"], spec["defs"], spec["ctx"], spec["required"]
    actor_id, may_transfer, may_update = spec["actor_id"], spec["may_transfer"], spec["may_update"]
    raw: dict[str, Any] = {}
    cleaned: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for col, field in mapped:
        cell = cells[col] if col < len(cells) else None
        raw[field] = None if cell is None else typed(cell)
        if field in defs:
            c = clean_custom(cell, defs[field], ctx)
        else:
            c = clean_target(cell, tmap[field], ctx)
        if c.error:
            if tmap.get(field) is not None and tmap[field].clean == "region":
                # a place cpca does not know stays as typed (it is not a reason to refuse the row)
                text = typed(cell).strip()
                cleaned[field] = text[: tmap[field].max_len] or None
                continue
            errors.append({"field": field, "code": c.error})
            continue
        if c.value is None:
            continue
        if tmap.get(field) is not None and tmap[field].clean == "region":
            province, city, district = c.value
            if field == "province":
                cleaned["province"] = province
                cleaned.setdefault("_city", city)
                cleaned.setdefault("_district", district)
            else:
                cleaned["city"] = city or province
                cleaned.setdefault("_district", district)
            changes[field] = {"value": cleaned[field], **({"changed": True} if cleaned[field] != typed(cell).strip() else {})}
            continue
        cleaned[field] = to_json(c.value)
        changes[field] = {"value": c.display, **({"changed": True} if c.changed else {}), **({"hint": c.hint} if c.hint else {})}
    for key in ("city", "district"):
        if cleaned.get(f"_{key}") and not cleaned.get(key):
            cleaned[key] = cleaned[f"_{key}"]
        cleaned.pop(f"_{key}", None)
    for name in required:
        if cleaned.get(name) in (None, "") and not any(e["field"] == name for e in errors):
            errors.append({"field": name, "code": "required"})
    owner = cleaned.get("owner")
    if owner is not None and owner != actor_id and not may_transfer:
        errors.append({"field": "owner", "code": "protected_field"})
    if "id" in cleaned and not may_update:
        errors.append({"field": "id", "code": "forbidden_update"})
    for name, d in defs.items():
        if getattr(d, "required", False) and cleaned.get(name) in (None, "", []) and "id" not in cleaned:
            if not any(e["field"] == name for e in errors):
                errors.append({"field": name, "code": "required"})
    return {"row_number": number, "raw": raw, "cleaned": cleaned, "changes": changes, "errors": errors}



def _resolve_customers(session: Session, actor: Actor, analysed: list[dict[str, Any]]) -> None:
    ids: set[int] = set()
    keys: set[str] = set()
    for a in analysed:
        c = a["cleaned"]
        if c.get("customer_id"):
            ids.add(c["customer_id"])
        elif c.get("customer_name"):
            keys.add(normalize_company(c["customer_name"]))
    by_id, by_key = _customers_by(session, actor, ids, keys)
    for a in analysed:
        c = a["cleaned"]
        hit = None
        if c.get("customer_id"):
            hit = by_id.get(c["customer_id"])
            field = "customer_id"
        elif c.get("customer_name"):
            hit = by_key.get(normalize_company(c["customer_name"]))
            field = "customer_name"
        else:
            a["errors"].append({"field": "customer_name", "code": "required"})
            continue
        if hit is None:
            a["errors"].append({"field": field, "code": "invalid_reference"})
            continue
        c["_customer"] = hit.id
        c["_customer_name"] = hit.name
        c["_owner"] = [hit.owner_id, hit.department_id, hit.department_path]


def _resolve_stages(session: Session, analysed: list[dict[str, Any]]) -> None:
    from kith.opportunities.models import Stage
    from kith.opportunities.service import default_pipeline

    pipeline = default_pipeline(session)
    stages = list(session.scalars(select(Stage).where(Stage.pipeline_id == pipeline.id).order_by(Stage.position, Stage.id)))
    by_name = {}
    for s in stages:
        by_name[s.name.lower()] = s
        if s.name_en:
            by_name[s.name_en.lower()] = s
    for a in analysed:
        c = a["cleaned"]
        stage = stages[0] if stages else None
        if c.get("stage"):
            stage = by_name.get(str(c["stage"]).lower())
            if stage is None:
                a["errors"].append({"field": "stage", "code": "invalid_choice", "params": {"choices": "、".join(s.name for s in stages)}})
                continue
        if stage is None:
            a["errors"].append({"field": "stage", "code": "invalid_reference"})
            continue
        c["_pipeline"], c["_stage"], c["_stage_kind"] = pipeline.id, stage.id, stage.kind
        if stage.kind == "open":
            for f in ("next_action", "next_action_due"):
                if not c.get(f) and not any(e["field"] == f for e in a["errors"]):
                    a["errors"].append({"field": f, "code": "next_action_required"})
        elif stage.kind == "lost":
            a["errors"].append({"field": "stage", "code": "lost_reason_required"})


def _resolve_contacts(session: Session, actor: Actor, analysed: list[dict[str, Any]]) -> None:
    from kith.contacts.models import Contact

    wanted = {(a["cleaned"].get("_customer"), a["cleaned"]["contact_name"]) for a in analysed
              if a["cleaned"].get("contact_name") and a["cleaned"].get("_customer")}
    found: dict[tuple[int, str], int] = {}
    cust_ids = sorted({w[0] for w in wanted})
    for i in range(0, len(cust_ids), 500):
        stmt = select(Contact.id, Contact.customer_id, Contact.name).where(
            Contact.customer_id.in_(cust_ids[i:i + 500]), Contact.deleted_at.is_(None), readable(actor, Contact, "contact"))
        for cid, cust, name in session.execute(stmt.order_by(Contact.id)):
            found.setdefault((cust, name), cid)
    for a in analysed:
        c = a["cleaned"]
        if c.get("contact_name") and c.get("_customer"):
            hit = found.get((c["_customer"], c["contact_name"]))
            if hit is None:
                a["errors"].append({"field": "contact_name", "code": "invalid_reference"})
            else:
                c["_contact"] = hit


def _resolve_update_ids(session: Session, actor: Actor, batch: ImportBatch, analysed: list[dict[str, Any]]) -> None:
    model = model_of(batch.kind)
    ids = sorted({a["cleaned"]["id"] for a in analysed if a["cleaned"].get("id")})
    ok: set[int] = set()
    for i in range(0, len(ids), 500):
        ok.update(session.scalars(select(model.id).where(model.id.in_(ids[i:i + 500]), model.deleted_at.is_(None),
                                                         writable(actor, model, batch.kind))))
    for a in analysed:
        rid = a["cleaned"].get("id")
        if rid and rid not in ok:
            a["errors"].append({"field": "id", "code": "invalid_reference"})


def _hidden_duplicates(session: Session, actor: Actor, analysed: list[dict[str, Any]]) -> None:
    """A customer that already exists but that the importer cannot see is refused, as on create."""
    from kith.customers.models import Customer as C

    if actor.scopes.get("customer") == "all":
        return
    keys, phones, emails = set(), set(), set()
    for k, p, e in session.execute(select(C.name_key, C.phone, C.email).where(C.deleted_at.is_(None), not_(readable(actor, C, "customer")))):
        keys.add(k)
        if p:
            phones.add(p)
        if e:
            emails.add(e)
    for a in analysed:
        c = a["cleaned"]
        if a["errors"] or c.get("id"):
            continue
        hit = ("name" if c.get("name") and normalize_company(c["name"]) in keys else
               "phone" if c.get("phone") in phones else "email" if c.get("email") in emails else None)
        if hit:
            a["errors"].append({"field": hit, "code": "duplicate_hidden"})
            a["reason"] = "duplicate_hidden"


def _match_record(kind: str, c: dict[str, Any]) -> dict[str, Any]:
    if kind == "customer":
        return {"name": c.get("name"), "phone": c.get("phone"), "email": c.get("email"), "city": c.get("city") or c.get("province")}
    return {"name": c.get("name"), "mobile": c.get("mobile"), "phone": c.get("phone"), "email": c.get("email"),
            "customer_name": c.get("_customer_name")}


def _duplicates(session: Session, actor: Actor, kind: str, analysed: list[dict[str, Any]], *, prematched: bool = False) -> None:
    """Candidates within the file (earlier valid rows) and among existing records the importer can read.
    `prematched`: the parallel path already matched against existing records and left each row's vector.
    All valid rows go into the in-file index first; each is then matched against the rows added before it
    (Matcher._candidates(before=…): the index as it stood when the row came), in forked workers for large files."""
    from kith.dedup.engine import Matcher, existing_matcher

    model = model_of(kind)
    existing = None if prematched else existing_matcher(session, kind, readable_condition=readable(actor, model, kind))
    in_file = Matcher(kind)
    todo: list[tuple[dict[str, Any], int]] = []
    names: dict[int, str] = {}
    for a in analysed:
        c = a["cleaned"]
        vec = a.pop("_vec", None)
        if a["errors"] or c.get("id"):
            a["candidates"] = []
            continue
        if existing is not None:
            vec = existing._vector(_match_record(kind, c))  # prepared once for both matchers
            a["candidates"] = [{"source": "existing", "id": key, "score": round(score, 3), "matched": sorted(matched)}
                               for key, score, matched in _match_vector(existing, vec)]
        else:
            a["candidates"] = a.pop("_existing", [])
        todo.append((a, in_file._add_vector(a["row_number"], vec)))
    found = _in_file_matches(in_file, [idx for _, idx in todo])
    for (a, _), hits in zip(todo, found):
        a["candidates"] += [{"source": "file", "row": key, "score": round(score, 3), "matched": sorted(matched)}
                            for key, score, matched in hits]
    ids = {c["id"] for a in analysed for c in a.get("candidates", []) if c["source"] == "existing"}
    id_list = sorted(ids)
    for i in range(0, len(id_list), 500):
        names.update(session.execute(select(model.id, model.name).where(model.id.in_(id_list[i:i + 500]))).all())
    for a in analysed:
        for c in a.get("candidates", []):
            if c["source"] == "existing":
                c["name"] = names.get(c["id"])


def _in_file_slice(bounds: tuple[int, int]) -> list[list[tuple[Any, float, dict[str, float]]]]:
    """In a forked worker: in-file matches of the indexed rows idxs[lo:hi], each against the rows before it."""
    lo, hi = bounds
    matcher, idxs = _FORK["in_file"], _FORK["idxs"]
    values = matcher._values
    return [_match_vector(matcher, values[i], before=i) for i in idxs[lo:hi]]


def _in_file_matches(matcher: Any, idxs: list[int]) -> list[list[tuple[Any, float, dict[str, float]]]]:
    if len(idxs) < PARALLEL_FROM or (os.cpu_count() or 1) < 2:
        values = matcher._values
        return [_match_vector(matcher, values[i], before=i) for i in idxs]
    import multiprocessing

    workers = min(os.cpu_count() or 2, 4)
    step = max(1, -(-len(idxs) // (workers * 4)))
    _FORK.update(in_file=matcher, idxs=idxs)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_in_file_slice, [(i, min(i + step, len(idxs))) for i in range(0, len(idxs), step)])
    finally:
        _FORK.clear()
    return [hits for part in parts for hits in part]


PARALLEL_FROM = int(os.environ.get("KITH_IMPORT_PARALLEL_FROM", "20000"))
_FORK: dict[str, Any] = {}


def _analyse_slice(bounds: tuple[int, int]) -> list[dict[str, Any]]:
    """In a forked worker: clean rows [lo, hi) and match them against the existing records (read-only, inherited)."""
    lo, hi = bounds
    spec, existing, source = _FORK["spec"], _FORK["existing"], _FORK["source"]
    out = []
    for number, cells in source[lo:hi]:
        a = _clean_row(number, cells, spec)
        if not a["errors"] and not a["cleaned"].get("id"):
            vec = existing._vector(_match_record("customer", a["cleaned"]))
            a["_vec"] = vec
            a["_existing"] = [{"source": "existing", "id": key, "score": round(score, 3), "matched": sorted(matched)}
                              for key, score, matched in _match_vector(existing, vec)]
        out.append(a)
    return out


def _analyse_parallel(session: Session, actor: Actor, kind: str, source: list[Any], spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Large files: the existing records are loaded once, then forked workers (one per core) clean and match
    slices of the file; the in-file matching stays sequential (it needs the rows in order)."""
    import multiprocessing

    from kith.customers.models import Customer
    from kith.dedup.engine import existing_matcher

    existing = existing_matcher(session, kind, readable_condition=readable(actor, Customer, kind))
    workers = min(os.cpu_count() or 2, 4)
    step = max(1, -(-len(source) // (workers * 4)))
    bounds = [(i, min(i + step, len(source))) for i in range(0, len(source), step)]
    _FORK.update(spec=spec, existing=existing, source=source)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_analyse_slice, bounds)
    finally:
        _FORK.clear()
    return [a for part in parts for a in part]


def _match_vector(matcher: Any, vec: tuple[Any, ...], limit: int = 3, before: int | None = None
                  ) -> list[tuple[Any, float, dict[str, float]]]:
    """Matcher.match for an already prepared vector (the engine's own candidate and score steps)."""
    out = []
    for j in matcher._candidates(vec, before):
        score, matched = matcher._score(vec, matcher._values[j])
        if score >= matcher.threshold and matched:
            out.append((matcher._keys[j], score, matched))
    out.sort(key=lambda x: (-x[1], str(x[0])))
    return out[:limit]


def _decide(cands: list[dict[str, Any]], rules: dict[str, Any]) -> str:
    existing = [c for c in cands if c["source"] == "existing"]
    if existing:
        best = max(existing, key=lambda c: c["score"])
        action = rules.get("existing", "skip")
        if action == "merge" and best["score"] >= float(rules.get("min_score", 0.9)):
            return f"merge:{best['id']}"
        if action == "create":
            return "create"
        return "skip"
    if any(c["source"] == "file" for c in cands):
        return "create" if rules.get("in_file") == "create" else "skip"
    return "create"


def set_decisions(session: Session, actor: Actor, batch: ImportBatch, body: dict[str, Any]) -> None:
    """Per-row decisions ({"rows": {"12": "merge:5"}}) and rules ({"rules": {"existing": "merge", "min_score": 0.9}})."""
    if batch.status not in ("uploaded", "previewed") or (body.get("rows") and batch.status != "previewed"):
        raise KithError(409, "import_not_previewed" if batch.status == "uploaded" else "import_not_editable")
    errors: list[FieldError] = []
    rules = body.get("rules")
    if rules is not None:
        if not isinstance(rules, dict):
            raise validation(FieldError("rules", "invalid"))
        merged = {**DEFAULT_RULES, **(batch.options.get("rules") or {}), **rules}
        if merged["existing"] not in ("skip", "merge", "create"):
            errors.append(FieldError("rules.existing", "invalid_choice", {"choices": "skip、merge、create"}))
        if merged["in_file"] not in ("skip", "create"):
            errors.append(FieldError("rules.in_file", "invalid_choice", {"choices": "skip、create"}))
        try:
            merged["min_score"] = float(merged["min_score"])
            if not 0 <= merged["min_score"] <= 1:
                raise ValueError
        except (TypeError, ValueError):
            errors.append(FieldError("rules.min_score", "invalid_number"))
        if errors:
            raise validation(*errors)
        if merged.get("existing") == "merge" and not can(actor, batch.kind, "update"):
            raise KithError(403, "forbidden")
        batch.options = {**batch.options, "rules": merged}
    rows = body.get("rows") or {}
    if not isinstance(rows, dict):
        raise validation(FieldError("rows", "invalid"))
    updates = []
    targets_needed: set[int] = set()
    for key, value in rows.items():
        try:
            number = int(key)
        except (TypeError, ValueError):
            errors.append(FieldError(f"rows.{key}", "invalid"))
            continue
        if value is not None and value not in ("create", "skip") and not (isinstance(value, str) and value.startswith("merge:")
                                                                         and value[6:].isdigit()):
            errors.append(FieldError(f"rows.{key}", "invalid_choice", {"choices": "create、skip、merge:<id>"}))
            continue
        if isinstance(value, str) and value.startswith("merge:"):
            targets_needed.add(int(value[6:]))
        updates.append((number, value))
    if targets_needed:
        model = model_of(batch.kind)
        ok = set(session.scalars(select(model.id).where(model.id.in_(sorted(targets_needed)), model.deleted_at.is_(None),
                                                        writable(actor, model, batch.kind))))
        for number, value in updates:
            if isinstance(value, str) and value.startswith("merge:") and int(value[6:]) not in ok:
                errors.append(FieldError(f"rows.{number}", "invalid_reference"))
        if not can(actor, batch.kind, "update"):
            raise KithError(403, "forbidden")
    if errors:
        raise validation(*errors)
    for number, value in updates:
        session.execute(update(ImportRow).where(ImportRow.batch_id == batch.id, ImportRow.row_number == number,
                                                ImportRow.status == "pending").values(decision=value))
    batch.updated_at = clock.now()


# ------------------------------------------------------------------------------------ run

def start(session: Session, actor: Actor, batch: ImportBatch) -> None:
    """Queue the run (analysing first when the preview was skipped)."""
    require(actor, batch.kind, "import")
    if batch.status == "uploaded":
        analyse(session, actor, batch)
    if batch.status != "previewed":
        raise KithError(409, "import_not_previewed")
    batch.status = "running"
    batch.runner = None
    batch.updated_at = clock.now()
    _enqueue(session, batch.id)


def _enqueue(session: Session, batch_id: int) -> None:
    from kith.core.jobs import enqueue

    enqueue(session, "kith.imports.service:run_batch", batch_id)


def runner_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


def runner_alive(batch: ImportBatch) -> bool:
    if not batch.runner:
        return False
    host, _, pid = batch.runner.rpartition(":")
    if host == socket.gethostname()[:60] and pid.isdigit():
        if int(pid) == os.getpid():
            return True
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return batch.heartbeat_at is not None and clock.now() - batch.heartbeat_at < STALE_AFTER
    return batch.heartbeat_at is not None and clock.now() - batch.heartbeat_at < STALE_AFTER


def resume(session: Session, actor: Actor, batch: ImportBatch) -> None:
    require(actor, batch.kind, "import")
    if batch.status not in ("running", "failed"):
        raise KithError(409, "import_not_resumable")
    if batch.status == "running" and runner_alive(batch):
        raise KithError(409, "import_running")
    batch.status = "running"
    batch.runner = None
    batch.error = None
    _enqueue(session, batch.id)


def resume_stale(session: Session, now: Any = None) -> dict[str, Any]:
    """For the worker (at start-up or periodically): re-queue batches left running with no live runner."""
    resumed = []
    for batch in session.scalars(select(ImportBatch).where(ImportBatch.status == "running")):
        lost_job = batch.runner is None and clock.now() - batch.updated_at > STALE_AFTER  # queued, never claimed
        if (batch.runner and not runner_alive(batch)) or lost_job:
            batch.runner = None
            batch.updated_at = clock.now()
            _enqueue(session, batch.id)
            resumed.append(batch.id)
    return {"resumed": resumed}


def _claim(session: Session, batch_id: int) -> bool:
    """Become the batch's runner (atomically: nobody else runs it, or its runner is gone)."""
    batch = session.get(ImportBatch, batch_id)
    if batch is None or batch.status != "running":
        return False
    if batch.runner and runner_alive(batch):
        return False
    me = runner_id()
    now = clock.now()
    cond = ImportBatch.runner.is_(None) if batch.runner is None else ImportBatch.runner == batch.runner
    res = session.execute(update(ImportBatch).where(ImportBatch.id == batch_id, ImportBatch.status == "running", cond)
                          .values(runner=me, heartbeat_at=now).execution_options(synchronize_session=False))
    session.commit()
    session.expire_all()
    return res.rowcount == 1


def run_batch(session: Session, batch_id: int, progress: Any = None) -> dict[str, Any]:
    """The background job: claim the batch, back up (SQLite, first start), then process chunk by chunk."""
    from kith.access import load_actor
    from kith.activities.models import Event
    from kith.auth.models import User

    if not _claim(session, batch_id):
        return {"claimed": False}
    batch = session.get(ImportBatch, batch_id)
    assert batch is not None
    user = session.get(User, batch.created_by_id)
    assert user is not None
    actor = load_actor(session, user)
    ahead: _SearchAhead | None = None
    session.info.setdefault("audit", {}).update({"actor_id": user.id, "actor_name": user.display_name})
    try:
        if batch.started_at is None:
            batch.started_at = clock.now()
            batch.event_floor = session.scalar(select(func.max(Event.id))) or 0
            if (batch.options or {}).get("backup", True):
                _backup(session, batch)
            session.commit()
        # large batches commit fewer, larger chunks (each commit may checkpoint SQLite's WAL), still ≥ 20 of them
        chunk = int((batch.options or {}).get("chunk") or os.environ.get("KITH_IMPORT_CHUNK")
                    or max(CHUNK, min(MAX_CHUNK, (batch.total_rows or 0) // 20)))
        throttle = float(os.environ.get("KITH_IMPORT_THROTTLE", "0") or 0)
        ahead = _SearchAhead.start(session, batch, chunk)
        while True:
            # plain rows with only what a chunk needs (no ORM identity map, raw / changes / errors not decoded)
            rows = session.execute(select(*_RUN_COLUMNS).where(ImportRow.batch_id == batch_id, ImportRow.status == "pending")
                                   .order_by(ImportRow.row_number).limit(chunk)).all()
            if not rows:
                break
            _process(session, actor, batch, rows, ahead)
            batch.processed_rows = batch.total_rows - _pending(session, batch_id)
            batch.heartbeat_at = clock.now()
            batch.updated_at = clock.now()
            session.commit()
            session.expunge_all()
            batch = session.get(ImportBatch, batch_id)
            if progress:
                progress(batch.processed_rows, batch.total_rows)
            if throttle:
                _time.sleep(throttle)
        if ahead is not None:
            ahead.close()
        batch.counts = final_counts(session, batch_id)
        batch.processed_rows = batch.total_rows
        batch.status = "done"
        batch.finished_at = clock.now()
        batch.runner = None
        session.commit()
    except Exception as exc:  # noqa: BLE001 - recorded on the batch; the rows not yet done stay pending
        if ahead is not None:
            ahead.close()
        session.rollback()
        log.exception("import_failed batch=%s", batch_id)
        batch = session.get(ImportBatch, batch_id)
        batch.status = "failed"
        batch.error = f"{exc.__class__.__name__}: {str(exc)[:400]}"
        batch.runner = None
        session.commit()
    return {"claimed": True, "status": batch.status, "counts": batch.counts}


class _SearchAhead:
    """A forked helper process that computes the search values of the records the run will create
    (_prepared_search: pinyin, grams, name key — about half the writing process's CPU per created record) ahead of
    the writes, on the other core. It reads the pending rows itself (its own connection, short keyset pages in row
    order) and sends {row id: values} per page through a bounded queue; the run takes what is ready for its chunk and
    computes anything missing itself (a row the helper has not reached, or no helper at all). The helper only reads:
    crash safety, resume and results are those of the run without it. Used for large batches of kinds with search
    values (`PARALLEL_FROM` pending rows, more than one CPU, a database file or server the helper can open);
    KITH_IMPORT_SEARCH_AHEAD=0 turns it off."""

    PAGE = 2000

    def __init__(self, proc: Any, queue: Any) -> None:
        self._proc, self._queue = proc, queue
        self._ready: dict[int, list[Any]] = {}
        self._upto = 0
        self._done = False

    @classmethod
    def start(cls, session: Session, batch: ImportBatch, chunk: int) -> _SearchAhead | None:
        if os.environ.get("KITH_IMPORT_SEARCH_AHEAD", "1") == "0" or batch.kind == "followup" or (os.cpu_count() or 1) < 2:
            return None
        url = session.get_bind().url
        if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
            return None
        if _pending(session, batch.id) < PARALLEL_FROM:
            return None
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        queue = ctx.Queue(maxsize=max(2, -(-chunk // cls.PAGE) * 2))
        rules = {**DEFAULT_RULES, **((batch.options or {}).get("rules") or {})}
        proc = ctx.Process(target=_search_ahead_main, daemon=True,
                           args=(url.render_as_string(hide_password=False), batch.id, batch.kind, rules, queue, os.getpid()))
        proc.start()
        return cls(proc, queue)

    def take(self, rows: list[Any]) -> dict[int, list[Any]]:
        """The values ready for these rows (waiting for the helper while it has not passed the chunk's last row)."""
        import queue as queue_mod

        last = rows[-1].row_number
        while not self._done and self._upto < last:
            try:
                msg = self._queue.get(timeout=30)
            except queue_mod.Empty:
                msg = None
            if msg is None:
                self._done = True
                break
            self._upto, items = msg
            self._ready.update(items)
        return {r.id: self._ready.pop(r.id) for r in rows if r.id in self._ready}

    def close(self) -> None:
        self._done = True
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join(5)
        self._queue.cancel_join_thread()
        self._queue.close()


def _search_ahead_main(url: str, batch_id: int, kind: str, rules: dict[str, Any], queue: Any, parent: int) -> None:
    """The helper: pending rows in row order, page by page (each page its own short read), values of the creates."""
    import queue as queue_mod

    from kith.db.session import make_engine

    def put(msg: Any) -> bool:
        while True:
            try:
                queue.put(msg, timeout=1)
                return True
            except queue_mod.Full:
                if os.getppid() != parent:  # the run is gone: exit without waiting to flush what nobody reads
                    queue.cancel_join_thread()
                    return False

    engine = make_engine(url)  # its own connections (the parent's, inherited by the fork, are left alone)
    try:
        after = 0
        stmt = select(*_RUN_COLUMNS).where(ImportRow.batch_id == batch_id, ImportRow.status == "pending")
        while True:
            with engine.connect() as conn:
                page = conn.execute(stmt.where(ImportRow.row_number > after).order_by(ImportRow.row_number)
                                    .limit(_SearchAhead.PAGE)).all()
            if not page:
                break
            items = {r.id: _prepared_search(kind, r.cleaned) for r in page if _effective(r, rules) == "create"}
            after = page[-1].row_number
            if not put((after, items)):
                return
        put(None)
    except Exception:  # noqa: BLE001 - the run computes the values itself
        log.exception("import_search_ahead_failed batch=%s", batch_id)
        put(None)
    finally:
        engine.dispose()


_RUN_COLUMNS = (ImportRow.id, ImportRow.row_number, ImportRow.cleaned, ImportRow.candidates, ImportRow.decision, ImportRow.proposed)


def _pending(session: Session, batch_id: int) -> int:
    return session.scalar(select(func.count()).select_from(ImportRow).where(ImportRow.batch_id == batch_id, ImportRow.status == "pending")) or 0


def final_counts(session: Session, batch_id: int) -> dict[str, int]:
    counts = {s: 0 for s in ("pending", *FINAL)}
    for status, n in session.execute(select(ImportRow.status, func.count()).where(ImportRow.batch_id == batch_id).group_by(ImportRow.status)):
        counts[status] = n
    counts["total"] = sum(v for k, v in counts.items())
    if not counts["pending"]:
        counts.pop("pending")
    return counts


def _backup(session: Session, batch: ImportBatch) -> None:
    url = session.get_bind().url
    if url.get_backend_name() != "sqlite":
        return
    from kith.ops import backup as ops

    out = Path(_settings().data_dir) / "backups" / f"before-import-{batch.id}-{clock.now().strftime('%Y%m%d-%H%M%S')}.db"
    session.commit()  # the backup sees what is committed
    result = ops.backup(url.render_as_string(hide_password=False), out)
    batch.backup_path = str(result.path)


# ---- writing one chunk ----------------------------------------------------------------------

def _effective(row: ImportRow, rules: dict[str, Any]) -> str:
    if row.decision:
        return row.decision
    if row.proposed and row.proposed.startswith("update:"):
        return row.proposed
    return _decide(row.candidates or [], rules)


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date, Decimal)):
        return to_json(value)
    return value


def image(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in row.items()}


def restore_value(column: Any, value: Any) -> Any:
    if value is None:
        return None
    t = column.type
    if isinstance(t, DateTime) or getattr(t, "impl", None) is not None and isinstance(t.impl, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(t, Date):
        return date.fromisoformat(value)
    if isinstance(t, Numeric):
        return Decimal(str(value))
    return value


def _search(kind: str, values: dict[str, Any]) -> tuple[str, list[str], str]:
    """search_text, search_grams and search_names of a record with these column values (kith.search.index)."""
    from kith.search.index import SEARCH_COLUMNS, search_parts

    table = model_of(kind).__tablename__
    obj = SimpleNamespace(__tablename__=table, **{k: values.get(k) for k in SEARCH_COLUMNS})
    vals, names = search_parts(obj)
    return " ".join(vals), grams_of(vals), " ".join(names)


def _prepared_search(kind: str, cleaned: dict[str, Any]) -> list[Any]:
    """What a row gives the record it creates for search and matching: [search_text, search grams joined by spaces,
    name_key (customers), search_names] — the column values _record_values takes, the same functions. Computed ahead
    by the run's helper process (_SearchAhead), so the writing process does not."""
    from kith.search.index import SEARCH_COLUMNS

    tmap = targets(kind)
    cols: dict[str, Any] = {}
    for field, value in cleaned.items():
        t = tmap.get(field)
        if t is not None and t.column in SEARCH_COLUMNS:
            cols[t.column] = from_json(value, t)
    text, grams, names = _search(kind, cols)
    return [text, " ".join(grams), normalize_company(cols["name"]) if kind == "customer" and cols.get("name") else None, names]


def _record_values(session: Session, actor: Actor, batch: ImportBatch, cleaned: dict[str, Any], owners: dict[int, Any],
                   now: datetime, prepared: list[Any] | None = None) -> dict[str, Any]:
    """Column values of a new record from a row's cleaned values (`prepared`: its _prepared_search, when computed
    ahead by the run's helper process)."""
    kind = batch.kind
    tmap = targets(kind)
    vals: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for field, value in cleaned.items():
        if field.startswith("cf_"):
            custom[field[3:]] = value
        elif field in tmap and tmap[field].column:
            vals[tmap[field].column] = from_json(value, tmap[field])
    vals["created_by_id"] = actor.user_id
    if kind in ("contact", "followup", "opportunity"):
        vals["customer_id"] = cleaned["_customer"]
    if kind in ("contact", "followup"):
        owner_id, dept_id, path = cleaned["_owner"]
    else:
        owner_id = cleaned.get("owner") or actor.user_id
        dept_id, path = owners[owner_id]
    vals.update(owner_id=owner_id, department_id=dept_id, department_path=path)
    if kind == "customer":
        vals["name_key"] = prepared[2] if prepared and prepared[2] is not None else normalize_company(vals["name"])
        vals.setdefault("status", "potential")
    elif kind == "contact":
        vals.setdefault("is_primary", False)
    elif kind == "opportunity":
        vals.update(pipeline_id=cleaned["_pipeline"], stage_id=cleaned["_stage"], stage_changed_at=now,
                    status=cleaned["_stage_kind"], closed_at=now if cleaned["_stage_kind"] in ("won", "lost") else None)
        vals.setdefault("currency", "CNY")
    elif kind == "followup":
        vals["contact_id"] = cleaned.get("_contact")
        vals.setdefault("type", "note")
        vals.setdefault("occurred_at", now)
    if kind != "followup":
        vals["custom"] = custom
        if prepared:
            vals["search_text"], vals["search_grams"], vals["search_names"] = prepared[0], prepared[1].split(), prepared[3]
        else:
            vals["search_text"], vals["search_grams"], vals["search_names"] = _search(kind, vals)
    vals.update(created_at=now, updated_at=now, version=1, deleted_at=None, deleted_by_id=None)
    return vals


def _owners(session: Session, ids: set[int]) -> dict[int, tuple[int | None, str]]:
    from kith.auth.models import Department, User

    out: dict[int, tuple[int | None, str]] = {}
    if not ids:
        return out
    for uid, dept_id, path in session.execute(select(User.id, User.department_id, Department.path)
                                              .outerjoin(Department, Department.id == User.department_id).where(User.id.in_(sorted(ids)))):
        out[uid] = (dept_id, path or "/")
    return out


def _event(actor: Actor, kind: str, record_id: int, customer_id: int | None, now: datetime, type_: str, summary: str,
           data: dict[str, Any], contact_id: int | None = None, opportunity_id: int | None = None) -> dict[str, Any]:
    import json

    return {"customer_id": customer_id, "contact_id": contact_id if kind != "contact" else record_id,
            "opportunity_id": opportunity_id if kind != "opportunity" else record_id, "entity_type": kind, "entity_id": record_id,
            "type": type_, "actor_id": actor.user_id, "occurred_at": now, "summary": (summary or "")[:500],
            "data": json.loads(json.dumps(data, default=str, ensure_ascii=False))}


def _counted_customers(session: Session, kind: str, new_values: list[dict[str, Any]], existing_ids: list[int]) -> set[int]:
    """Customers whose report roll-up row a Core write of `kind` records can move (customers; contacts' customers)."""
    if kind == "customer":
        return set(existing_ids)
    if kind != "contact":
        return set()
    from kith.contacts.models import Contact

    ids = {v.get("customer_id") for v in new_values if v.get("customer_id")}
    ordered = sorted(set(existing_ids))
    for i in range(0, len(ordered), 500):
        ids.update(session.scalars(select(Contact.customer_id).where(Contact.id.in_(ordered[i:i + 500]))))
    return {i for i in ids if i is not None}


def _process(session: Session, actor: Actor, batch: ImportBatch, rows: list[Any], ahead: _SearchAhead | None = None) -> None:
    from kith.activities.models import Event
    from kith.audit import service as audit

    kind = batch.kind
    model = model_of(kind)
    table = model.__table__
    rules = {**DEFAULT_RULES, **((batch.options or {}).get("rules") or {})}
    now = clock.now()
    outcomes: list[dict[str, Any]] = []
    creates: list[tuple[ImportRow, dict[str, Any]]] = []
    changes: list[tuple[ImportRow, str, int]] = []
    owner_ids = {r.cleaned.get("owner") or actor.user_id for r in rows}
    owners = _owners(session, owner_ids)
    may_create = can(actor, kind, "create")
    prepared = ahead.take(rows) if ahead is not None else {}
    for row in rows:
        action = _effective(row, rules)
        if action == "skip":
            dup = next((c for c in row.candidates or [] if c["source"] == "existing"), None) or next(iter(row.candidates or []), None)
            reason = ("skipped_by_user" if row.decision == "skip" else
                      f"duplicate_existing:{dup['id']}" if dup and dup["source"] == "existing" else
                      f"duplicate_in_file:{dup['row']}" if dup else "skipped_by_user")
            outcomes.append({"b_id": row.id, "b_status": "skipped", "b_reason": reason, "b_record": None, "b_before": None, "b_version": None})
        elif action == "create":
            if not may_create:
                outcomes.append({"b_id": row.id, "b_status": "rejected", "b_reason": "forbidden", "b_record": None, "b_before": None,
                                 "b_version": None})
                continue
            creates.append((row, _record_values(session, actor, batch, row.cleaned, owners, now, prepared.get(row.id))))
        else:
            verb, _, rid = action.partition(":")
            changes.append((row, verb, int(rid)))
    events: list[dict[str, Any]] = []
    fts: list[tuple[int, list[str]]] = []
    counted = _counted_customers(session, kind, [v for _, v in creates], [rid for _, _, rid in changes])
    counted_before = rollup.keys(session, counted, True)
    if creates:
        keys = set().union(*(v.keys() for _, v in creates))
        for _, v in creates:
            for k in keys - v.keys():
                v[k] = None
        ids = _insert_records(session, table, [v for _, v in creates])
        befores = _followup_times(session, creates, ids, now) if kind == "followup" else {}
        for (row, vals), rid in zip(creates, ids):
            outcomes.append({"b_id": row.id, "b_status": "created", "b_reason": None, "b_record": rid, "b_before": befores.get(row.id),
                             "b_version": 1})
            if "search_grams" in vals:
                fts.append((rid, vals["search_grams"]))
            events.append(_created_event(actor, kind, rid, vals, now))
    if changes:
        outcomes.extend(_apply_changes(session, actor, batch, changes, now, events, fts))
    if events and not _write_rows(session, Event.__table__, events):
        session.execute(insert(Event), events)
    if fts:
        _index_fts(session, table.name, fts)
    if outcomes:
        t = ImportRow.__table__
        session.execute(
            update(t).where(t.c.id == bindparam("b_id")).values(status=bindparam("b_status"), reason=bindparam("b_reason"),
                                                                 record_id=bindparam("b_record"), before=bindparam("b_before"),
                                                                 after_version=bindparam("b_version")),
            outcomes,
        )
    created = [o["b_record"] for o in outcomes if o["b_status"] == "created"]
    changed = [o["b_record"] for o in outcomes if o["b_status"] in ("updated", "merged")]
    # the report roll-up (customers per owner/department/completeness) is kept by ORM listeners; Core writes refresh it here
    rollup.refresh(session, counted | (set(created) if kind == "customer" else set()), counted_before)
    audit.record(session, "import", entity_type=kind, entity_id=batch.id,
                 changes={"batch_id": batch.id, "rows": [rows[0].row_number, rows[-1].row_number], "created": len(created),
                          "changed_ids": changed[:1000]})


def _insert_records(session: Session, table: Any, values: list[dict[str, Any]]) -> list[int]:
    """INSERT the new records; their ids in order. PostgreSQL: the ids are drawn from the table's sequence first and the
    rows go in with COPY (_write_rows; a multi-row INSERT … RETURNING is a statement too large for psycopg to cache,
    re-parsed for every page of 1,000 rows). SQLite: the first row's INSERT … RETURNING gives the next id (and the
    write lock), the others take the ids after it in one executemany (_write_rows)."""
    from sqlalchemy import text

    if session.get_bind().dialect.name == "postgresql":
        seq = session.scalar(select(func.pg_get_serial_sequence(table.name, "id")))
        if seq:
            ids = sorted(session.scalars(text("SELECT nextval(:seq) FROM generate_series(1, :n)"), {"seq": seq, "n": len(values)}))
            for v, rid in zip(values, ids):
                v["id"] = rid
            if not _write_rows(session, table, values):
                session.execute(insert(table), values)
            return ids
    if table.name != "followups" and len(values) > 1:
        # SQLite: the first row takes the next id and, with it, the database's write lock until the commit — no other
        # connection can insert now, so the ids after it are free: the other rows go in with them, in one executemany
        first = session.execute(insert(table).returning(table.c.id), values[0]).scalar_one()
        if first + len(values) < 2**63 and session.scalar(select(func.max(table.c.id))) == first:
            ids = list(range(first, first + len(values)))
            rest = values[1:]
            for v, rid in zip(rest, ids[1:]):
                v["id"] = rid
            if not _write_rows(session, table, rest):
                session.execute(insert(table), rest)
            return ids
        return [first, *session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), values[1:]).scalars()]
    return list(session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), values).scalars())


def _write_rows(session: Session, table: Any, rows: list[dict[str, Any]]) -> bool:
    """INSERT `rows` (dicts with the same keys) into `table` on the session's own connection and transaction, below
    SQLAlchemy's per-statement machinery: PostgreSQL takes them with COPY (one stream instead of a bind and execute
    per row), SQLite with the driver's executemany of one prepared statement (no multi-row VALUES pages to build
    and no RETURNING to sort). The values are converted by the columns' own bind processors (JSON, UTC timestamps,
    text arrays), as an INSERT would, and the Python-side defaults of absent columns are applied per row. Triggers
    fire as for any INSERT. False (nothing written) for no rows, another database, or a default that is a SQL
    expression or sequence: the caller then INSERTs through the Session. Not for follow-ups (kith.reports.followup_days
    keeps its per-day counts from Session DML)."""
    if not rows or table.name == "followups":
        return False
    conn = session.connection()
    dialect = conn.dialect
    if dialect.name not in ("postgresql", "sqlite"):
        return False
    keys = list(rows[0])
    defaults: list[Any] = []
    for col in table.columns:
        if col.key in rows[0] or col.default is None:
            continue
        d = col.default
        if getattr(d, "is_sequence", False) or getattr(d, "is_clause_element", False):
            return False
        defaults.append(d)
    cols = [table.c[k] for k in keys] + [d.column for d in defaults]
    postgres = dialect.name == "postgresql"
    procs = [_pg_text_array if postgres and c.name == "search_grams" else c.type.dialect_impl(dialect).bind_processor(dialect)
             for c in cols]

    def converted(row: dict[str, Any]) -> list[Any]:
        values = [row[k] for k in keys]
        for d in defaults:
            values.append(d.arg(None) if d.is_callable else d.arg)  # SQLAlchemy wraps a plain callable to take a context
        return [v if p is None else p(v) for p, v in zip(procs, values)]

    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c.name) for c in cols)
    dbapi = conn.connection.driver_connection
    if postgres:
        with dbapi.cursor() as cur, cur.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(converted(row))
    else:
        cur = dbapi.cursor()
        try:
            cur.executemany(f"INSERT INTO {quote(table.name)} ({names}) VALUES ({', '.join('?' * len(cols))})", map(converted, rows))
        finally:
            cur.close()
    session.info["kith_reports_dirty"] = True  # what kith.reports.cache's do_orm_execute hook records for Session DML
    return True


def _pg_text_array(values: list[str] | None) -> Any:
    """Search grams as a TEXT[] literal for COPY: letters and digits (search_norm's output) need no quoting, so the
    literal is the joined list (psycopg's generic list dumper quotes element by element, ≈ 40 µs per record);
    anything else is left to psycopg."""
    if values is None:
        return None
    if all(map(str.isalnum, values)) and 4 not in map(len, values):  # (a bare NULL element would be a null)
        return "{" + ",".join(values) + "}"
    return values


def _followup_times(session: Session, creates: list[tuple[Any, dict[str, Any]]], ids: list[int], now: datetime) -> dict[int, Any]:
    """Imported follow-ups move their customers' last / next follow-up times as the API's follow-up create does, taken
    in chronological order: one at or after the customer's last follow-up becomes the last, and its next follow-up
    time (when given) the next one. One locked read and one executemany per chunk. Returns, for the first row of the
    chunk touching each customer, the before-image rollback restores: {"customer": {id, before and set values}}."""
    from kith.customers.models import Customer

    table = Customer.__table__
    c = table.c
    per_customer: dict[int, list[tuple[datetime, int, datetime | None, int]]] = {}
    for (row, vals), rid in zip(creates, ids):
        per_customer.setdefault(vals["customer_id"], []).append((vals["occurred_at"], rid, vals.get("next_followup_at"), row.id))
    cids = sorted(per_customer)
    current: dict[int, tuple[datetime | None, datetime | None]] = {}
    for i in range(0, len(cids), 500):
        stmt = select(c.id, c.last_followup_at, c.next_followup_at).where(c.id.in_(cids[i:i + 500])).with_for_update()
        current.update((cid, (last, nxt)) for cid, last, nxt in session.execute(stmt))
    updates: list[dict[str, Any]] = []
    befores: dict[int, Any] = {}
    for cid, fus in per_customer.items():
        if cid not in current:
            continue
        last, nxt = current[cid]
        new_last, new_next = last, nxt
        for occurred, _rid, next_at, _row in sorted(fus, key=lambda f: (f[0], f[1])):
            if new_last is None or occurred >= new_last:
                new_last = occurred
                if next_at is not None:
                    new_next = next_at
        if (new_last, new_next) == (last, nxt):
            continue
        updates.append({"c_id": cid, "c_last": new_last, "c_next": new_next})
        befores[min(f[3] for f in fus)] = {"customer": {"id": cid, "last_followup_at": to_json(last), "next_followup_at": to_json(nxt),
                                                        "set_last": to_json(new_last), "set_next": to_json(new_next)}}
    if updates:
        session.execute(update(table).where(c.id == bindparam("c_id"))
                        .values(last_followup_at=bindparam("c_last"), next_followup_at=bindparam("c_next"), version=c.version + 1,
                                updated_at=now), updates)
    return befores


def _restore_followup_times(session: Session, images: list[dict[str, Any]]) -> int:
    """Rollback of _followup_times, latest chunk first: a customer gets its earlier times back unless they moved since
    (a follow-up added or the times edited after the import: those stay)."""
    from kith.customers.models import Customer

    c = Customer.__table__.c
    restored = 0
    for img in images:
        set_last = datetime.fromisoformat(img["set_last"]) if img["set_last"] else None
        set_next = datetime.fromisoformat(img["set_next"]) if img["set_next"] else None
        res = session.execute(
            update(Customer.__table__)
            .where(c.id == img["id"], c.last_followup_at.is_(None) if set_last is None else c.last_followup_at == set_last,
                   c.next_followup_at.is_(None) if set_next is None else c.next_followup_at == set_next)
            .values(last_followup_at=datetime.fromisoformat(img["last_followup_at"]) if img["last_followup_at"] else None,
                    next_followup_at=datetime.fromisoformat(img["next_followup_at"]) if img["next_followup_at"] else None,
                    version=c.version + 1, updated_at=clock.now()))
        restored += res.rowcount or 0
    return restored


def _index_fts(session: Session, table: str, rows: list[tuple[int, list[str]]]) -> None:
    """SQLite's FTS rows of records written here, from the grams already computed for `search_grams` (what
    kith.search.index.sqlite_index_rows would compute again from `search_text`: the same grams)."""
    from sqlalchemy import text

    from kith.search.index import fts_table

    if session.get_bind().dialect.name != "sqlite" or not rows:
        return
    session.execute(text(f"INSERT OR REPLACE INTO {fts_table(table)}(rowid, grams) VALUES (:rowid, :grams)"),
                    [{"rowid": rid, "grams": " ".join(grams)} for rid, grams in rows])


def _created_event(actor: Actor, kind: str, rid: int, vals: dict[str, Any], now: datetime) -> dict[str, Any]:
    if kind == "customer":
        return _event(actor, kind, rid, rid, now, "customer.created", vals["name"], {"name": vals["name"], "import": True})
    if kind == "contact":
        return _event(actor, kind, rid, vals["customer_id"], now, "contact.created", vals["name"],
                      {"name": vals["name"], "title": vals.get("title"), "import": True})
    if kind == "opportunity":
        return _event(actor, kind, rid, vals["customer_id"], now, "opportunity.created", vals["name"],
                      {"name": vals["name"], "amount": vals.get("amount"), "import": True})
    return _event(actor, kind, rid, vals["customer_id"], now, f"followup.{vals['type']}", vals["content"][:200],
                  {"type": vals["type"], "content": vals["content"][:2000], "contact_id": vals.get("contact_id"), "import": True},
                  contact_id=vals.get("contact_id"))


def _apply_changes(session: Session, actor: Actor, batch: ImportBatch, changes: list[tuple[Any, str, int]], now: datetime,
                   events: list[dict[str, Any]], fts: list[tuple[int, list[str]]]) -> list[dict[str, Any]]:
    """Updates (the row's values overwrite) and merges (the row fills what is empty); before-images kept."""
    kind = batch.kind
    model = model_of(kind)
    table = model.__table__
    tmap = targets(kind)
    out: list[dict[str, Any]] = []
    ids = sorted({rid for _, _, rid in changes})
    current: dict[int, dict[str, Any]] = {}
    may_update = can(actor, kind, "update")
    if may_update:
        for i in range(0, len(ids), 500):
            stmt = select(table).where(table.c.id.in_(ids[i:i + 500]), table.c.deleted_at.is_(None), writable(actor, model, kind))
            for r in session.execute(stmt).mappings():
                current[r["id"]] = dict(r)
    for row, verb, rid in changes:
        cur = current.get(rid)
        if cur is None:
            out.append({"b_id": row.id, "b_status": "rejected", "b_reason": f"not_writable:{rid}", "b_record": rid, "b_before": None,
                        "b_version": None})
            continue
        new: dict[str, Any] = {}
        custom = dict(cur.get("custom") or {})
        for field, value in row.cleaned.items():
            if field.startswith("_") or field in ("id", "owner"):
                continue
            if field.startswith("cf_"):
                if verb == "update" or custom.get(field[3:]) in (None, "", []):
                    custom[field[3:]] = value
                continue
            t = tmap.get(field)
            if t is None or not t.column:
                continue
            value = from_json(value, t)
            if verb == "update" or cur.get(t.column) in (None, ""):
                if cur.get(t.column) != value:
                    new[t.column] = value
        if "custom" in cur and custom != (cur.get("custom") or {}):
            new["custom"] = custom
        status = "updated" if verb == "update" else "merged"
        if not new:
            out.append({"b_id": row.id, "b_status": status, "b_reason": f"{status}_into:{rid}", "b_record": rid,
                        "b_before": image(cur), "b_version": cur["version"]})
            continue
        if "name" in new and kind == "customer":
            new["name_key"] = normalize_company(new["name"])
        merged_vals = {**cur, **new}
        if "search_text" in cur:
            new["search_text"], new["search_grams"], new["search_names"] = _search(kind, merged_vals)
        res = session.execute(update(table).where(table.c.id == rid, table.c.version == cur["version"])
                              .values(**new, version=cur["version"] + 1, updated_at=now))
        if res.rowcount != 1:
            out.append({"b_id": row.id, "b_status": "rejected", "b_reason": f"changed_meanwhile:{rid}", "b_record": rid,
                        "b_before": None, "b_version": None})
            continue
        out.append({"b_id": row.id, "b_status": status, "b_reason": f"{status}_into:{rid}", "b_record": rid, "b_before": image(cur),
                    "b_version": cur["version"] + 1})
        current[rid] = {**merged_vals, "version": cur["version"] + 1,
                        **({k: new[k] for k in ("search_text", "search_names")} if "search_text" in new else {})}
        if "search_grams" in new:
            fts.append((rid, new["search_grams"]))
        diff = {k: [_plain(cur.get(k)), _plain(v)] for k, v in new.items()
                if k not in ("search_text", "search_grams", "search_names", "name_key")}
        customer_id = rid if kind == "customer" else cur.get("customer_id")
        events.append(_event(actor, kind, rid, customer_id, now, f"{kind}.updated", cur.get("name") or "", {"changes": diff, "import": True}))
    return out


# ------------------------------------------------------------------------------------ rollback

def blocking(session: Session, batch: ImportBatch) -> list[dict[str, Any]]:
    """Records the batch wrote that changed since (version moved, deleted) or that others now depend on."""
    from kith.db.base import Base

    model = model_of(batch.kind)
    table = model.__table__
    rows = session.execute(select(ImportRow.row_number, ImportRow.status, ImportRow.record_id, ImportRow.after_version)
                           .where(ImportRow.batch_id == batch.id, ImportRow.status.in_(("created", "updated", "merged")))).all()
    wanted = {r.record_id: r for r in rows}
    ids = sorted(wanted)
    versions: dict[int, int] = {}
    for i in range(0, len(ids), 500):
        versions.update(session.execute(select(table.c.id, table.c.version).where(table.c.id.in_(ids[i:i + 500]))).all())
    out = []
    seen: set[int] = set()
    for rid, r in wanted.items():
        if versions.get(rid) != r.after_version:
            out.append({"row": r.row_number, "entity_type": batch.kind, "id": rid, "why": "changed"})
            seen.add(rid)
    created = sorted(rid for rid, r in wanted.items() if r.status == "created" and rid not in seen)
    created_set = set(created)
    # children written since by someone else (a contact on an imported customer …) keep the record
    for other in Base.metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table is not table or other.name.startswith("import_"):
                continue
            col = fk.parent
            for i in range(0, len(created), 500):
                part = created[i:i + 500]
                for (parent,) in session.execute(select(col).where(col.in_(part)).distinct()):
                    if parent in created_set and parent not in seen and not (other is table):
                        out.append({"row": wanted[parent].row_number, "entity_type": batch.kind, "id": parent, "why": "referenced",
                                    "by": other.name})
                        seen.add(parent)
    out.sort(key=lambda x: x["row"])
    return out


def rollback(session: Session, actor: Actor, batch: ImportBatch) -> dict[str, int]:
    from kith.activities.models import Event
    from kith.audit import service as audit
    from kith.search.index import fts_table, sqlite_index_rows

    require(actor, batch.kind, "import")
    if batch.status not in ("done", "failed"):
        raise KithError(409, "import_not_rollbackable")
    if batch.status == "failed" and runner_alive(batch):
        raise KithError(409, "import_running")
    blockers = blocking(session, batch)
    if blockers:
        raise KithError(409, "import_rollback_blocked", {"count": len(blockers)}, details={"blocking": blockers[:1000],
                                                                                         "total": len(blockers)})
    model = model_of(batch.kind)
    table = model.__table__
    rows = session.execute(select(ImportRow.status, ImportRow.record_id, ImportRow.before, ImportRow.after_version)
                           .where(ImportRow.batch_id == batch.id, ImportRow.status.in_(("created", "updated", "merged")))
                           .order_by(ImportRow.row_number.desc())).all()
    created = [r.record_id for r in rows if r.status == "created"]
    touched = sorted({r.record_id for r in rows})
    counted = _counted_customers(session, batch.kind, [], touched)
    counted_before = rollup.keys(session, counted, True)
    for i in range(0, len(touched), 500):
        session.execute(delete(Event).where(Event.entity_type == batch.kind, Event.entity_id.in_(touched[i:i + 500]),
                                            Event.id > (batch.event_floor or 0)))
    sqlite = session.get_bind().dialect.name == "sqlite"
    for i in range(0, len(created), 500):
        part = created[i:i + 500]
        if sqlite and "search_text" in table.c:
            from sqlalchemy import text

            session.execute(text(f"DELETE FROM {fts_table(table.name)} WHERE rowid = :rowid"), [{"rowid": r} for r in part])
        session.execute(delete(table).where(table.c.id.in_(part)))
    restored: list[tuple[int, str]] = []
    done: set[int] = set()
    # imported follow-ups moved their customers' follow-up times: put them back (rows walked last → first)
    times = [r.before["customer"] for r in rows if r.status == "created" and isinstance(r.before, dict) and "customer" in r.before]
    times_restored = _restore_followup_times(session, times) if times else 0
    # the earliest before-image of a record wins (rows walked last → first, so the first row's image is applied last)
    for r in rows:
        if r.status == "created" or r.before is None:
            continue
        values = {k: restore_value(table.c[k], v) for k, v in r.before.items() if k in table.c and k != "id"}
        if "search_text" in values and "search_names" in table.c and "search_names" not in values:
            # an image taken before migration 0022 has no search_names: the restored name's, as the ORM computes it
            from kith.search.index import names_for

            values["search_names"] = " ".join(names_for(SimpleNamespace(__tablename__=table.name, name=values.get("name"))))
        session.execute(update(table).where(table.c.id == r.record_id).values(**values))
        done.add(r.record_id)
        if "search_text" in values:
            restored.append((r.record_id, values["search_text"]))
    if restored:
        latest = dict(restored)
        sqlite_index_rows(session, table.name, list(latest.items()))
    rollup.refresh(session, counted, counted_before)
    batch.status = "rolled_back"
    batch.rolled_back_at = clock.now()
    batch.updated_at = clock.now()
    audit.record(session, "import_rollback", entity_type=batch.kind, entity_id=batch.id,
                 changes={"batch_id": batch.id, "deleted": len(created), "restored": len(done),
                          **({"followup_times_restored": times_restored} if times else {})})
    return {"deleted": len(created), "restored": len(done)}


# ------------------------------------------------------------------------------------ report

def report_rows(session: Session, actor: Actor, batch: ImportBatch) -> tuple[list[str], list[list[Any]]]:
    """Every source row with its status and reason; mapped columns (source and cleaned value) except
    fields hidden from the caller."""
    from kith.core.i18n import t

    hidden = hidden_fields(actor, batch.kind)
    fields = [(e["header"], e["field"]) for e in batch.mapping if e.get("field") and e["field"] not in hidden]
    head = [t("import_col_row"), t("import_col_status"), t("import_col_reason"), t("import_col_record")]
    for header, field in fields:
        head += [header, f"{header} → {t('import_col_cleaned')}"]
    out: list[list[Any]] = []
    stmt = (select(ImportRow.row_number, ImportRow.status, ImportRow.reason, ImportRow.errors, ImportRow.record_id, ImportRow.raw,
                   ImportRow.cleaned, ImportRow.changes)
            .where(ImportRow.batch_id == batch.id).order_by(ImportRow.row_number))
    for r in session.execute(stmt.execution_options(yield_per=2000)):
        line = [r.row_number, t(f"import_status_{r.status}"), reason_text(r.reason, r.errors, hidden), r.record_id]
        for _header, field in fields:
            shown = (r.changes or {}).get(field, {}).get("value")
            cleaned = shown if shown is not None else (r.cleaned or {}).get(field)
            if field == "owner":
                cleaned = (r.raw or {}).get(field) if cleaned is not None else None
            line += [(r.raw or {}).get(field), cleaned if not isinstance(cleaned, (dict, list)) else str(cleaned)]
        out.append(line)
    return head, out


def reason_text(reason: str | None, errors: list[dict[str, Any]] | None, hidden: set[str]) -> str:
    from kith.core.i18n import t

    parts = []
    for e in errors or []:
        if e["field"] in hidden:
            continue
        parts.append(f"{e['field']}: {t(e['code'], **(e.get('params') or {}))}")
    if reason and reason != "invalid_fields":
        code, _, arg = reason.partition(":")
        parts.insert(0, t(f"import_reason_{code}", arg=arg))
    return "；".join(parts)


def report_xlsx(session: Session, actor: Actor, batch: ImportBatch) -> bytes:
    import io

    from openpyxl import Workbook

    from kith.core.export import neutralise
    from kith.core.i18n import t

    head, rows = report_rows(session, actor, batch)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(t("import_sheet_report")[:31])
    ws.append([neutralise(h) for h in head])
    for line in rows:
        ws.append([neutralise(v) for v in line])
    counts = final_counts(session, batch.id)
    summary = wb.create_sheet(t("import_sheet_summary")[:31])
    for key, n in counts.items():
        summary.append([t(f"import_status_{key}") if key != "total" else t("import_total"), n])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ------------------------------------------------------------------------------------ serialisation

def batch_out(session: Session, actor: Actor, batch: ImportBatch) -> dict[str, Any]:
    from kith.core.i18n import current_language
    from kith.core.resource import jsonable
    from kith.imports.mapping import field_list

    defs = custom_defs(session, batch.kind)
    return jsonable({
        "id": batch.id, "kind": batch.kind, "file_name": batch.file_name, "file_size": batch.file_size, "checksum": batch.checksum,
        "encoding": batch.encoding, "sheets": batch.sheets, "sheet": batch.sheet, "header_row": batch.header_row,
        "headers": batch.headers, "mapping": batch.mapping, "rules": (batch.options or {}).get("rules") or DEFAULT_RULES,
        "fields": field_list(batch.kind, defs, current_language.get(), excluded_fields(actor, batch.kind)),
        "status": batch.status, "total_rows": batch.total_rows, "processed_rows": batch.processed_rows,
        "progress": round(batch.processed_rows / batch.total_rows, 4) if batch.total_rows else (1.0 if batch.status == "done" else 0.0),
        "counts": batch.counts, "error": batch.error, "backup": bool(batch.backup_path), "created_by_id": batch.created_by_id,
        "created_at": batch.created_at, "started_at": batch.started_at, "finished_at": batch.finished_at,
        "rolled_back_at": batch.rolled_back_at,
    })


def row_out(row: ImportRow, hidden: set[str], rules: dict[str, Any]) -> dict[str, Any]:
    from kith.core.i18n import t

    values = {}
    for field, raw in (row.raw or {}).items():
        if field in hidden:
            continue
        ch = (row.changes or {}).get(field)
        cleaned = (row.cleaned or {}).get(field)
        values[field] = {"raw": raw, "value": ch["value"] if ch else cleaned, "changed": bool(ch and ch.get("changed")),
                         **({"hint": ch["hint"]} if ch and ch.get("hint") else {})}
    errors = [{"field": e["field"], "code": e["code"], "message": t(e["code"], **(e.get("params") or {}))}
              for e in row.errors or [] if e["field"] not in hidden]
    action = None
    if row.status == "pending":
        action = _effective(row, rules)
    return {"row": row.row_number, "status": row.status, "action": action, "decision": row.decision, "errors": errors,
            "values": values, "candidates": row.candidates or [], "record_id": row.record_id,
            "reason": reason_text(row.reason, [], hidden) if row.reason else None}


_ = (or_, timezone, Target)
