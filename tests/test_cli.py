"""The `kith` command line as an operator uses it, against a fresh SQLite file per test; production
safety checks; and the log masking of phone numbers and e-mail addresses."""

from __future__ import annotations

import json

import pytest
import typer
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kith import config
from kith.access.policy import BUILTIN_ROLES
from kith.auth.models import Role, User
from kith.auth.security import verify_password
from kith.cli import app as cli
from kith.db import session as db_session

runner = CliRunner()
STRONG_SECRET = "a-long-random-production-secret-" + "z" * 16


def _reset() -> None:
    config.reset_settings()
    db_session.dispose_engines()


@pytest.fixture()
def cli_env(tmp_path, monkeypatch):
    """A fresh SQLite database and a clean KITH_* environment (no .env file from the checkout)."""
    import os

    for key in list(os.environ):
        if key.startswith("KITH_") and key != "KITH_TEST_DB" and not key.startswith("KITH_TEST_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("KITH_DATABASE_URL", url)
    monkeypatch.setenv("KITH_LOG_LEVEL", "WARNING")
    _reset()
    yield url
    _reset()


def invoke(*args: str, env: dict[str, str] | None = None):
    _reset()
    return runner.invoke(cli, list(args), env=env, catch_exceptions=False)


def _session(url: str) -> Session:
    return Session(create_engine(url))


def _commands() -> list[str]:
    return sorted(typer.main.get_command(cli).commands)  # type: ignore[attr-defined]


# ---- help -------------------------------------------------------------------------------------
def test_help_lists_the_commands(cli_env):
    r = invoke("--help")
    assert r.exit_code == 0, r.output
    for name in ("migrate", "init", "createuser", "demo", "check", "serve", "openapi"):
        assert name in r.output
    assert set(_commands()) >= {"migrate", "init", "createuser", "demo", "check", "serve", "openapi"}


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help(cli_env, command):
    r = invoke(command, "--help")
    assert r.exit_code == 0, r.output
    assert "Usage" in r.output


# ---- migrate / init / createuser -----------------------------------------------------------------
def test_migrate_creates_the_schema_and_builtin_roles(cli_env):
    r = invoke("migrate")
    assert r.exit_code == 0, r.output
    engine = create_engine(cli_env)
    tables = set(inspect(engine).get_table_names())
    assert {"users", "roles", "customers", "contacts", "opportunities", "contracts", "alembic_version"} <= tables
    with Session(engine) as s:
        codes = set(s.scalars(select(Role.code).where(Role.builtin.is_(True))))
        assert codes == {r["code"] for r in BUILTIN_ROLES}
        assert s.scalar(select(User.id)) is None  # no users, and certainly no demo users
    # running it again is harmless
    assert invoke("migrate").exit_code == 0
    with Session(engine) as s:
        assert len(list(s.scalars(select(Role.code)))) == len(BUILTIN_ROLES)
    engine.dispose()


def test_init_creates_an_admin_who_can_sign_in(cli_env):
    r = invoke("init", "--username", "boss", "--password", "boss-pass-2026", "--display-name", "老板")
    assert r.exit_code == 0, r.output
    with _session(cli_env) as s:
        user = s.scalar(select(User).where(User.username == "boss"))
        assert user is not None and user.is_active
        assert user.display_name == "老板"
        assert [r.code for r in user.roles] == ["admin"]
        assert verify_password(user.password_hash, "boss-pass-2026")
        assert not verify_password(user.password_hash, "wrong-password")


def test_init_signs_in_through_the_api(cli_env):
    assert invoke("init", "--username", "boss", "--password", "boss-pass-2026").exit_code == 0
    from fastapi.testclient import TestClient

    from kith.app import create_app

    _reset()
    app = create_app(config.Settings(database_url=cli_env, secret_key="k" * 40, environment="test", _env_file=None))  # type: ignore[call-arg]
    with TestClient(app) as client:
        r = client.post("/api/v1/auth/login", json={"username": "boss", "password": "boss-pass-2026"})
        assert r.status_code == 200, r.text
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
        assert [role["code"] for role in me.json()["roles"]] == ["admin"]


def test_second_init_refuses(cli_env):
    assert invoke("init", "--username", "boss", "--password", "boss-pass-2026").exit_code == 0
    r = invoke("init", "--username", "boss2", "--password", "boss-pass-2026")
    assert r.exit_code == 1, r.output
    with _session(cli_env) as s:
        assert list(s.scalars(select(User.username))) == ["boss"]


def test_init_refuses_a_short_password(cli_env):
    r = invoke("init", "--username", "boss", "--password", "short")
    assert r.exit_code == 2, r.output
    with _session(cli_env) as s:
        assert s.scalar(select(User.id)) is None


def test_createuser_with_roles(cli_env):
    assert invoke("migrate").exit_code == 0
    r = invoke("createuser", "alice", "--password", "alice-pass-2026", "--role", "sales_rep", "--role", "finance",
               "--display-name", "爱丽丝")
    assert r.exit_code == 0, r.output
    with _session(cli_env) as s:
        user = s.scalar(select(User).where(User.username == "alice"))
        assert user is not None
        assert sorted(r.code for r in user.roles) == ["finance", "sales_rep"]
        assert verify_password(user.password_hash, "alice-pass-2026")


def test_createuser_with_a_bad_role_exits_2(cli_env):
    assert invoke("migrate").exit_code == 0
    r = invoke("createuser", "bob", "--password", "bob-pass-2026", "--role", "no_such_role")
    assert r.exit_code == 2, r.output
    assert "no_such_role" in r.output
    with _session(cli_env) as s:
        assert s.scalar(select(User).where(User.username == "bob")) is None


def test_createuser_with_a_missing_department_exits_2(cli_env):
    assert invoke("migrate").exit_code == 0
    r = invoke("createuser", "bob", "--password", "bob-pass-2026", "--department-id", "999")
    assert r.exit_code == 2, r.output
    assert "999" in r.output


# ---- check -------------------------------------------------------------------------------------
def test_check_passes_on_a_reachable_database(cli_env):
    assert invoke("migrate").exit_code == 0
    r = invoke("check")
    assert r.exit_code == 0, r.output
    assert "reachable" in r.output


def test_check_fails_on_an_unreachable_database(cli_env, monkeypatch):
    monkeypatch.setenv("KITH_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    r = invoke("check")
    assert r.exit_code != 0, r.output
    assert "unreachable" in r.output


def test_check_reports_an_unsafe_production_config(cli_env, monkeypatch):
    assert invoke("migrate").exit_code == 0
    monkeypatch.setenv("KITH_ENVIRONMENT", "production")
    r = invoke("check")
    assert r.exit_code != 0, r.output
    assert "KITH_SECRET_KEY" in r.output


# ---- production safety -------------------------------------------------------------------------
def test_production_refuses_the_default_secret(cli_env):
    from kith.app import create_app

    with pytest.raises(RuntimeError, match="KITH_SECRET_KEY"):
        create_app(config.Settings(environment="production", database_url=cli_env, _env_file=None))  # type: ignore[call-arg]
    with pytest.raises(RuntimeError, match="KITH_SECRET_KEY"):
        create_app(config.Settings(environment="production", database_url=cli_env, secret_key="short", _env_file=None))  # type: ignore[call-arg]
    # the control: a real secret starts
    app = create_app(config.Settings(environment="production", database_url=cli_env, secret_key=STRONG_SECRET, _env_file=None))  # type: ignore[call-arg]
    assert app.openapi()["paths"]


def test_production_refuses_demo_mode(cli_env):
    from kith.app import create_app

    with pytest.raises(RuntimeError, match="DEMO"):
        create_app(config.Settings(environment="production", database_url=cli_env, secret_key=STRONG_SECRET, demo_mode=True,
                                   _env_file=None))  # type: ignore[call-arg]


def test_serve_refuses_to_start_in_production_with_the_default_secret(cli_env, monkeypatch):
    monkeypatch.setenv("KITH_ENVIRONMENT", "production")
    r = invoke("serve", "--port", "1")
    assert r.exit_code == 2, r.output
    assert "KITH_SECRET_KEY" in r.output


def test_demo_is_never_loaded_in_production(cli_env, monkeypatch):
    monkeypatch.setenv("KITH_ENVIRONMENT", "production")
    monkeypatch.setenv("KITH_SECRET_KEY", STRONG_SECRET)
    r = invoke("demo", "--customers", "1")
    assert r.exit_code == 2, r.output
    engine = create_engine(cli_env)
    if "users" in inspect(engine).get_table_names():
        with Session(engine) as s:
            assert s.scalar(select(User.id)) is None
    engine.dispose()


# ---- openapi ----------------------------------------------------------------------------------
def test_openapi_prints_the_schema(cli_env):
    r = invoke("openapi")
    assert r.exit_code == 0, r.output
    schema = json.loads(r.stdout)
    assert "/api/v1/customers" in schema["paths"]
    assert schema["openapi"].startswith("3.")


# ---- log masking --------------------------------------------------------------------------------
def test_mask_hides_phones_and_emails():
    from kith.core.logging import mask

    out = mask("call 13812345678 or zhang@example.com")
    assert "13812345678" not in out and "12345678" not in out
    assert "138****5678" in out
    assert "zhang@" not in out and "zhang" not in out
    assert "@example.com" in out
    assert out.startswith("call ")


@pytest.mark.parametrize("text, hidden", [
    ("+86 138 1234 5678", "1234"),
    ("138-1234-5678", "1234"),
    ("联系人手机:13912345678。", "1234"),
    ("li.si+crm@corp.example.cn", "li.si+crm"),
])
def test_mask_handles_common_formats(text, hidden):
    from kith.core.logging import mask

    assert hidden not in mask(text)


def test_mask_leaves_other_numbers_alone():
    from kith.core.logging import mask

    assert mask("order 12345 costs 120000.00") == "order 12345 costs 120000.00"


def test_log_lines_are_masked(capsys):
    from kith.core import logging as klog

    klog.setup(json_logs=True, level="INFO")
    klog.log.info("customer called", phone="13812345678", note="mail zhang@example.com")
    err = capsys.readouterr().err
    line = json.loads(err.strip().splitlines()[-1])
    assert "13812345678" not in err and "zhang@" not in err
    assert line["phone"] == "138****5678"
    assert "@example.com" in line["note"]


def _connections_by_process(pids: list[int], port: int) -> dict[int, int]:
    """Established TCP connections on the server's port held by each process (from /proc, no tools needed)."""
    import os

    inodes: dict[str, int] = {}
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes[target[8:-1]] = pid
    held = {pid: 0 for pid in pids}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                local_port, state, inode = int(cols[1].rsplit(":", 1)[1], 16), cols[3], cols[9]
                if local_port == port and state == "01" and inode in inodes:  # 01 = ESTABLISHED
                    held[inodes[inode]] += 1
    return held


def test_serve_with_workers_balances_connections_and_stops_gracefully(cli_env, tmp_path):
    """`kith serve --workers 2`: two processes on one port; 16 keep-alive clients are spread 8 / 8 (not, as with
    a shared accept, mostly onto whichever process was idle), every client is answered, and SIGTERM stops all."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    assert invoke("migrate").exit_code == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "KITH_DATABASE_URL": cli_env, "KITH_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "kith.cli", "serve", "--port", str(port), "--workers", "2"], env=env,
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    clients: list[socket.socket] = []
    try:
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.time() < deadline, proc.stdout.read().decode() if proc.stdout else ""
                time.sleep(0.2)
        time.sleep(1.0)  # both processes up
        clients = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(16)]  # a burst, as a
        for c in clients:  # load balancer's pool or 16 browsers opening at once
            c.sendall(b"GET /api/v1/healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        for c in clients:
            assert c.recv(4096).startswith(b"HTTP/1.1 200"), "every client is answered"
        children = [int(p) for p in open(f"/proc/{proc.pid}/task/{proc.pid}/children").read().split()]
        servers = [pid for pid in children if "resource_tracker" not in open(f"/proc/{pid}/cmdline").read()]
        assert len(servers) == 2, children
        held = _connections_by_process(servers, port)
        assert sorted(held.values()) == [8, 8], held
    finally:
        for c in clients:
            c.close()
        os.kill(proc.pid, signal.SIGTERM)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert code == 0
