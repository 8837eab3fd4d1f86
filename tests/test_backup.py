"""kith backup / restore / --verify on the test database (SQLite or PostgreSQL, by leg)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from kith import cli
from kith.config import reset_settings
from kith.db.session import dispose_engines


@pytest.fixture()
def runner(settings, monkeypatch):
    monkeypatch.setenv("KITH_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("KITH_SECRET_KEY", settings.secret_key)
    reset_settings()
    yield CliRunner()
    reset_settings()


def test_backup_verify_and_restore(api, db, runner, tmp_path: Path, engine):
    from kith.customers.models import Customer

    for i in range(3):
        api.customer(name=f"备份客户{i}")
    out = tmp_path / ("b.db" if engine.dialect.name == "sqlite" else "b.dump")
    r = runner.invoke(cli.app, ["backup", "--output", str(out), "--verify"])
    assert r.exit_code == 0, r.output
    assert "verified" in r.output
    assert out.exists() and Path(str(out) + ".sha256").exists() and Path(str(out) + ".json").exists()
    # the data changes after the backup …
    api.customer(name="备份后新增")
    assert db.scalar(select(func.count()).select_from(Customer)) == 4
    db.close()
    dispose_engines()
    r = runner.invoke(cli.app, ["restore", str(out), "--yes"])
    assert r.exit_code == 0, r.output
    dispose_engines()
    engine.dispose()
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        names = set(s.scalars(select(Customer.name)))
    assert names == {"备份客户0", "备份客户1", "备份客户2"}


def test_tampered_backup_is_refused(runner, tmp_path: Path, engine, api):
    api.customer(name="校验客户")
    out = tmp_path / ("c.db" if engine.dialect.name == "sqlite" else "c.dump")
    assert runner.invoke(cli.app, ["backup", "--output", str(out)]).exit_code == 0
    with out.open("r+b") as f:
        f.seek(200)
        byte = f.read(1)
        f.seek(200)
        f.write(bytes([byte[0] ^ 0xFF]))
    r = runner.invoke(cli.app, ["restore", str(out), "--verify"])
    assert r.exit_code == 1 and "checksum mismatch" in r.output
    r = runner.invoke(cli.app, ["restore", str(out), "--yes"])
    assert r.exit_code == 1
