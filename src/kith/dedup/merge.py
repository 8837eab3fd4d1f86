"""Merge two customers (or contacts) into one, and undo it.

The survivor keeps its id; per field the caller picks whose value survives (default: the
survivor's non-empty value, else the other's).  Everything that pointed at the other record is
re-linked to the survivor with a version bump (so stale ETags fail), the other record is
soft-deleted and a ``merges`` row remembers exactly what moved, so that ``undo`` can move back
exactly that — and refuses (409, listing the blocking records) when any of it changed since.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, and_, select, update
from sqlalchemy.orm import Session

from kith.access import Actor, fields_for
from kith.access.policy import PROTECTED_FIELDS
from kith.activities.events import emit
from kith.core import clock
from kith.core.errors import FieldError, KithError, validation
from kith.db.base import Base
from kith.dedup.models import Merge

CUSTOMER_FIELDS = ("name", "industry", "source", "level", "status", "province", "city", "district", "address",
                   "phone", "email", "website", "description")
CONTACT_FIELDS = ("name", "title", "mobile", "phone", "email", "wechat")
# Tables whose rows follow their customer's owner and department (ADR 0005), as transfer() does.
_OWNER_FOLLOWS = {"contacts", "followups"}
_OWNER_COLS = ("owner_id", "department_id", "department_path")
# Access rights are not data of the record: collaborators and grants stay where they were given.
_NOT_MOVED = {"access_grants", "record_collaborators", "merges"}


def _links(entity: str) -> list[tuple[Table, str]]:
    """(table, column) pairs holding a foreign key to the entity's table, found in the metadata so
    that tables added by later modules are re-linked too."""
    target = {"customer": "customers", "contact": "contacts"}[entity]
    out: list[tuple[Table, str]] = []
    for table in Base.metadata.sorted_tables:
        if table.name in _NOT_MOVED or table.name == target:
            continue
        for col in table.columns:
            if any(fk.column.table.name == target and fk.column.name == "id" for fk in col.foreign_keys):
                out.append((table, col.name))
    events = Base.metadata.tables["events"]
    out.append((events, f"{entity}_id"))
    return out


def _fields(entity: str) -> tuple[str, ...]:
    return CUSTOMER_FIELDS if entity == "customer" else CONTACT_FIELDS


def _choose(actor: Actor, entity: str, survivor: Any, other: Any, choices: dict[str, str]) -> dict[str, list[Any]]:
    """{field: [survivor's value, merged value]} for the fields that change."""
    allowed = _fields(entity)
    rights = fields_for(actor, entity)
    bad = [FieldError(f"fields.{k}", "unknown_field") for k in choices if k not in allowed]
    bad += [FieldError(f"fields.{k}", "invalid_choice") for k, v in choices.items() if k in allowed and v not in ("survivor", "other")]
    if bad:
        raise validation(*bad)
    denied = [k for k, v in choices.items() if v == "other" and (rights.get(k) in ("hidden", "read") or k in PROTECTED_FIELDS)]
    if denied:
        raise KithError(403, "field_forbidden", {"fields": ", ".join(denied)},
                        fields=[FieldError(f"fields.{k}", "hidden_field" if rights.get(k) == "hidden" else "read_only_field") for k in denied])
    changes: dict[str, list[Any]] = {}
    for name in allowed:
        mine, theirs = getattr(survivor, name), getattr(other, name)
        choice = choices.get(name)
        if choice is None:
            # default: keep the survivor's value, fill an empty one from the other (only fields the caller may write)
            choice = "other" if mine in (None, "") and theirs not in (None, "") and rights.get(name) is None else "survivor"
        if choice == "other" and theirs != mine:
            if name == "name" and not theirs:
                continue
            changes[name] = [mine, theirs]
    return changes


def _versioned(table: Table) -> bool:
    return "version" in table.c


def merge(session: Session, actor: Actor, entity: str, survivor: Any, other: Any, choices: dict[str, str]) -> Merge:
    """Merge ``other`` into ``survivor``. The caller has checked visibility, rights and versions."""
    if survivor.id == other.id:
        raise validation(FieldError("other_id", "same_record"))
    if entity == "contact" and survivor.customer_id != other.customer_id:
        # contacts of two customers: the other's links move, the survivor stays at its customer
        pass
    changes = _choose(actor, entity, survivor, other, choices)
    for name, (_, value) in changes.items():
        setattr(survivor, name, value)
    if entity == "customer" and "name" in changes:
        from kith.core.normalize import normalize_company

        survivor.name_key = normalize_company(survivor.name)
    now = clock.now()
    session.flush()

    moved: list[dict[str, Any]] = []
    for table, column in _links(entity):
        col = table.c[column]
        cond = col == other.id
        if table.name == "opportunity_contacts":
            # the same deal already names the survivor: keep that row, leave the other's in place
            taken = select(table.c.opportunity_id).where(table.c.contact_id == survivor.id)
            cond = and_(cond, table.c.opportunity_id.not_in(taken))
        owner = table.name in _OWNER_FOLLOWS and entity == "customer"
        cols = [table.c.id] + ([table.c[c] for c in _OWNER_COLS] if owner else [])
        rows = session.execute(select(*cols).where(cond)).all()
        if not rows:
            continue
        ids = [r[0] for r in rows]
        values: dict[str, Any] = {column: survivor.id}
        if _versioned(table):
            values["version"] = table.c.version + 1
        if "updated_at" in table.c:
            values["updated_at"] = now
        if owner:
            values.update({c: getattr(survivor, c) for c in _OWNER_COLS})
        for start in range(0, len(ids), 500):
            session.execute(update(table).where(table.c.id.in_(ids[start:start + 500])).values(**values))
        versions = {}
        if _versioned(table):
            versions = dict(session.execute(select(table.c.id, table.c.version).where(table.c.id.in_(ids))).all())
        moved.append({"table": table.name, "column": column,
                      "rows": [{"id": r[0], "version": versions.get(r[0]),
                                **({"owner": [r[1], r[2], r[3]]} if owner else {})} for r in rows]})

    # tags: the other's taggings the survivor does not already have
    from kith.tags.models import Tagging

    have = select(Tagging.tag_id).where(Tagging.entity_type == entity, Tagging.entity_id == survivor.id)
    tag_ids = list(session.scalars(select(Tagging.id).where(Tagging.entity_type == entity, Tagging.entity_id == other.id,
                                                            Tagging.tag_id.not_in(have))))
    if tag_ids:
        session.execute(update(Tagging).where(Tagging.id.in_(tag_ids)).values(entity_id=survivor.id))
        moved.append({"table": "taggings", "column": "entity_id", "rows": [{"id": i, "version": None} for i in tag_ids]})

    other.deleted_at = now
    other.deleted_by_id = actor.user_id
    session.flush()
    session.expire_all()
    survivor_after = session.get(type(survivor), survivor.id)
    other_after = session.get(type(other), other.id)
    customer_id = survivor.id if entity == "customer" else survivor_after.customer_id
    record = Merge(entity_type=entity, survivor_id=survivor.id, other_id=other.id, actor_id=actor.user_id, created_at=now,
                   data={"fields": changes, "moved": moved, "survivor_version": survivor_after.version,
                         "other_version": other_after.version, "other_name": other_after.name})
    session.add(record)
    session.flush()
    counts = {m["table"] if m["column"] != "entity_id" else "taggings": len(m["rows"]) for m in moved}
    emit(session, actor, type=f"{entity}.merged", entity_type=entity, entity_id=survivor.id, customer_id=customer_id,
         summary=f"{other_after.name} → {survivor_after.name}",
         data={"merge_id": record.id, "other_id": other.id, "other_name": other_after.name,
               "changes": {k: v for k, v in changes.items()}, "moved": counts})
    from kith.audit import service as audit

    audit.record(session, "merge", entity_type=entity, entity_id=survivor.id,
                 changes={"merge_id": record.id, "other_id": other.id, "fields": changes, "moved": counts})
    return record


def blocking(session: Session, record: Merge) -> list[dict[str, Any]]:
    """What changed since the merge and so prevents its undo."""
    return blocking_many(session, [record])[record.id]


def blocking_many(session: Session, records: list[Merge]) -> dict[int, list[dict[str, Any]]]:
    """``blocking()`` for many merges at once (the merge history): one query per entity table for the two records
    and one per table holding moved rows, whatever the number of merges. {merge id: blockers}."""
    from kith.contacts.models import Contact
    from kith.customers.models import Customer

    models = {"customer": Customer, "contact": Contact}
    state: dict[str, dict[int, tuple[int, Any]]] = {}
    for entity, model in models.items():
        ids = sorted({i for r in records if r.entity_type == entity for i in (r.survivor_id, r.other_id)})
        got: dict[int, tuple[int, Any]] = {}
        for start in range(0, len(ids), 500):
            rows = session.execute(select(model.id, model.version, model.deleted_at).where(model.id.in_(ids[start:start + 500])))
            got.update({row[0]: (row[1], row[2]) for row in rows})
        state[entity] = got
    tables = Base.metadata.tables
    wanted: dict[tuple[str, str], set[int]] = {}
    for r in records:
        for group in r.data["moved"]:
            wanted.setdefault((group["table"], group["column"]), set()).update(row["id"] for row in group["rows"])
    current: dict[tuple[str, str], dict[int, Any]] = {}
    for (name, column), id_set in wanted.items():
        table = tables[name]
        cols = [table.c.id, table.c[column]] + ([table.c.version] if _versioned(table) else [])
        ids = sorted(id_set)
        found: dict[int, Any] = {}
        for start in range(0, len(ids), 500):
            found.update({row[0]: row for row in session.execute(select(*cols).where(table.c.id.in_(ids[start:start + 500])))})
        current[(name, column)] = found
    out: dict[int, list[dict[str, Any]]] = {}
    for r in records:
        model = models[r.entity_type]
        data = r.data
        blockers: list[dict[str, Any]] = []
        survivor = state[r.entity_type].get(r.survivor_id)
        other = state[r.entity_type].get(r.other_id)
        if survivor is None or survivor[0] != data["survivor_version"] or survivor[1] is not None:
            blockers.append({"table": model.__tablename__, "id": r.survivor_id})
        if other is None or other[0] != data["other_version"] or other[1] is None:
            blockers.append({"table": model.__tablename__, "id": r.other_id})
        for group in data["moved"]:
            found = current[(group["table"], group["column"])]
            for row in group["rows"]:
                cur = found.get(row["id"])
                if cur is None or cur[1] != r.survivor_id or (row.get("version") is not None and cur[2] != row["version"]):
                    blockers.append({"table": group["table"], "id": row["id"]})
        out[r.id] = blockers
    return out


def undo(session: Session, actor: Actor, record: Merge) -> None:
    from kith.contacts.models import Contact
    from kith.customers.models import Customer

    if record.undone_at is not None:
        raise KithError(409, "merge_already_undone")
    blockers = blocking(session, record)
    if blockers:
        raise KithError(409, "merge_undo_blocked", {"count": len(blockers)}, details={"blocking": blockers})
    model = Customer if record.entity_type == "customer" else Contact
    data = record.data
    now = clock.now()
    tables = Base.metadata.tables
    for group in data["moved"]:
        table = tables[group["table"]]
        for r in group["rows"]:
            values: dict[str, Any] = {group["column"]: record.other_id}
            if _versioned(table):
                values["version"] = table.c.version + 1
            if "updated_at" in table.c:
                values["updated_at"] = now
            if "owner" in r:
                values.update(dict(zip(_OWNER_COLS, r["owner"])))
            session.execute(update(table).where(table.c.id == r["id"]).values(**values))
    survivor = session.get(model, record.survivor_id)
    other = session.get(model, record.other_id)
    for name, (before, _after) in data["fields"].items():
        setattr(survivor, name, before)
    if record.entity_type == "customer" and "name" in data["fields"]:
        from kith.core.normalize import normalize_company

        survivor.name_key = normalize_company(survivor.name)
    other.deleted_at = None
    other.deleted_by_id = None
    record.undone_at = now
    record.undone_by_id = actor.user_id
    session.flush()
    for obj in (survivor, other):
        cid = obj.id if record.entity_type == "customer" else obj.customer_id
        emit(session, actor, type=f"{record.entity_type}.merge_undone", entity_type=record.entity_type, entity_id=obj.id,
             customer_id=cid, summary=f"{other.name} ← {survivor.name}",
             data={"merge_id": record.id, "survivor_id": survivor.id, "other_id": other.id})
    from kith.audit import service as audit

    audit.record(session, "merge_undo", entity_type=record.entity_type, entity_id=record.survivor_id,
                 changes={"merge_id": record.id, "other_id": record.other_id})
