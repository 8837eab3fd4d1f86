"""The `kith` command line."""

from __future__ import annotations

import getpass
import json
import sys
from typing import Optional

import typer
from rich.console import Console

from kith.config import get_settings

app = typer.Typer(help="Kith CRM: serve, worker, migrate, init, demo, createuser, check.", no_args_is_help=True, add_completion=False)
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
    host, port = host or settings.host, port or settings.port
    if workers > 1 and not reload:
        _serve_processes(host, port, workers)
        return
    uvicorn.run(
        "kith.app:create_app", factory=True, host=host, port=port,
        workers=workers, reload=reload, timeout_graceful_shutdown=20, log_level="warning", access_log=False,
    )


def _serve_one(sock: object, counts: object, index: int) -> None:
    """One of N server processes sharing a listening socket, balanced by least connections (kith.ops.balance)."""
    import uvicorn

    from kith.ops.balance import BalancedServer

    config = uvicorn.Config("kith.app:create_app", factory=True, timeout_graceful_shutdown=20, log_level="warning",
                            access_log=False)
    BalancedServer(config, sock, counts, index).run()  # type: ignore[arg-type]


def _serve_processes(host: str, port: int, workers: int) -> None:
    """N server processes on one listening socket, each accepting only while it holds no more connections than
    the least busy of them. uvicorn's own workers let whichever process is idle accept a whole burst: 16
    keep-alive clients ended up 11/5, 15/1 and 2/14 on two processes, one core idle (ADR 0025).
    SIGTERM / SIGINT go to every process, each shuts down gracefully; if one dies, the others are stopped."""
    import multiprocessing
    import os
    import signal
    import socket
    import time

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        console.print(f"[red]cannot listen on {host}:{port}: {exc}[/red]")
        raise typer.Exit(1) from None
    sock.listen(2048)
    ctx = multiprocessing.get_context("spawn")
    counts = ctx.Array("i", workers, lock=False)  # open connections per process, in shared memory
    procs = [ctx.Process(target=_serve_one, args=(sock, counts, i), name=f"kith-serve-{i}") for i in range(workers)]
    for p in procs:
        p.start()
    sock.close()  # the children have their own copies
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for p in procs:
            if p.is_alive() and p.pid is not None:
                os.kill(p.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = 0
    while any(p.is_alive() for p in procs):
        for p in procs:
            p.join(timeout=0.2)
            if not p.is_alive() and not stopping:
                console.print(f"[red]{p.name} exited ({p.exitcode}); stopping the others[/red]")
                code = 1
                stop(signal.SIGTERM, None)
        time.sleep(0.05)
    raise typer.Exit(code)


@app.command()
def worker(
    workers: int = typer.Option(2, "--workers", "-w", min=1, max=64, help="worker threads running jobs"),
    periodic: bool = typer.Option(True, "--periodic/--no-periodic", help="also schedule the periodic tasks "
                                  "(each runs once per cluster even with several workers)"),
) -> None:
    """Run the job queue consumer (Huey: Redis when KITH_REDIS_URL is set, else SQLite under the data directory)."""
    import logging

    from kith.core import jobs

    settings = get_settings()
    problems = settings.check_production()
    if problems:
        for p in problems:
            console.print(f"[red]refusing to start:[/red] {p}")
        raise typer.Exit(2)
    logging.basicConfig(level=getattr(logging, settings.log_level.upper(), logging.INFO), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    jobs.configure(settings)
    huey = jobs.get_huey(settings)
    where = settings.redis_url.split("@")[-1] if settings.redis_url else str(settings.data_dir / "jobs.db")
    console.print(f"[green]Kith worker:[/green] {workers} thread(s), queue {huey.name!r} on {where}, "
                  f"periodic tasks {'on' if periodic else 'off'}")
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=periodic, check_worker_health=True)
    consumer.run()


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


@app.command("import")
def import_cmd(
    file: str = typer.Argument(..., help="an xlsx, xls or csv file"),
    kind: str = typer.Option("customer", "--kind", help="customer | contact | opportunity | followup"),
    sheet: Optional[str] = typer.Option(None, "--sheet", help="the sheet to read (default: the first)"),
    mapping_template: Optional[str] = typer.Option(None, "--mapping-template", help="a saved mapping template (name or id)"),
    as_user: str = typer.Option("admin", "--as", help="the importing user (their rights apply; they own the records)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="analyse and report the counts; write nothing"),
    merge: bool = typer.Option(False, "--merge", help="merge rows into existing records that match with a score >= 0.9"),
    resume: Optional[int] = typer.Option(None, "--resume", help="resume an interrupted batch by its id"),
) -> None:
    """Import a spreadsheet as one batch (backup first on SQLite) with a progress bar; prints the counts."""
    from pathlib import Path

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from sqlalchemy import or_, select

    from kith.access import load_actor
    from kith.auth.models import User
    from kith.core import jobs
    from kith.core.errors import KithError
    from kith.db.session import get_engine, session_factory
    from kith.imports import service
    from kith.imports.models import ImportBatch, ImportTemplate

    settings = get_settings()
    jobs.configure(settings)
    session = session_factory(get_engine())()
    session.info["audit"] = {"ip": None, "user_agent": "kith-cli", "request_id": None}
    try:
        user = session.scalar(select(User).where(User.username == as_user))
        if user is None or not user.is_active:
            console.print(f"[red]no active user {as_user!r}[/red]")
            raise typer.Exit(1)
        actor = load_actor(session, user)
        session.info["audit"].update({"actor_id": user.id, "actor_name": user.display_name})
        try:
            if resume is not None:
                batch = service.visible_batch(session, actor, resume)
                if batch.status == "running" and service.runner_alive(batch):
                    console.print(f"[red]batch {batch.id} is running elsewhere[/red]")
                    raise typer.Exit(1)
                batch.status, batch.runner = "running", None
                session.commit()
            else:
                template_id = None
                if mapping_template:
                    tpl = session.scalar(select(ImportTemplate).where(
                        ImportTemplate.created_by_id == user.id, ImportTemplate.kind == kind,
                        or_(ImportTemplate.name == mapping_template,
                            ImportTemplate.id == (int(mapping_template) if mapping_template.isdigit() else -1))))
                    if tpl is None:
                        console.print(f"[red]no mapping template {mapping_template!r}[/red]")
                        raise typer.Exit(1)
                    template_id = tpl.id
                path = Path(file)
                batch = service.create_batch(session, actor, file_name=path.name, data=path.read_bytes(), kind=kind, sheet=sheet,
                                             template_id=template_id)
                mapped = [f"{e['header']} → {e['field']}" for e in batch.mapping if e["field"]]
                console.print(f"batch {batch.id}: sheet {batch.sheet!r}, header row {batch.header_row}; " + ", ".join(mapped))
                if merge:
                    batch.options = {**batch.options, "rules": {**service.DEFAULT_RULES, "existing": "merge", "min_score": 0.9}}
                counts = service.analyse(session, actor, batch)
                console.print(f"analysed {counts['total']} rows: {counts['valid']} valid, {counts['rejected']} rejected, "
                              f"{counts['duplicates']} with duplicate candidates")
                if dry_run:
                    session.rollback()
                    service.Path(batch.file_path).unlink(missing_ok=True)
                    return
                batch.status = "running"
                session.commit()
            batch_id = batch.id
            print(f"batch_id={batch_id}", flush=True)
            with Progress(TextColumn("[bold]importing[/bold]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=console) as bar:
                task = bar.add_task("import", total=batch.total_rows or 1)
                result = service.run_batch(session, batch_id, progress=lambda done, total: bar.update(task, completed=done, total=total or 1))
            session.expire_all()
            batch = session.get(ImportBatch, batch_id)
            if not result.get("claimed"):
                console.print(f"[red]batch {batch_id} is being run by {batch.runner}[/red]")
                raise typer.Exit(1)
            console.print(f"batch {batch_id} {batch.status}: " + ", ".join(f"{k} {v}" for k, v in (batch.counts or {}).items()))
            sys.stdout.write(json.dumps({"batch_id": batch_id, "status": batch.status, "counts": batch.counts}) + "\n")
            if batch.status != "done":
                raise typer.Exit(1)
        except KithError as exc:
            session.rollback()
            fields = "; ".join(f"{f.field}: {f.code}" for f in exc.fields)
            console.print(f"[red]{exc.code}[/red] {fields}")
            raise typer.Exit(1) from None
    finally:
        session.close()


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
