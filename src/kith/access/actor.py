"""Who is asking: the user with their roles compiled into permissions, scopes and field rights."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from kith.access.policy import RIGHTS, SCOPES
from kith.auth.models import Department, User

_SCOPE_RANK = {s: i for i, s in enumerate(SCOPES)}


def _rank(scope: object) -> int:
    # a chosen set of departments ranks between the own department tree and everything
    if isinstance(scope, dict):
        return _SCOPE_RANK["dept_tree"]
    return _SCOPE_RANK.get(scope, -1)  # type: ignore[arg-type]
_RIGHT_RANK = {r: i for i, r in enumerate(RIGHTS)}


@dataclass
class Actor:
    user_id: int
    username: str
    display_name: str
    department_id: int | None
    department_path: str
    roles: list[str]
    permissions: dict[str, set[str]] = field(default_factory=dict)
    scopes: dict[str, Any] = field(default_factory=dict)
    # module -> field -> the most permissive right over the actor's roles (only fields some role restricts)
    field_rights: dict[str, dict[str, str]] = field(default_factory=dict)
    timezone: str = "Asia/Shanghai"
    language: str = "zh-CN"
    # for scopes that name departments: id(scope dict) -> the chosen departments' paths
    scope_paths: dict[int, list[str]] = field(default_factory=dict)
    # records shared with the actor, looked up once per request: (entity type, write?) -> ids
    shared: dict[tuple[str, bool], list[int]] = field(default_factory=dict)
    # customers granted through approvals and not yet lapsed: write? -> ids
    granted: dict[bool, list[int]] = field(default_factory=dict)
    shares_loaded: bool = False

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


def compile_actor(user: User, department: Department | None) -> Actor:
    perms: dict[str, set[str]] = {}
    scopes: dict[str, str] = {}
    # A field is restricted only if every role restricts it; the most permissive right wins.
    per_role_rights: list[dict[str, dict[str, str]]] = []
    for role in user.roles:
        for module, actions in (role.permissions or {}).items():
            perms.setdefault(module, set()).update(actions)
        for module, scope in (role.data_scopes or {}).items():
            if _rank(scope) < 0:
                continue
            if module not in scopes or _rank(scope) > _rank(scopes[module]):
                scopes[module] = scope
            elif isinstance(scope, dict) and isinstance(scopes[module], dict):
                merged = sorted(set(scopes[module].get("departments", [])) | set(scope.get("departments", [])))
                scopes[module] = {"departments": merged}
        per_role_rights.append(role.field_rights or {})
    rights: dict[str, dict[str, str]] = {}
    if per_role_rights:
        candidates = {(m, f) for fr in per_role_rights for m, fields in fr.items() for f in fields}
        for module, fname in candidates:
            best = "hidden"
            for fr in per_role_rights:
                r = fr.get(module, {}).get(fname, "write")
                if _RIGHT_RANK.get(r, 2) > _RIGHT_RANK[best]:
                    best = r
            if best != "write":
                rights.setdefault(module, {})[fname] = best
    return Actor(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        department_id=user.department_id,
        department_path=department.path if department else "/",
        roles=[r.code for r in user.roles],
        permissions=perms,
        scopes=scopes,
        field_rights=rights,
        timezone=user.timezone,
        language=user.language,
    )


def load_actor(session: Session, user: User) -> Actor:
    from sqlalchemy import select

    dept = session.get(Department, user.department_id) if user.department_id else None
    actor = compile_actor(user, dept)
    for scope in actor.scopes.values():
        if isinstance(scope, dict):
            ids = [int(i) for i in scope.get("departments", []) if isinstance(i, int)]
            actor.scope_paths[id(scope)] = list(session.scalars(select(Department.path).where(Department.id.in_(ids)))) if ids else []
    load_shares(session, actor)
    return actor


SHARE_LIMIT = 2000


def load_shares(session: Session, actor: Actor) -> None:
    """Collaborations and live grants are few per user: fetch their ids once, so the scope condition
    is a short literal IN list the planner can use with the primary key (no correlated subquery)."""
    from sqlalchemy import literal, select, union_all

    from kith.access.models import AccessGrant, RecordCollaborator
    from kith.core import clock

    now = clock.now()
    # one round trip for both: ("collab", entity type, id, access) and ("grant", "customer", id, access)
    stmt = union_all(
        select(literal("c").label("kind"), RecordCollaborator.entity_type, RecordCollaborator.entity_id, RecordCollaborator.access)
        .where(RecordCollaborator.user_id == actor.user_id),
        select(literal("g").label("kind"), literal("customer"), AccessGrant.customer_id, AccessGrant.access).where(
            AccessGrant.user_id == actor.user_id, AccessGrant.revoked_at.is_(None), AccessGrant.starts_at <= now,
            AccessGrant.expires_at > now),
    ).limit(2 * SHARE_LIMIT + 1)
    found = session.execute(stmt).all()
    rows = [(e, i, a) for k, e, i, a in found if k == "c"]
    grants = [(i, a) for k, _e, i, a in found if k == "g"]
    shared: dict[tuple[str, bool], list[int]] = {}
    granted: dict[bool, list[int]] = {}
    if len(rows) > SHARE_LIMIT or len(grants) > SHARE_LIMIT:
        return  # too many to inline: the gate falls back to subqueries
    for entity, entity_id, access in rows:
        shared.setdefault((entity, False), []).append(entity_id)
        if access == "write":
            shared.setdefault((entity, True), []).append(entity_id)
    for customer_id, access in grants:
        granted.setdefault(False, []).append(customer_id)
        if access == "write":
            granted.setdefault(True, []).append(customer_id)
    actor.shared, actor.granted, actor.shares_loaded = shared, granted, True
