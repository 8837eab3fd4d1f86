"""The job queue: after-commit enqueueing, real `kith worker` consumers on SQLite and on Redis, periodic tasks once per cluster."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kith.core import jobs
from kith.notifications.models import Delivery, Notification

TESTS = Path(__file__).resolve().parent
KITH = Path(sys.executable).parent / "kith"
REDIS_URL = os.environ.get("KITH_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


# ---------------------------------------------------------------- helpers shared with test_delivery.py

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1:port, started and stopped by the test."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.messages: list = []
        self.controller = None

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        self.messages.append(envelope)
        return "250 OK"

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m.rcpt_tos]

    @staticmethod
    def text(envelope) -> str:
        """Subject and plain-text body of a received message, decoded."""
        from email import message_from_bytes, policy

        msg = message_from_bytes(envelope.content, policy=policy.default)
        return f"{msg['subject']}\n{msg.get_content()}"


@pytest.fixture()
def smtp():
    sink = SmtpSink()
    yield sink
    sink.stop()


@pytest.fixture()
def job_settings(settings, monkeypatch):
    """The app's settings made current for kith.core.jobs; attributes may be monkeypatched per test."""
    monkeypatch.setattr(jobs, "_settings", settings)
    jobs.set_eager(None)
    yield settings
    jobs.set_eager(None)


def use_queue(monkeypatch, settings, redis_url: str | None) -> str:
    """Switch this test process to a real queue (no inline jobs), named uniquely so parallel runs never collide."""
    queue = f"kith-test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setattr(settings, "redis_url", redis_url)
    monkeypatch.setattr(settings, "jobs_queue", queue)
    jobs.set_eager(False)
    return queue


