"""Who is asking: the user with their roles compiled into permissions, scopes and field rights."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from kith.access.policy import RIGHTS, SCOPES
from kith.auth.models import Department, User
from kith.db.changes import CHANGES_TOKEN_SQL, CUSTOM_FIELDS_DIGEST_SQL

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


# ---------------------------------------------------------------------------------------------
# The per-request path: one round trip, and a per-process cache of compiled actors (ADR 0016).
#
# The statement below reads everything an Actor is made of - the user's own columns, its
# department's path, the full text of each of its roles (permissions, scopes, field rights) - plus
# its collaborations and live grants. The compiled Actor is cached under exactly that content, so the
# cache is content-addressed: a role edited in another process, a user moved to another department,
# a revoked token, a new role assignment or a reused id all change the key and the very next request
# compiles afresh. Nothing is ever served stale; there is no invalidation to forget. Shares and grants
# are per request (they depend on the clock) and never cached.
# ---------------------------------------------------------------------------------------------

_ACTOR_SQL = """
SELECT 'u' AS k, u.id AS a, u.token_version AS b, CASE WHEN u.is_active THEN 1 ELSE 0 END AS c, u.department_id AS d,
       u.username AS s1, u.display_name AS s2, u.timezone AS s3, u.language AS s4, dp.path AS s5
  FROM users u LEFT JOIN departments dp ON dp.id = u.department_id WHERE u.id = :uid
UNION ALL
SELECT 'r', r.id, CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), r.code, CAST(r.permissions AS TEXT), CAST(r.data_scopes AS TEXT),
       CAST(r.field_rights AS TEXT), CAST(NULL AS TEXT)
  FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = :uid
UNION ALL
SELECT * FROM (SELECT 'c' AS k, rc.entity_id AS a, CAST(NULL AS BIGINT) AS b, CAST(NULL AS BIGINT) AS c,
                      CAST(NULL AS BIGINT) AS d, rc.entity_type AS s1, rc.access AS s2,
                      CAST(NULL AS TEXT) AS s3, CAST(NULL AS TEXT) AS s4, CAST(NULL AS TEXT) AS s5
                 FROM record_collaborators rc WHERE rc.user_id = :uid LIMIT :lim) collab
UNION ALL
SELECT * FROM (SELECT 'g' AS k, ag.customer_id AS a, CAST(NULL AS BIGINT) AS b, CAST(NULL AS BIGINT) AS c,
                      CAST(NULL AS BIGINT) AS d, CAST('customer' AS TEXT) AS s1, ag.access AS s2,
                      CAST(NULL AS TEXT) AS s3, CAST(NULL AS TEXT) AS s4, CAST(NULL AS TEXT) AS s5
                 FROM access_grants ag WHERE ag.user_id = :uid AND ag.revoked_at IS NULL AND ag.starts_at <= :now
                  AND ag.expires_at > :now LIMIT :lim) grants
"""
# PostgreSQL only: one more row with what the rest of a request would otherwise ask in round trips of their own
# (ADR 0027): a digest of every custom-field definition (kith.customfields.service.definitions serves the
# definitions from a per-process cache under it) and the changes token (kith.db.changes: the WAL position, and
# whether this transaction has written). SQLite answers those in-process, for microseconds.
_PREAMBLE_SQL = f"""
UNION ALL
SELECT 'f', CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT),
       {CUSTOM_FIELDS_DIGEST_SQL}, {CHANGES_TOKEN_SQL}, CAST(NULL AS TEXT), CAST(NULL AS TEXT)
