"""readable / can / fields_for / strip / check_write / check_filter."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, false, or_, true

from kith.access.actor import Actor
from kith.access.policy import PROTECTED_FIELDS
from kith.core.errors import FieldError, KithError


def can(actor: Actor, module: str, action: str) -> bool:
    return action in actor.permissions.get(module, ())


def require(actor: Actor, module: str, action: str) -> None:
    if not can(actor, module, action):
        raise KithError(403, "forbidden")


def readable(actor: Actor, model: Any, module: str) -> ColumnElement[bool]:
    """One SQL condition: which rows of `model` the actor may see in `module`."""
    if not can(actor, module, "read"):
        return false()
    scope = actor.scopes.get(module, "own")
    if scope == "all":
        return true()
    conds: list[ColumnElement[bool]] = [model.owner_id == actor.user_id]
    if scope == "dept" and actor.department_id is not None:
        conds.append(model.department_path == actor.department_path)
    elif scope == "dept_tree" and actor.department_id is not None:
        conds.append(model.department_path.startswith(actor.department_path, autoescape=True))
    return or_(*conds) if len(conds) > 1 else conds[0]


def fields_for(actor: Actor, module: str) -> dict[str, str]:
    """Restricted fields of the module for this actor: field -> 'hidden' | 'read'. Others are writable."""
    return actor.field_rights.get(module, {})


def strip(actor: Actor, module: str, data: dict[str, Any]) -> dict[str, Any]:
    """Remove hidden fields from a serialised record (absent, not null)."""
    rights = fields_for(actor, module)
    if not rights:
        return data
    return {k: v for k, v in data.items() if rights.get(k) != "hidden"}


def hidden_fields(actor: Actor, module: str) -> set[str]:
    return {f for f, r in fields_for(actor, module).items() if r == "hidden"}


def check_write(actor: Actor, module: str, names: Iterable[str]) -> None:
    """403 naming every field the actor may not write; checked before anything changes."""
    rights = fields_for(actor, module)
    bad: list[FieldError] = []
    for name in names:
        if name in PROTECTED_FIELDS:
            bad.append(FieldError(name, "protected_field"))
        elif rights.get(name) == "hidden":
            bad.append(FieldError(name, "hidden_field"))
        elif rights.get(name) == "read":
            bad.append(FieldError(name, "read_only_field"))
    if bad:
        raise KithError(403, "field_forbidden", {"fields": ", ".join(f.field for f in bad)}, fields=bad)


def check_filter(actor: Actor, module: str, name: str) -> None:
    """Filtering, sorting or grouping by a hidden field is an oracle: 403."""
    if fields_for(actor, module).get(name) == "hidden":
        raise KithError(403, "field_hidden_filter", {"field": name}, fields=[FieldError(name, "hidden_field")])
