"""Test set-up: one database per test run (SQLite file or a scratch PostgreSQL database, chosen by
KITH_TEST_DB=sqlite|postgresql), migrated with Alembic; every test starts from the same seed rows."""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, delete, select, text
from sqlalchemy.orm import Session

from kith.auth.security import create_access_token, hash_password
from kith.config import Settings
from kith.core import clock

DB_KIND = os.environ.get("KITH_TEST_DB", "sqlite")
PG_ADMIN_URL = os.environ.get("KITH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "test-pass-2026"
_HASH = hash_password(PASSWORD)


def pytest_report_header(config):
    return f"kith database leg: {DB_KIND}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    if DB_KIND == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "kith-test.db"
        yield f"sqlite:///{path}"
        return
    name = f"kith_test_{worker}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory) -> Settings:
    return Settings(database_url=database_url, environment="test", secret_key="test-secret-key-" + "x" * 32, log_level="WARNING",
                    log_json=True, data_dir=tmp_path_factory.mktemp("data"), _env_file=None)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    from kith.bootstrap import bootstrap
    from kith.db.migrate import upgrade
    from kith.db.session import get_engine, session_factory

    eng = get_engine(settings)
    upgrade(eng)
    with session_factory(eng)() as s:
        bootstrap(s)
        s.commit()
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def app(settings: Settings, engine: Engine):
    from kith.app import create_app

    return create_app(settings)


@pytest.fixture(autouse=True)
def _jobs_use_the_test_settings(request) -> Iterator[None]:
    """Building another app (test_cli builds production ones) re-points the job queue's settings; every test starts
    from the suite's own (jobs run right after commit) and eager/queued overrides never leak into the next test."""
    from kith.core import jobs

    if "settings" in request.fixturenames:
        jobs.configure(request.getfixturevalue("settings"))
    jobs.set_eager(None)
    yield
    jobs.set_eager(None)


@pytest.fixture()
def client(app) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


# Tables emptied between tests (children first); roles, pipelines and stages are seed data.
_CLEAN = [
    "notifications", "attachments", "tasks", "audit_log", "approval_actions", "approval_requests", "access_grants", "record_collaborators",
    "idempotency_keys", "events", "followups", "payments", "payment_plans", "contracts", "quote_lines", "opportunity_contacts",
    "opportunity_stage_history", "opportunities", "contacts", "taggings", "tags", "customers", "products", "custom_fields",
    "refresh_tokens", "login_failures", "user_roles", "users", "departments",
]


# Seed/configuration tables kept between tests (reset below, or by a module's own fixture).
_KEEP = {"roles", "pipelines", "stages", "approval_flows"}


@functools.cache
def _tables_to_clean() -> list[str]:
    """Tables added by later modules (not yet in _CLEAN) first — they are children of the core ones — then _CLEAN."""
    from fastapi import FastAPI

    from kith.db.base import Base
    from kith.routers import include_all

    include_all(FastAPI(), "")  # imports every module's models

    extra = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name not in _CLEAN and t.name not in _KEEP]
    return extra + _CLEAN


@dataclass
class World:
    """Seed users and departments every test can rely on."""

    session: Session
    users: dict[str, int]
    depts: dict[str, int]

    def token(self, username: str, settings: Settings) -> str:
        from kith.auth.models import User

        user = self.session.get(User, self.users[username])
        assert user is not None
        self.session.refresh(user)
        return create_access_token(settings, user.id, user.token_version)[0]


@pytest.fixture()
def db(engine: Engine) -> Iterator[Session]:
    from kith.db.session import session_factory

    session = session_factory(engine)()
    yield session
    session.rollback()
    session.close()


@pytest.fixture()
def world(engine: Engine, db: Session) -> Iterator[World]:
    from kith.auth.models import Department, Role, User

    clock.reset()
    with engine.begin() as conn:
        for table in _tables_to_clean():
            conn.execute(text(f"DELETE FROM {table}"))
        if engine.dialect.name == "sqlite":
            for t in ("customers", "contacts", "opportunities"):
                conn.execute(text(f"DELETE FROM {t}_fts"))
    # built-in roles and approval flows back to their defaults (tests may edit them); test-made roles go
    from kith.access.policy import BUILTIN_ROLES
    from kith.approvals.models import ApprovalFlow
    from kith.approvals.service import DEFAULT_FLOWS

    specs = {spec["code"]: spec for spec in BUILTIN_ROLES}
    for role in list(db.scalars(select(Role))):
        if role.code in specs:
            role.permissions = specs[role.code]["permissions"]
            role.data_scopes = specs[role.code]["data_scopes"]
            role.field_rights = specs[role.code]["field_rights"]
        else:
            db.delete(role)
    flow_specs = {f["code"]: f for f in DEFAULT_FLOWS}
    for flow in list(db.scalars(select(ApprovalFlow))):
        if flow.code in flow_specs:
            flow.steps, flow.active = flow_specs[flow.code]["steps"], True
        else:
            db.delete(flow)
    db.commit()
    roles = {r.code: r for r in db.scalars(select(Role))}

    def dept(name: str, parent: Department | None = None) -> Department:
        d = Department(name=name, parent_id=parent.id if parent else None, path="/")
        db.add(d)
        db.flush()
        d.path = f"{parent.path if parent else '/'}{d.id}/"
        return d

    hq = dept("总部")
    north = dept("华北销售部", hq)
    north_bj = dept("北京组", north)
    east = dept("华东销售部", hq)
    finance_d = dept("财务部", hq)
    support_d = dept("技术支持部", hq)
    depts = {"hq": hq, "north": north, "north_bj": north_bj, "east": east, "finance": finance_d, "support": support_d}
    specs = [
        ("admin", "管理员", "admin", hq),
        ("manager_north", "王经理", "sales_manager", north),
        ("rep_north", "李销售", "sales_rep", north),
        ("rep_north_bj", "赵销售", "sales_rep", north_bj),
        ("rep_north2", "钱销售", "sales_rep", north),
        ("manager_east", "孙经理", "sales_manager", east),
        ("rep_east", "周销售", "sales_rep", east),
        ("finance", "吴财务", "finance", finance_d),
        ("support", "郑支持", "support", support_d),
        ("service", "冯客服", "service", hq),
        ("marketing", "陈市场", "marketing", hq),
        ("auditor", "褚审计", "auditor", hq),
    ]
    users = {}
    for username, name, role, d in specs:
        u = User(username=username, display_name=name, password_hash=_HASH, department_id=d.id)
        u.roles = [roles[role]]
        db.add(u)
        db.flush()
        users[username] = u.id
    north.manager_id = users["manager_north"]
    east.manager_id = users["manager_east"]
    db.commit()
    yield World(db, users, {k: v.id for k, v in depts.items()})
    clock.reset()