class Worker:
    """A real `kith worker` subprocess on the test database."""

    def __init__(self, settings, queue: str, *, redis_url: str | None = None, periodic: bool = False, workers: int = 2,
                 env: dict[str, str] | None = None) -> None:
        self.log = Path(settings.data_dir) / f"worker-{uuid.uuid4().hex[:8]}.log"
        full = {k: v for k, v in os.environ.items() if not k.startswith("KITH_")}
        full.update({
            "KITH_DATABASE_URL": settings.effective_database_url, "KITH_DATA_DIR": str(Path(settings.data_dir).resolve()),
            "KITH_SECRET_KEY": settings.secret_key, "KITH_ENVIRONMENT": "test", "KITH_JOBS_EAGER": "false",
            "KITH_JOBS_QUEUE": queue, "KITH_LOG_LEVEL": "INFO", "KITH_TIMEZONE": settings.timezone,
            "PYTHONPATH": os.pathsep.join([str(TESTS), full.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        })
        if redis_url:
            full["KITH_REDIS_URL"] = redis_url
        full.update(env or {})
        cmd = [str(KITH), "worker", "--workers", str(workers), "--periodic" if periodic else "--no-periodic"]
        self.proc = subprocess.Popen(cmd, cwd=settings.data_dir, env=full, stdout=subprocess.DEVNULL,
                                     stderr=self.log.open("w"))

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(2)  # SIGINT: graceful shutdown
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def wait_for(predicate, timeout: float = 45.0, what: str = "condition", worker: Worker | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if worker is not None and worker.proc.poll() is not None:
            raise AssertionError(f"the worker exited ({worker.proc.returncode}) waiting for {what}:\n{worker.text()[-3000:]}")
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}" + (f"\nworker log:\n{worker.text()[-3000:]}" if worker else ""))


def count_notifications(engine, user_id: int) -> int:
    from kith.db.session import session_factory

    with session_factory(engine)() as s:
        return s.scalar(select(func.count()).select_from(Notification).where(Notification.user_id == user_id)) or 0


# ---------------------------------------------------------------- after commit, never on rollback

def test_job_runs_after_commit_and_is_dropped_on_rollback(world, db, engine, job_settings):
    uid = world.users["rep_north"]
    jobs.enqueue(db, "kith.notifications.service:notify", [uid], "approval_approved", {"customer_id": 1, "expires": "x"})
    assert count_notifications(engine, uid) == 0  # not before the commit
    db.rollback()
    db.commit()  # a later commit of the same session must not run the dropped job
    assert count_notifications(engine, uid) == 0

    jobs.enqueue(db, "kith.notifications.service:notify", [uid], "approval_approved", {"customer_id": 1, "expires": "x"})
    db.commit()  # test environment: the job ran right after the commit, in its own committed session
    assert count_notifications(engine, uid) == 1
    db.commit()
    assert count_notifications(engine, uid) == 1  # and only once


def test_a_failing_job_does_not_undo_the_commit(world, db, engine, job_settings):
    from kith.auth.models import User

    user = db.get(User, world.users["rep_north"])
    user.display_name = "改名成功"
    jobs.enqueue(db, "kith.no_such_module:fn")
    db.commit()
    db.expire_all()
    assert db.get(User, world.users["rep_north"]).display_name == "改名成功"


def test_bad_target_is_refused_at_enqueue(db, job_settings):
    with pytest.raises(ValueError):
        jobs.enqueue(db, "kith.notifications.service.notify")


def test_eager_off_puts_the_job_on_the_queue(world, db, engine, job_settings, monkeypatch):
    use_queue(monkeypatch, job_settings, None)
    uid = world.users["rep_north"]
    h = jobs.get_huey(job_settings)
    assert isinstance(h, __import__("huey").SqliteHuey)
    assert Path(h.storage.filename) == (Path(job_settings.data_dir) / "jobs.db").resolve()
    jobs.enqueue(db, "kith.notifications.service:notify", [uid], "approval_approved", {"customer_id": 1, "expires": "x"})
    db.commit()
    assert h.pending_count() == 1
    assert count_notifications(engine, uid) == 0  # waiting for a worker
    h.flush()


# ---------------------------------------------------------------- real workers

def _set_emails(db, world) -> None:
    from kith.auth.models import User

    for username, uid in world.users.items():
        db.get(User, uid).email = f"{username}@example.com"
    db.commit()


def _worker_delivers_an_email_enqueued_through_the_api(api, world, db, job_settings, smtp, monkeypatch, redis_url):
    smtp.start()
    monkeypatch.setattr(job_settings, "smtp_host", "127.0.0.1")
    monkeypatch.setattr(job_settings, "smtp_port", smtp.port)
    queue = use_queue(monkeypatch, job_settings, redis_url)
    _set_emails(db, world)
    customer = api.customer(user="rep_north")
    r = api.post("/access-requests", {"customer_id": customer["id"], "reason": "客户在华东设厂，需要协同跟进"}, user="rep_east")
    assert r.status_code == 201, r.text
    approvers = list(db.scalars(select(Notification.user_id).where(Notification.kind == "approval_requested")))
    assert approvers
    rows = list(db.scalars(select(Delivery).where(Delivery.channel == "email")))
    assert rows and {d.status for d in rows} == {"pending"} and {d.attempts for d in rows} == {0}
    assert smtp.messages == []  # the request only enqueued the job
    h = jobs.get_huey(job_settings)
    assert h.pending_count() >= 1
    worker = Worker(job_settings, queue, redis_url=redis_url, env={"KITH_SMTP_HOST": "127.0.0.1", "KITH_SMTP_PORT": str(smtp.port)})
    try:
        wait_for(lambda: len(smtp.messages) >= len(rows), what="the e-mail", worker=worker)
        db.expire_all()
        wait_for(lambda: (db.expire_all(), {d.status for d in db.scalars(select(Delivery))})[1] == {"delivered"},
                 what="the outbox row delivered", worker=worker)
        for d in db.scalars(select(Delivery)):
            assert d.attempts == 1 and d.delivered_at is not None
        assert h.pending_count() == 0
    finally:
        worker.stop()
        h.flush()
    got = sorted(rcpt for m in smtp.messages for rcpt in m.rcpt_tos)
    from kith.auth.models import User
    assert got == sorted(db.get(User, uid).email for uid in approvers)  # each approver exactly once
    body = smtp.messages[0].content.decode()
    assert "Subject:" in body


def test_real_worker_on_sqlite_processes_a_job_enqueued_through_the_api(api, world, db, job_settings, smtp, monkeypatch):
    _worker_delivers_an_email_enqueued_through_the_api(api, world, db, job_settings, smtp, monkeypatch, None)


def test_real_worker_on_redis_processes_a_job_enqueued_through_the_api(api, world, db, job_settings, smtp, monkeypatch):
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:  # pragma: no cover - the machine runs Redis
        pytest.fail(f"Redis at {REDIS_URL} does not answer: {exc}")
    _worker_delivers_an_email_enqueued_through_the_api(api, world, db, job_settings, smtp, monkeypatch, REDIS_URL)
    assert isinstance(jobs.get_huey(job_settings), __import__("huey").RedisHuey)


# ---------------------------------------------------------------- periodic tasks: once per slot, per cluster

def test_periodic_task_runs_once_per_slot(world, engine, job_settings):
    t = datetime(2026, 11, 25, 4, 30, 10, tzinfo=timezone.utc)
    assert jobs.run_periodic("deliver_due", engine=engine, now=t) == {}
    assert jobs.run_periodic("deliver_due", engine=engine, now=t + timedelta(seconds=30)) is None  # same minute: skipped
    assert jobs.run_periodic("deliver_due", engine=engine, now=t + timedelta(minutes=1)) == {}
    with engine.connect() as conn:
        lease = conn.execute(select(jobs.JobLease.runs, jobs.JobLease.slot)).one()
    assert lease.runs == 2


def test_missing_periodic_target_is_logged_and_skipped(world, engine, job_settings, monkeypatch, caplog):
    monkeypatch.setitem(jobs.PERIODIC, "not_yet", ("kith.not_written_yet.service:run", jobs.crontab()))
    assert jobs.run_periodic("not_yet", engine=engine) is None
    assert "periodic_target_missing" in caplog.text


def test_weekly_schedule_is_read_in_the_company_time_zone(job_settings):
    _target, schedule = jobs.PERIODIC["weekly_summary"]
    # Monday 2026-11-30 08:00 in Asia/Shanghai is 00:00 UTC
    monday = datetime(2026, 11, 30, 0, 0, tzinfo=timezone.utc)
    assert jobs._local(schedule, "Asia/Shanghai")(monday.replace(tzinfo=None))
    assert not jobs._local(schedule, "UTC")(monday.replace(tzinfo=None))
    assert jobs.slot_for(schedule, monday + timedelta(hours=5), "Asia/Shanghai") == monday
    assert jobs.slot_for(jobs.PERIODIC["reminder_scan"][1], datetime(2026, 11, 25, 4, 44, 59, tzinfo=timezone.utc),
                         "Asia/Shanghai") == datetime(2026, 11, 25, 4, 30, tzinfo=timezone.utc)


def test_two_workers_run_a_periodic_task_once(world, db, job_settings, monkeypatch):
    queue = use_queue(monkeypatch, job_settings, None)
    if datetime.now().second >= 40:  # both schedulers must fire within the same minute
        time.sleep(61 - datetime.now().second)
    workers = [Worker(job_settings, queue, periodic=True, workers=2) for _ in range(2)]
    try:
        def decided() -> bool:
            text = "".join(w.text() for w in workers)
            return text.count("name=deliver_due") >= 2 and all("Enqueueing periodic task" in w.text() for w in workers)

        wait_for(decided, what="both workers to schedule deliver_due", worker=workers[0])
        time.sleep(1)
    finally:
        for w in workers:
            w.stop()
        jobs.get_huey(job_settings).flush()
    text = "".join(w.text() for w in workers)
    assert text.count("periodic_ran name=deliver_due") == 1, text[-4000:]
    assert text.count("periodic_skipped name=deliver_due") == 1, text[-4000:]
    db.expire_all()
    lease = db.get(jobs.JobLease, "deliver_due")
    assert lease is not None and lease.runs == 1