"""
_actor_stmts: dict[bool, Any] = {}
# content key -> compiled Actor (a template: never handed out, copied per request)
_compiled: dict[tuple[Any, ...], Actor] = {}
_CACHE_MAX = 4096
cache_stats = {"hits": 0, "misses": 0}


def _statement(postgres: bool = False) -> Any:
    stmt = _actor_stmts.get(postgres)
    if stmt is None:
        from sqlalchemy import bindparam, text

        from kith.db.base import UTCDateTime

        stmt = text(_ACTOR_SQL + (_PREAMBLE_SQL if postgres else "")).bindparams(bindparam("now", type_=UTCDateTime()))
        _actor_stmts[postgres] = stmt
    return stmt


class _RoleRow:
    __slots__ = ("id", "code", "permissions", "data_scopes", "field_rights")

    def __init__(self, rid: int, code: str, permissions: str | None, data_scopes: str | None, field_rights: str | None) -> None:
        import json

        self.id, self.code = rid, code
        self.permissions = json.loads(permissions) if permissions else {}
        self.data_scopes = json.loads(data_scopes) if data_scopes else {}
        self.field_rights = json.loads(field_rights) if field_rights else {}


class _UserRow:
    __slots__ = ("id", "username", "display_name", "department_id", "timezone", "language", "roles")

    def __init__(self, row: tuple[Any, ...], roles: list[_RoleRow]) -> None:
        (self.id, _tv, _active, self.department_id, self.username, self.display_name, self.timezone, self.language,
         _path) = row
        self.roles = roles


class _Dept:
    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path


def clear_cache() -> None:
    _compiled.clear()


def actor_for(session: Session, user_id: int, token_version: Any) -> Actor | None:
    """The request's Actor for a token's user (None: no such user, inactive, or the token was revoked).

    One query; the compiled part comes from the per-process cache when the user's row and roles are
    unchanged (content-addressed key, see above)."""
    from kith.core import clock

    postgres = session.get_bind().dialect.name == "postgresql"
    rows = session.execute(_statement(postgres), {"uid": user_id, "now": clock.now(), "lim": SHARE_LIMIT + 1}).all()
    user_row: tuple[Any, ...] | None = None
    roles: list[tuple[Any, ...]] = []
    collabs: list[tuple[str, int, str]] = []
    grants: list[tuple[int, str]] = []
    for k, a, b, c, d, s1, s2, s3, s4, s5 in rows:
        if k == "u":
            user_row = (a, b, c, d, s1, s2, s3, s4, s5)
        elif k == "r":
            roles.append((a, s1, s2, s3, s4))
        elif k == "c":
            collabs.append((s1, a, s2))
        elif k == "g":
            grants.append((a, s2))
        else:  # "f" (PostgreSQL): custom-field digest; changes token, valid while this session does not write
            session.info["cf_digest"] = s1
            session.info["changes_token_at_start"] = (s2, s3)
    if user_row is None or not user_row[2] or user_row[1] != token_version:
        return None
    roles.sort(key=lambda r: r[0])
    key = (user_row, tuple(roles))
    template = _compiled.get(key)
    if template is None:
        cache_stats["misses"] += 1
        path = user_row[8]
        template = compile_actor(_UserRow(user_row, [_RoleRow(*r) for r in roles]),  # type: ignore[arg-type]
                                 _Dept(path) if user_row[3] is not None and path is not None else None)
        if len(_compiled) >= _CACHE_MAX:
            _compiled.clear()
        _compiled[key] = template
    else:
        cache_stats["hits"] += 1
    actor = replace(template, scope_paths={}, shared={}, granted={}, shares_loaded=False)
    _load_scope_paths(session, actor)
    _apply_shares(actor, collabs, grants)
    return actor


def _load_scope_paths(session: Session, actor: Actor) -> None:
    """Paths of the departments a role's scope names (rare: custom roles); read per request, never cached."""
    from sqlalchemy import select

    for scope in actor.scopes.values():
        if isinstance(scope, dict):
            ids = [int(i) for i in scope.get("departments", []) if isinstance(i, int)]
            actor.scope_paths[id(scope)] = list(session.scalars(select(Department.path).where(Department.id.in_(ids)))) if ids else []


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
    _apply_shares(actor, rows, grants)


def _apply_shares(actor: Actor, rows: list[tuple[str, int, str]], grants: list[tuple[int, str]]) -> None:
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