class Api:
    """A thin client that signs requests as one of the seed users."""

    def __init__(self, client: TestClient, world: World, settings: Settings) -> None:
        self.client, self.world, self.settings = client, world, settings
        self._tokens: dict[str, str] = {}

    def headers(self, user: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
        h = dict(extra or {})
        if user:
            if user not in self._tokens:
                self._tokens[user] = self.world.token(user, self.settings)
            h["Authorization"] = f"Bearer {self._tokens[user]}"
        return h

    def forget(self, user: str) -> None:
        self._tokens.pop(user, None)

    def get(self, path, user="admin", headers=None, **kw):
        return self.client.get(f"/api/v1{path}", headers=self.headers(user, headers), **kw)

    def post(self, path, json=None, user="admin", headers=None, **kw):
        return self.client.post(f"/api/v1{path}", json=json, headers=self.headers(user, headers), **kw)

    def patch(self, path, json=None, user="admin", headers=None, **kw):
        return self.client.patch(f"/api/v1{path}", json=json, headers=self.headers(user, headers), **kw)

    def put(self, path, json=None, user="admin", headers=None, **kw):
        return self.client.put(f"/api/v1{path}", json=json, headers=self.headers(user, headers), **kw)

    def delete(self, path, user="admin", headers=None, **kw):
        return self.client.delete(f"/api/v1{path}", headers=self.headers(user, headers), **kw)

    # helpers that create records through the API (so every path is exercised as a user would)
    def customer(self, user="admin", **fields) -> dict:
        body = {"name": f"测试客户{uuid.uuid4().hex[:6]}", **fields}
        r = self.post("/customers", body, user=user)
        assert r.status_code == 201, r.text
        return r.json()

    def contact(self, customer_id: int, user="admin", **fields) -> dict:
        r = self.post("/contacts", {"customer_id": customer_id, "name": "联系人", **fields}, user=user)
        assert r.status_code == 201, r.text
        return r.json()

    def opportunity(self, customer_id: int, user="admin", **fields) -> dict:
        body = {"customer_id": customer_id, "name": "测试商机", "amount": "100000", "next_action": "电话回访",
                "next_action_due": "2026-12-01T10:00:00+08:00", **fields}
        r = self.post("/opportunities", body, user=user)
        assert r.status_code == 201, r.text
        return r.json()

    def contract(self, customer_id: int, user="admin", **fields) -> dict:
        r = self.post("/contracts", {"customer_id": customer_id, "title": "年度服务合同", "amount": "120000", **fields}, user=user)
        assert r.status_code == 201, r.text
        return r.json()


@pytest.fixture()
def api(client: TestClient, world: World, settings: Settings) -> Api:
    return Api(client, world, settings)


def assert_error(response, status: int, code: str | None = None, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "request_id"}, body
    err = body["error"]
    assert isinstance(err["message"], str) and err["message"]
    assert isinstance(err["fields"], list)
    if code:
        assert err["code"] == code, body
    if field:
        assert field in [f["field"] for f in err["fields"]], body
    return err


_ = delete


def assert_followup_days_exact(engine: Engine) -> None:
    """The per-day follow-up counts (kith.reports.followup_days) equal a recount from the follow-ups."""
    from sqlalchemy import select as _select

    from kith.reports.followup_days import FollowupDayCount as R, rebuild

    cols = (R.day, R.owner_id, R.department_path, R.pooled, R.n)
    with engine.connect() as conn:
        trans = conn.begin()
        kept = sorted(tuple(r) for r in conn.execute(_select(*cols)))
        rebuild(conn)
        recount = sorted(tuple(r) for r in conn.execute(_select(*cols)))
        trans.rollback()
    assert kept == recount and recount, (kept, recount)
