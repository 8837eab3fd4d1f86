"""The `kith` command line."""

from __future__ import annotations

import getpass
import json
import sys
from typing import Optional

import typer
from rich.console import Console

from kith.config import get_settings

app = typer.Typer(help="Kith CRM: serve, migrate, init, demo, createuser, check.", no_args_is_help=True, add_completion=False)
console = Console(stderr=True)

DEMO_PASSWORD = "kith-demo-2026"
DEMO_USERS = ["admin", "manager_north", "rep_north", "manager_east", "rep_east", "service", "marketing", "finance", "support"]


def _migrate() -> None:
    from kith.bootstrap import bootstrap
    from kith.db.migrate import upgrade
    from kith.db.session import get_engine, session_scope

    engine = get_engine()
    upgrade(engine)
    with session_scope(engine) as session:
        bootstrap(session)


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema and seed built-in roles and the default pipeline."""
    _migrate()
    console.print(f"[green]Database ready:[/green] {get_settings().effective_database_url.split('@')[-1]}")


@app.command()
def serve(
    host: Optional[str] = typer.Option(None, help="bind address (KITH_HOST, default 127.0.0.1)"),
    port: Optional[int] = typer.Option(None, help="port (KITH_PORT, default 8000)"),
    workers: int = typer.Option(1, help="worker processes"),
    reload: bool = typer.Option(False, help="reload on code changes (development)"),
) -> None:
    """Run the web server (API at /api/v1, docs at /docs, the web UI at /)."""
    import uvicorn

    settings = get_settings()
    problems = settings.check_production()
    if problems:
        for p in problems:
            console.print(f"[red]refusing to start:[/red] {p}")
        raise typer.Exit(2)
    uvicorn.run(
        "kith.app:create_app", factory=True, host=host or settings.host, port=port or settings.port,
        workers=workers, reload=reload, timeout_graceful_shutdown=20, log_level="warning", access_log=False,
    )


@app.command()
def init(
    username: Optional[str] = typer.Option(None, help="administrator username"),
    password: Optional[str] = typer.Option(None, help="administrator password (asked when omitted)"),
    display_name: Optional[str] = typer.Option(None, help="display name"),
    email: Optional[str] = typer.Option(None, help="e-mail"),
) -> None:
    """Create the first administrator (interactively, or from the flags)."""
    from sqlalchemy import func, select

    from kith.auth.models import User
    from kith.bootstrap import create_user
    from kith.db.session import session_scope

    _migrate()
    with session_scope() as session:
        if session.scalar(select(func.count()).select_from(User)):
            console.print("[yellow]Users already exist; use `kith createuser` to add more.[/yellow]")
            raise typer.Exit(1)
        username = username or typer.prompt("Administrator username", default="admin")
        if password is None:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Repeat password: "):
                console.print("[red]Passwords differ.[/red]")
                raise typer.Exit(2)
        if len(password) < 8:
            console.print("[red]The password needs at least 8 characters.[/red]")
            raise typer.Exit(2)
        create_user(session, username, password, display_name or username, ["admin"], email=email)
    console.print(f"[green]Administrator {username} created.[/green]")


@app.command()
def createuser(
    username: str = typer.Argument(..., help="login name"),
    password: Optional[str] = typer.Option(None, help="password (asked when omitted)"),
    display_name: Optional[str] = typer.Option(None, help="display name"),
    role: list[str] = typer.Option(["sales_rep"], help="role code, repeatable (admin, sales_manager, sales_rep, service, marketing, finance, support, auditor)"),
    department_id: Optional[int] = typer.Option(None, help="department id"),
    email: Optional[str] = typer.Option(None, help="e-mail"),
) -> None:
    """Add a user with one or more roles."""
    from kith.auth.models import Department
    from kith.bootstrap import create_user
    from kith.db.session import session_scope

    if password is None:
        password = getpass.getpass("Password: ")
    if len(password) < 8:
        console.print("[red]The password needs at least 8 characters.[/red]")
        raise typer.Exit(2)
    with session_scope() as session:
        dept = session.get(Department, department_id) if department_id else None
        if department_id and dept is None:
            console.print(f"[red]No department {department_id}.[/red]")
            raise typer.Exit(2)
        try:
            create_user(session, username, password, display_name, role, dept, email)
        except ValueError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
    console.print(f"[green]User {username} created.[/green]")


@app.command()
def demo(
    customers: int = typer.Option(300, help="number of demo customers"),
    seed: int = typer.Option(2026, help="random seed"),
    force: bool = typer.Option(False, help="load even when the database already has customers"),
) -> None:
    """Load the demo company (departments, demo users, customers, deals, contracts, follow-ups)."""
    settings = get_settings()
    if settings.environment == "production":
        console.print("[red]Demo data is never loaded in production.[/red]")
        raise typer.Exit(2)
    from kith.demo import load_demo

    _migrate()
    created = load_demo(customers=customers, seed=seed, force=force)
    if created:
        console.print(f"[green]Demo data loaded.[/green] Logins (password {DEMO_PASSWORD}): {', '.join(DEMO_USERS)}")
    else:
        console.print("[yellow]The database already has data; demo not loaded (use --force).[/yellow]")


@app.command()
def check() -> None:
    """Check the configuration and that the database answers."""
    from sqlalchemy import text

    from kith.db.session import get_engine

    settings = get_settings()
    ok = True
    problems = settings.check_production()
    for p in problems:
        console.print(f"[red]config:[/red] {p}")
        ok = False
    url = settings.effective_database_url
    console.print(f"environment: {settings.environment}")
    console.print(f"database: {url.split('@')[-1] if '@' in url else url}")
    console.print(f"time zone: {settings.timezone}; language: {settings.default_language}")
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        console.print("[green]database reachable[/green]")
    except Exception as exc:  # noqa: BLE001 - report whatever the driver says
        console.print(f"[red]database unreachable:[/red] {exc}")
        ok = False
    if settings.redis_url:
        try:
            import redis  # type: ignore[import-not-found]

            redis.Redis.from_url(settings.redis_url, socket_timeout=2).ping()
            console.print("[green]redis reachable[/green]")
        except Exception as exc:  # noqa: BLE001
            console.print(f"[red]redis unreachable:[/red] {exc}")
            ok = False
    if not ok:
        raise typer.Exit(1)


@app.command("backup")
def backup_cmd(
    output: Optional[str] = typer.Option(None, help="file to write (default var/backups/kith-<time>.db|.dump)"),
    verify: bool = typer.Option(False, "--verify", help="restore into a scratch database and compare row counts"),
) -> None:
    """Back up the database (SQLite online backup API, or pg_dump) with a checksum and a manifest."""
    from pathlib import Path

    from kith.ops import backup as ops

    settings = get_settings()
    url = settings.effective_database_url
    out = Path(output) if output else ops.default_path(settings.data_dir / "backups", url)
    try:
        result = ops.backup(url, out)
        console.print(f"[green]backup written:[/green] {result.path} (sha256 {result.checksum[:16]}…, {sum(result.counts.values())} rows)")
        if verify:
            mismatches = ops.verify(result.path, None if url.startswith("sqlite") else url)
            if mismatches:
                for table, (want, got) in mismatches.items():
                    console.print(f"[red]{table}: expected {want} rows, restored {got}[/red]")
                raise typer.Exit(1)
            console.print(f"[green]verified:[/green] restored into a scratch database, {len(result.counts)} tables match")
    except ops.BackupError as exc:
        console.print(f"[red]backup failed:[/red] {exc}")
        raise typer.Exit(1) from None


@app.command("restore")
def restore_cmd(
    path: str = typer.Argument(..., help="a backup file written by `kith backup`"),
    yes: bool = typer.Option(False, "--yes", help="do not ask for confirmation"),
    verify_only: bool = typer.Option(False, "--verify", help="only verify the backup (checksum and a scratch restore)"),
) -> None:
    """Restore a backup over the configured database (the checksum is checked first)."""
    from pathlib import Path

    from kith.ops import backup as ops

    url = get_settings().effective_database_url
    try:
        if verify_only:
            mismatches = ops.verify(Path(path), None if url.startswith("sqlite") else url)
            if mismatches:
                for table, (want, got) in mismatches.items():
                    console.print(f"[red]{table}: expected {want} rows, restored {got}[/red]")
                raise typer.Exit(1)
            console.print("[green]backup verified[/green]")
            return
        ops.read_manifest(Path(path))
        if not yes and not typer.confirm(f"Replace the data in {url.split('@')[-1]} with {path}?"):
            raise typer.Exit(1)
        from kith.db.session import dispose_engines

        dispose_engines()
        ops.restore(Path(path), url)
        console.print(f"[green]restored[/green] {path}")
    except ops.BackupError as exc:
        console.print(f"[red]restore failed:[/red] {exc}")
        raise typer.Exit(1) from None


audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain; report the first broken entry."""
    from kith.audit import service as audit
    from kith.db.session import session_scope

    audit.configure(get_settings().secret_key, get_settings().effective_database_url)
    with session_scope() as session:
        checked, broken = audit.verify(session)
    if broken is not None:
        console.print(f"[red]audit log BROKEN at entry {broken}[/red] ({checked} entries before it verified)")
        raise typer.Exit(1)
    console.print(f"[green]audit log intact:[/green] {checked} entries verified")


@app.command()
def openapi() -> None:
    """Print the OpenAPI schema (the front end generates its API client from it)."""
    from kith.app import create_app

    sys.stdout.write(json.dumps(create_app().openapi(), ensure_ascii=False, indent=1))


if __name__ == "__main__":  # pragma: no cover
    app()
