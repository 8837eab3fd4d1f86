from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kith.access import Actor, can
from kith.core.errors import FieldError, validation
from kith.core.normalize import fold
from kith.tags.models import Tag, Tagging


def tags_for(session: Session, entity_type: str, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not ids:
        return out
    rows = session.execute(
        select(Tagging.entity_id, Tag.id, Tag.name, Tag.color)
        .join(Tag, Tag.id == Tagging.tag_id)
        .where(Tagging.entity_type == entity_type, Tagging.entity_id.in_(ids))
        .order_by(Tag.name)
    )
    for entity_id, tag_id, name, color in rows:
        out[entity_id].append({"id": tag_id, "name": name, "color": color})
    return out


def resolve(session: Session, actor: Actor, names: list[str]) -> list[Tag]:
    """Tags by name; unknown names are created when the actor may create tags."""
    clean = [n for n in dict.fromkeys(fold(n) for n in names if isinstance(n, str)) if n]
    if any(len(n) > 50 for n in clean):
        raise validation(FieldError("tags", "too_long", {"max": 50}))
    found = {t.name: t for t in session.scalars(select(Tag).where(Tag.name.in_(clean)))} if clean else {}
    missing = [n for n in clean if n not in found]
    if missing:
        if not can(actor, "tag", "create"):
            raise validation(FieldError("tags", "invalid_reference"))
        for name in missing:
            tag = Tag(name=name)
            session.add(tag)
            found[name] = tag
        session.flush()
    return [found[n] for n in clean]


def set_tags(session: Session, actor: Actor, entity_type: str, entity_id: int, names: list[str]) -> None:
    tags = resolve(session, actor, names)
    session.execute(delete(Tagging).where(Tagging.entity_type == entity_type, Tagging.entity_id == entity_id))
    for tag in tags:
        session.add(Tagging(tag_id=tag.id, entity_type=entity_type, entity_id=entity_id))


def tag_filter(entity_type: str, model: Any):
    def build(session: Session, raw: str):
        values = [v for v in raw.split(",") if v][:50]
        ids = [int(v) for v in values if v.isdigit()]
        names = [fold(v) for v in values if not v.isdigit()]
        cond = Tag.name.in_(names) if not ids else (Tag.id.in_(ids) | Tag.name.in_(names))
        sub = select(Tagging.entity_id).join(Tag, Tag.id == Tagging.tag_id).where(Tagging.entity_type == entity_type, cond)
        return model.id.in_(sub)

    return build
