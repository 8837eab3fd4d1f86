"""Backups: SQLite through its online backup API, PostgreSQL through pg_dump / pg_restore.
Each backup has a SHA-256 checksum and a manifest of row counts; `verify` restores it into a
scratch database and compares the counts."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from kith.core import clock


class BackupError(RuntimeError):
    pass


@dataclass
class BackupResult:
    path: Path
    checksum: str
    counts: dict[str, int]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _libpq(url: str) -> str:
    u = make_url(url)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url: str) -> Path:
    path = make_url(url).database
    if not path:
        raise BackupError("in-memory SQLite databases cannot be backed up")
    return Path(path)


def _counts_sqlite(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
                                             "AND name NOT LIKE '%_fts%' ORDER BY name")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def _counts_conn(conn) -> dict[str, int]:
    tables = sorted(t for t in inspect(conn).get_table_names() if "_fts" not in t)
    return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}


def _write_meta(path: Path, kind: str, counts: dict[str, int]) -> BackupResult:
    checksum = _sha256(path)
    path.with_name(path.name + ".sha256").write_text(f"{checksum}  {path.name}\n")
    manifest = {"kind": kind, "file": path.name, "sha256": checksum, "created_at": clock.now().isoformat(), "counts": counts}
    path.with_name(path.name + ".json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    return BackupResult(path, checksum, counts)


def default_path(directory: Path, url: str) -> Path:
    stamp = clock.now().strftime("%Y%m%d-%H%M%S")
    ext = "db" if url.startswith("sqlite") else "dump"
    return directory / f"kith-{stamp}-{uuid.uuid4().hex[:6]}.{ext}"


def backup(url: str, out: Path) -> BackupResult:
    out.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        src = _sqlite_path(url)
        if not src.exists():
            raise BackupError(f"no database at {src}")
        with sqlite3.connect(src) as source, sqlite3.connect(out) as dest:
            source.backup(dest)  # consistent online copy, even while Kith writes
        return _write_meta(out, "sqlite", _counts_sqlite(out))
    # PostgreSQL: count inside the snapshot that pg_dump exports, so the manifest matches the dump exactly
    engine = create_engine(url, isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as conn:
            conn.execute(text("SET TRANSACTION READ ONLY"))
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            counts = _counts_conn(conn)
            proc = subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}", f"--file={out}",
                                   _libpq(url)], capture_output=True, text=True)
            conn.rollback()
    finally:
        engine.dispose()
    if proc.returncode != 0:
        raise BackupError(f"pg_dump failed: {proc.stderr.strip()[:500]}")
    return _write_meta(out, "postgresql", counts)


def read_manifest(path: Path) -> dict:
    meta = path.with_name(path.name + ".json")
    if not meta.exists():
        raise BackupError(f"no manifest {meta.name} beside the backup")
    manifest = json.loads(meta.read_text())
    actual = _sha256(path)
    if actual != manifest["sha256"]:
        raise BackupError(f"checksum mismatch: the backup file changed (expected {manifest['sha256'][:12]}…, got {actual[:12]}…)")
    return manifest


def _pg_scratch(url: str) -> tuple[str, str]:
    u = make_url(url)
    name = f"kith_verify_{uuid.uuid4().hex[:10]}"
    return name, u.set(database=name).render_as_string(hide_password=False)


def _admin_engine(url: str):
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def verify(path: Path, url_for_scratch: str | None = None) -> dict[str, tuple[int, int]]:
    """Restore into a scratch database and compare row counts with the manifest. Returns mismatches (empty = good)."""
    manifest = read_manifest(path)
    expected: dict[str, int] = manifest["counts"]
    if manifest["kind"] == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            scratch = Path(tmp) / "verify.db"
            with sqlite3.connect(path) as source, sqlite3.connect(scratch) as dest:
                source.backup(dest)
            with sqlite3.connect(scratch) as conn:
                if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                    raise BackupError("integrity check failed")
            got = _counts_sqlite(scratch)
    else:
        if not url_for_scratch:
            raise BackupError("a PostgreSQL URL is needed to create the scratch database")
        name, scratch_url = _pg_scratch(url_for_scratch)
        admin = _admin_engine(url_for_scratch)
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            proc = subprocess.run(["pg_restore", "--no-owner", f"--dbname={_libpq(scratch_url)}", str(path)], capture_output=True, text=True)
            if proc.returncode != 0:
                raise BackupError(f"pg_restore failed: {proc.stderr.strip()[:500]}")
            eng = create_engine(scratch_url)
            try:
                with eng.connect() as conn:
                    got = _counts_conn(conn)
            finally:
                eng.dispose()
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    names = set(expected) | set(got)
    return {t: (expected.get(t, -1), got.get(t, -1)) for t in sorted(names) if expected.get(t) != got.get(t)}


def restore(path: Path, url: str) -> None:
    """Replace the database at `url` with the backup (checksum checked first)."""
    manifest = read_manifest(path)
    if manifest["kind"] == "sqlite":
        if not url.startswith("sqlite"):
            raise BackupError("this is a SQLite backup; the target is not SQLite")
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(path) as source, sqlite3.connect(target) as dest:
            source.backup(dest)
        return
    if url.startswith("sqlite"):
        raise BackupError("this is a PostgreSQL backup; the target is SQLite")
    proc = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", f"--dbname={_libpq(url)}", str(path)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise BackupError(f"pg_restore failed: {proc.stderr.strip()[:500]}")


_ = (os, shutil)
