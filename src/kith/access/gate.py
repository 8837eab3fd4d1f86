"""readable / can / fields_for / strip / check_write / check_filter."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from kith.access.actor import Actor
from kith.access.policy import PROTECTED_FIELDS
from kith.core.errors import FieldError, KithError


def can(actor: Actor, module: str, action: str) -> bool:
    return action in actor.permissions.get(module, ())


def require(actor: Actor, module: str, action: str) -> None:
    if not can(actor, module, action):
        raise KithError(403, "forbidden")


# Collaborators and grants reach a record through itself or through its customer.
_SHARE_VIA: dict[str, tuple[str, str]] = {
    "customer": ("customer", "id"),
    "contact": ("customer", "customer_id"),
    "followup": ("customer", "customer_id"),
    "opportunity": ("opportunity", "id"),
    "contract": ("contract", "id"),
}
_GRANT_VIA: dict[str, str] = {"customer": "id", "contact": "customer_id", "followup": "customer_id"}


def _scope_condition(actor: Actor, model: Any, scope: Any) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [model.owner_id == actor.user_id]
    if scope == "dept" and actor.department_id is not None:
        conds.append(model.department_path == actor.department_path)
    elif scope == "dept_tree" and actor.department_id is not None:
        conds.append(model.department_path.startswith(actor.department_path, autoescape=True))
    elif isinstance(scope, dict):
        for path in actor.scope_paths.get(id(scope), []):
            conds.append(model.department_path.startswith(path, autoescape=True))
    return conds


_POOLED_CUSTOMER: list[Any] = []


def _pooled_customer() -> Any:
    """The customers table under its own name for the pooled-parent check: a query that already joins customers
    (search joins a contact's customer for its name) must not correlate the check to its own customer."""
    if not _POOLED_CUSTOMER:
        from sqlalchemy.orm import aliased

        from kith.customers.models import Customer

        _POOLED_CUSTOMER.append(aliased(Customer, name="pooled_parent"))
    return _POOLED_CUSTOMER[0]


def _condition(actor: Actor, model: Any, module: str, write: bool) -> ColumnElement[bool]:
    from kith.access.models import AccessGrant, RecordCollaborator
    from kith.core import clock

    if not can(actor, module, "read"):
        return false()
    scope = actor.scopes.get(module, "own")
    if scope == "all":
        return true()
    conds = _scope_condition(actor, model, scope)
    pooled = getattr(model, "pool_entered_at", None)
    if pooled is not None:
        # a customer in the public pool (公海) has no effective owner: owner and department scopes stop reaching it
        # (pool_readable() decides who sees it in the pool; collaborators and grants still apply)
        conds = [and_(pooled.is_(None), or_(*conds))]
    elif module in _GRANT_VIA and (hasattr(model, "customer_id") or hasattr(model, "parent_pooled")):
        # the same for a pooled customer's contacts and follow-ups (they keep their owner until someone claims the
        # customer; the claim moves them): the previous owner's and department's scope no longer reaches them.
        # A report rollup carries the flag itself (`parent_pooled`, kith.reports.followup_days).
        if hasattr(model, "parent_pooled"):
            guard = model.parent_pooled == 0
        else:
            pc = _pooled_customer()
            guard = ~exists().where(pc.id == model.customer_id, pc.pool_entered_at.is_not(None))
        conds = [and_(guard, or_(*conds))]
    share = _SHARE_VIA.get(module)
    if share is not None:
        entity, column = share
        if actor.shares_loaded:
            ids = actor.shared.get((entity, write))
            if ids:
                conds.append(getattr(model, column).in_(sorted(set(ids))))
        else:
            sub = select(RecordCollaborator.entity_id).where(RecordCollaborator.user_id == actor.user_id,
                                                             RecordCollaborator.entity_type == entity)
            if write:
                sub = sub.where(RecordCollaborator.access == "write")
            conds.append(getattr(model, column).in_(sub))
    via = _GRANT_VIA.get(module)
    if via is not None:
        if actor.shares_loaded:
            ids = actor.granted.get(write)
            if ids:
                conds.append(getattr(model, via).in_(sorted(set(ids))))
        else:
            now = clock.now()
            sub = select(AccessGrant.customer_id).where(AccessGrant.user_id == actor.user_id, AccessGrant.revoked_at.is_(None),
                                                        AccessGrant.starts_at <= now, AccessGrant.expires_at > now)
            if write:
                sub = sub.where(AccessGrant.access == "write")
            conds.append(getattr(model, via).in_(sub))
    return or_(*conds) if len(conds) > 1 else conds[0]


def readable(actor: Actor, model: Any, module: str) -> ColumnElement[bool]:
    """One SQL condition: which rows of `model` the actor may see in `module`."""
    return _condition(actor, model, module, write=False)


def pool_readable(actor: Actor, model: Any) -> ColumnElement[bool]:
    """Which pooled customers the actor sees in the public pool (公海). Needs `pool.read`. A pool belongs to a
    department (`pool_path`, "/" = the company pool): scope all → every pool; otherwise the pools of the actor's
    department and its ancestors, plus (dept_tree / chosen departments) the pools below them. Fields stay masked per
    pool rule until claimed (pool service)."""
    if not can(actor, "pool", "read"):
        return false()
    in_pool = model.pool_entered_at.is_not(None)
    scope = actor.scopes.get("pool", "own")
    if scope == "all":
        return in_pool
    parts = [p for p in actor.department_path.split("/") if p]
    ancestors = ["/"] + ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]
    conds: list[ColumnElement[bool]] = [model.pool_path.in_(ancestors)]
    if scope == "dept_tree" and actor.department_id is not None:
        conds.append(model.pool_path.startswith(actor.department_path, autoescape=True))
    elif isinstance(scope, dict):
        for path in actor.scope_paths.get(id(scope), []):
            conds.append(model.pool_path.startswith(path, autoescape=True))
    return and_(in_pool, or_(*conds))


def writable(actor: Actor, model: Any, module: str) -> ColumnElement[bool]:
    """Which rows the actor may change (own scope, write collaborators, write grants); actions still need the permission."""
    return _condition(actor, model, module, write=True)


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
