"""The audit log: captured centrally from every ORM flush (old → new values), plus explicit entries
for sign-ins, denials and other events; chained with HMAC-SHA256 so tampering is detectable."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import event, insert, inspect, select, text
from sqlalchemy.orm import Session

from kith.audit.models import AuditEntry
from kith.core import clock

GENESIS = "0" * 64
# the chain key per database (an app or CLI process may talk to more than one, e.g. in tests)
_keys: dict[str, bytes] = {}

# table -> (entity type, access module governing its fields)
AUDITED: dict[str, tuple[str, str]] = {
    "customers": ("customer", "customer"),
    "contacts": ("contact", "contact"),
    "opportunities": ("opportunity", "opportunity"),
    "contracts": ("contract", "contract"),
    "payments": ("payment", "payment"),
    "payment_plans": ("payment_plan", "payment"),
    "quote_lines": ("quote_line", "quote_line"),
    "followups": ("followup", "followup"),
    "tasks": ("task", "task"),
    "attachments": ("attachment", "followup"),
    "products": ("product", "product"),
    "tags": ("tag", "tag"),
    "custom_fields": ("custom_field", "custom_field"),
    "users": ("user", "user"),
    "departments": ("department", "department"),
    "roles": ("role", "role"),
    "pipelines": ("pipeline", "pipeline"),
    "stages": ("stage", "pipeline"),
    "opportunity_contacts": ("opportunity_contact", "opportunity"),
    "record_collaborators": ("collaborator", "customer"),
    "access_grants": ("access_grant", "customer"),
    "pool_rules": ("pool_rule", "pool"),
    "reminder_rules": ("reminder_rule", "reminder_rule"),
    "reminder_snoozes": ("reminder_snooze", "reminder_rule"),
}
SKIP_FIELDS = {"search_text", "search_grams", "search_names", "updated_at", "version", "created_at", "name_key", "department_path",
               "last_login_at"}
SECRET_FIELDS = {"password_hash", "token_version", "calendar_token_hash"}


def configure(secret: str, database_url: str) -> None:
    _keys[_url_key(database_url)] = hashlib.sha256(b"kith-audit:" + secret.encode()).digest()


def _url_key(url: object) -> str:
    from sqlalchemy.engine import make_url

    return make_url(str(url)).render_as_string(hide_password=True)


def _get_key(session: Session) -> bytes:
    url = _url_key(session.get_bind().url)
    if url not in _keys:
        from kith.config import get_settings

        _keys[url] = hashlib.sha256(b"kith-audit:" + get_settings().secret_key.encode()).digest()
    return _keys[url]


def _plain(value: Any) -> Any:
    from kith.core.resource import jsonable

    return jsonable(value)


def digest(row: dict[str, Any], prev_hash: str, key: bytes) -> str:
    payload = {
        "occurred_at": _plain(row["occurred_at"]), "actor_id": row.get("actor_id"), "actor_name": row.get("actor_name"),
        "action": row["action"], "entity_type": row.get("entity_type"), "entity_id": row.get("entity_id"),
        "changes": _plain(row.get("changes") or {}), "ip": row.get("ip"), "user_agent": row.get("user_agent"),
        "request_id": row.get("request_id"), "note": row.get("note"), "prev_hash": prev_hash,
    }
    raw = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return hmac.new(key, raw, hashlib.sha256).hexdigest()


def _context(session: Session) -> dict[str, Any]:
    ctx = session.info.get("audit", {})
    return {"actor_id": ctx.get("actor_id"), "actor_name": ctx.get("actor_name"), "ip": ctx.get("ip"),
            "user_agent": ctx.get("user_agent"), "request_id": ctx.get("request_id")}


def append(session: Session, rows: list[dict[str, Any]]) -> None:
    """Append entries to the chain inside the current transaction (serialised on PostgreSQL)."""
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(727274)"))
    prev = conn.execute(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar() or GENESIS
    key = _get_key(session)
    out = []
    for row in rows:
        row = {**row, "changes": _plain(row.get("changes") or {})}
        row["prev_hash"] = prev
        row["hash"] = prev = digest(row, prev, key)
        out.append(row)
    conn.execute(insert(AuditEntry), out)


def record(session: Session, action: str, *, entity_type: str | None = None, entity_id: int | None = None,
           changes: dict[str, Any] | None = None, note: str | None = None, **ctx: Any) -> None:
    """An explicit entry (sign-in, failed sign-in, denial, export …)."""
    base = _context(session)
    base.update({k: v for k, v in ctx.items() if v is not None})
    append(session, [{**base, "occurred_at": clock.now(), "action": action, "entity_type": entity_type, "entity_id": entity_id,
                      "changes": changes or {}, "note": note}])


def _value(obj: Any, key: str) -> Any:
    return "***" if key in SECRET_FIELDS else getattr(obj, key)


def _diff(obj: Any) -> dict[str, list[Any]]:
    state = inspect(obj)
    out: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in SKIP_FIELDS:
            continue
        hist = state.attrs[key].history
        if not hist.has_changes():
            continue
        old = hist.deleted[0] if hist.deleted else None
        new = hist.added[0] if hist.added else None
        if old == new and not (hist.deleted and hist.added):
            continue
        if key in SECRET_FIELDS:
            out[key] = ["***", "***"]
        else:
            out[key] = [_plain(old), _plain(new)]
    for rel in state.mapper.relationships:
        if rel.key == "roles":
            hist = state.attrs["roles"].history
            if hist.added or hist.deleted:
                out["roles"] = [sorted(r.code for r in (hist.unchanged or []) + (hist.deleted or [])),
                                sorted(r.code for r in (hist.unchanged or []) + (hist.added or []))]
    return out


def _snapshot(obj: Any) -> dict[str, Any]:
    state = inspect(obj)
    return {a.key: _plain(_value(obj, a.key)) for a in state.mapper.column_attrs if a.key not in SKIP_FIELDS}


@event.listens_for(Session, "before_flush")
def _collect(session: Session, _ctx, _instances) -> None:
    if session.info.get("audit_disabled"):
        return
    pending: list[tuple[str, Any, dict[str, Any]]] = session.info.setdefault("audit_pending", [])
    for obj in session.new:
        if getattr(obj, "__tablename__", None) in AUDITED:
            pending.append(("create", obj, {}))
    for obj in session.dirty:
        if getattr(obj, "__tablename__", None) in AUDITED and session.is_modified(obj):
            changes = _diff(obj)
            if not changes:
                continue
            action = "update"
            if "deleted_at" in changes:
                action = "delete" if changes["deleted_at"][1] else "restore"
            elif "owner_id" in changes:
                action = "transfer"
            pending.append((action, obj, changes))
    for obj in session.deleted:
        if getattr(obj, "__tablename__", None) in AUDITED:
            pending.append(("purge", obj, _snapshot(obj)))


@event.listens_for(Session, "after_flush")
def _write(session: Session, _ctx) -> None:
    pending = session.info.pop("audit_pending", [])
    if not pending:
        return
    base = _context(session)
    now = clock.now()
    rows = []
    for action, obj, changes in pending:
        entity_type, _module = AUDITED[obj.__tablename__]
        if action == "create":
            changes = {k: v for k, v in _snapshot(obj).items() if v not in (None, "", {}, [])}
        rows.append({**base, "occurred_at": now, "action": action, "entity_type": entity_type,
                     "entity_id": getattr(obj, "id", None), "changes": changes, "note": None})
    append(session, rows)


def verify(session: Session) -> tuple[int, int | None]:
    """(entries checked, id of the first broken entry or None)."""
    prev = GENESIS
    checked = 0
    last_id = 0
    key = _get_key(session)
    while True:
        batch = list(session.scalars(select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(5000)))
        if not batch:
            return checked, None
        for e in batch:
            row = {c: getattr(e, c) for c in ("occurred_at", "actor_id", "actor_name", "action", "entity_type", "entity_id", "changes",
                                              "ip", "user_agent", "request_id", "note")}
            if e.prev_hash != prev or not hmac.compare_digest(digest(row, prev, key), e.hash):
                return checked, e.id
            prev = e.hash
            checked += 1
            last_id = e.id
