"""Data every install has: built-in roles and a default sales pipeline (both editable later)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.access.policy import BUILTIN_ROLES
from kith.auth.models import Department, Role, User
from kith.auth.security import hash_password
from kith.opportunities.models import Pipeline, Stage

DEFAULT_STAGES = [
    ("初步接洽", "Initial contact", 10, "open"),
    ("需求确认", "Needs confirmed", 25, "open"),
    ("方案报价", "Proposal / quote", 50, "open"),
    ("商务谈判", "Negotiation", 75, "open"),
    ("赢单", "Won", 100, "won"),
    ("输单", "Lost", 0, "lost"),
]


def ensure_builtin_roles(session: Session) -> None:
    existing = {r.code for r in session.scalars(select(Role))}
    for spec in BUILTIN_ROLES:
        if spec["code"] not in existing:
            session.add(Role(builtin=True, **spec))
    session.flush()


def ensure_default_pipeline(session: Session) -> Pipeline:
    pipeline = session.scalar(select(Pipeline).where(Pipeline.is_default.is_(True)))
    if pipeline is None:
        pipeline = Pipeline(name="标准销售流程", is_default=True, position=0)
        session.add(pipeline)
        session.flush()
        for pos, (name, name_en, prob, kind) in enumerate(DEFAULT_STAGES):
            session.add(Stage(pipeline_id=pipeline.id, name=name, name_en=name_en, probability=prob, position=pos, kind=kind))
        session.flush()
    return pipeline


def bootstrap(session: Session) -> None:
    from kith.approvals.service import ensure_default_flows

    ensure_builtin_roles(session)
    ensure_default_pipeline(session)
    ensure_default_flows(session)
    from kith.pool.service import ensure_default_rules as ensure_pool_rules
    from kith.reminders.service import ensure_default_rules as ensure_reminder_rules

    ensure_reminder_rules(session)
    ensure_pool_rules(session)


def create_department(session: Session, name: str, parent: Department | None = None) -> Department:
    dept = Department(name=name, parent_id=parent.id if parent else None, path="/")
    session.add(dept)
    session.flush()
    dept.path = f"{parent.path if parent else '/'}{dept.id}/"
    session.flush()
    return dept


def create_user(
    session: Session,
    username: str,
    password: str,
    display_name: str | None = None,
    roles: list[str] | None = None,
    department: Department | None = None,
    email: str | None = None,
    is_demo: bool = False,
) -> User:
    role_rows = list(session.scalars(select(Role).where(Role.code.in_(roles or []))))
    missing = set(roles or []) - {r.code for r in role_rows}
    if missing:
        raise ValueError(f"unknown role(s): {', '.join(sorted(missing))}")
    user = User(
        username=username.strip().lower(),
        display_name=display_name or username,
        password_hash=hash_password(password),
        department_id=department.id if department else None,
        email=email,
        is_demo=is_demo,
    )
    user.roles = role_rows
    session.add(user)
    session.flush()
    return user
