"""The job queue (Huey): jobs enqueued after the transaction commits, one consumer command, cluster-wide periodic tasks.

Contract (other modules code against it):

    get_huey(settings=None) -> huey.Huey
        RedisHuey(url=KITH_REDIS_URL) when set, else SqliteHuey(filename=<data_dir>/jobs.db); one per process.
    enqueue(session, "package.module:function", *args, **kwargs) -> None
        Runs fn(session, *args, **kwargs) in a worker AFTER `session` commits (dropped if it rolls back). The runner opens a
        fresh session and commits it when fn returns. Arguments must be picklable (ids, strings, dicts - not ORM objects).
    PERIODIC: name -> (target, crontab); targets are fn(session, now) -> dict. Crontabs are read in KITH_TIMEZONE.

In the test environment (settings.environment == "test") jobs run synchronously right after the commit, on the committing
session's engine, so API tests see their effect when the request returns; `set_eager(False)` switches that off.
KITH_JOBS_EAGER=true/false overrides the default in any environment; KITH_JOBS_QUEUE names the queue.

Periodic tasks: every `kith worker` runs a scheduler, so with several workers each one enqueues each periodic task. A task
runs only after claiming its time slot (the latest minute matching its crontab) in the `job_leases` row of the shared
database: an atomic "UPDATE ... WHERE slot < :slot", so exactly one worker per slot runs it (see docs/adr/0011).
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import huey
from huey import crontab
from sqlalchemy import String, event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from kith.config import Settings, get_settings
from kith.db.base import Base

log = logging.getLogger("kith.jobs")

Schedule = Callable[[datetime], bool]

PERIODIC: dict[str, tuple[str, Schedule]] = {
    "deliver_due": ("kith.notifications.delivery:deliver_due", crontab(minute="*")),
    "reminder_scan": ("kith.reminders.service:run_scan", crontab(minute="*/15")),
    "pool_sweep": ("kith.pool.service:run_sweep", crontab(minute="0")),
    "weekly_summary": ("kith.reports.service:weekly_summary", crontab(minute="0", hour="8", day_of_week="1")),
    "import_resume": ("kith.imports.service:resume_stale", crontab(minute="*")),
}

RUN_JOB = "kith.run_job"
_PENDING = "kith_jobs_pending"

_settings: Settings | None = None
_eager_override: bool | None = None
_hueys: dict[tuple[str, ...], huey.Huey] = {}
_lock = threading.Lock()


class JobLease(Base):
    """One row per periodic task: the latest time slot a worker has claimed (and so run) it for."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    slot: Mapped[datetime] = mapped_column(nullable=False)
    holder: Mapped[str] = mapped_column(String(200), nullable=False)
    claimed_at: Mapped[datetime] = mapped_column(nullable=False)
    runs: Mapped[int] = mapped_column(nullable=False, default=0)


# ---------------------------------------------------------------- configuration

def configure(settings: Settings) -> None:
    """Remember the application's settings (called when the API app is built)."""
    global _settings
    _settings = settings


def current_settings() -> Settings:
    return _settings or get_settings()


def set_eager(value: bool | None) -> None:
    """Tests: True = run jobs right after commit, False = put them on the queue, None = the environment's default."""
    global _eager_override
    _eager_override = value


def is_eager(settings: Settings | None = None) -> bool:
    if _eager_override is not None:
        return _eager_override
    settings = settings or current_settings()
    if settings.jobs_eager is not None:
        return settings.jobs_eager
    return settings.environment == "test"


def get_huey(settings: Settings | None = None) -> huey.Huey:
    """The Huey instance for these settings (one per process), with the Kith tasks registered."""
    settings = settings or current_settings()
    name = settings.jobs_queue.strip() or "kith"
    if settings.redis_url:
        key = ("redis", settings.redis_url, name)
    else:
        key = ("sqlite", str((settings.data_dir / "jobs.db").resolve()), name)
    with _lock:
        return _hueys.get(key) or _create(key, settings, name)


def _create(key: tuple[str, ...], settings: Settings, name: str) -> huey.Huey:
    h: huey.Huey
    if settings.redis_url:
        h = huey.RedisHuey(name, url=settings.redis_url, results=False)
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        h = huey.SqliteHuey(name, filename=key[1], results=False, timeout=30)
    _register(h, settings)
    _hueys[key] = h
    return h


# ---------------------------------------------------------------- enqueue after commit

def enqueue(session: Session, target: str, *args: Any, **kwargs: Any) -> None:
    """Run `target` ("package.module:function") as fn(session, *args, **kwargs) in a worker after `session` commits."""
    if ":" not in target:
        raise ValueError(f"job target must be 'package.module:function', got {target!r}")
    if not session.in_transaction():
        session.begin()  # the job belongs to this transaction: its commit runs it, its rollback drops it
    session.info.setdefault(_PENDING, []).append((target, args, kwargs))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    settings = current_settings()
    if is_eager(settings):
        bind = session.get_bind()
        for target, args, kwargs in pending:
            try:
                run_job(target, args, kwargs, engine=bind)
            except Exception:  # noqa: BLE001 - as in a worker: the request that enqueued it has committed
                log.exception("job_failed target=%s", target)
        return
    h = get_huey(settings)
    for target, args, kwargs in pending:
        try:
            _run_job_task(h)(target, list(args), dict(kwargs))
        except Exception:  # noqa: BLE001 - the data is committed; a lost job is logged, the periodic scans catch up
            log.exception("job_enqueue_failed target=%s", target)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


# ---------------------------------------------------------------- running jobs

def resolve(target: str) -> Callable[..., Any]:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    fn = getattr(module, attr)
    if not callable(fn):
        raise TypeError(f"{target} is not callable")
    return fn


def run_job(target: str, args: Any = (), kwargs: dict[str, Any] | None = None, *, engine: Any = None) -> Any:
    """Run one job in a fresh session; commit when it returns, roll back when it raises."""
    from kith.db.session import get_engine, session_factory

    fn = resolve(target)
    session = session_factory(engine or get_engine(current_settings()))()
    try:
        result = fn(session, *args, **(kwargs or {}))
        session.commit()
        return result
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _run_job_task(h: huey.Huey) -> Any:
    return h._kith_run_job  # type: ignore[attr-defined]


def _local(schedule: Schedule, tz: str) -> Schedule:
    """A crontab read in the company's time zone (Huey hands us naive UTC)."""
    zone = ZoneInfo(tz)

    def validate(ts: datetime) -> bool:
        aware = ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)
        return schedule(aware.astimezone(zone).replace(tzinfo=None))

    return validate


def slot_for(schedule: Schedule, now: datetime, tz: str) -> datetime:
    """The latest minute <= now (UTC) that matches the crontab in `tz`; the minute of `now` when none in 8 days."""
    check = _local(schedule, tz)
    minute = now.astimezone(timezone.utc).replace(second=0, microsecond=0)
    probe = minute
    for _ in range(8 * 24 * 60):
        if check(probe):
            return probe
        probe -= timedelta(minutes=1)
    return minute


def claim(session: Session, name: str, slot: datetime, holder: str) -> bool:
    """Claim `slot` for periodic task `name`; True for exactly one caller per (name, slot) across the cluster."""
    from kith.core import clock

    now = clock.now()
    res = session.execute(update(JobLease).where(JobLease.name == name, JobLease.slot < slot)
                          .values(slot=slot, holder=holder, claimed_at=now, runs=JobLease.runs + 1))
    if res.rowcount == 1:
        session.commit()
        return True
    session.rollback()
    if session.scalar(select(JobLease.name).where(JobLease.name == name)) is not None:
        session.rollback()
        return False
    session.add(JobLease(name=name, slot=slot, holder=holder, claimed_at=now, runs=1))
    try:
        session.commit()
        return True
    except IntegrityError:
        session.rollback()
        return False


def run_periodic(name: str, *, engine: Any = None, now: datetime | None = None) -> dict[str, Any] | None:
    """Run periodic task `name` unless another worker already ran it for the current slot. None when skipped."""
    from kith.core import clock
    from kith.db.session import get_engine, session_factory

    target, schedule = PERIODIC[name]
    try:
        fn = resolve(target)
    except (ImportError, AttributeError, TypeError) as exc:
        log.warning("periodic_target_missing name=%s target=%s error=%s", name, target, exc)
        return None
    settings = current_settings()
    now = now or clock.now()
    slot = slot_for(schedule, now, settings.timezone)
    factory = session_factory(engine or get_engine(settings))
    holder = f"{socket.gethostname()}:{os.getpid()}"[:200]
    with factory() as s:
        if not claim(s, name, slot, holder):
            log.info("periodic_skipped name=%s slot=%s", name, slot.isoformat())
            return None
    session = factory()
    try:
        result = fn(session, now) or {}
        session.commit()
    except BaseException:
        session.rollback()
        log.exception("periodic_failed name=%s slot=%s", name, slot.isoformat())
        raise
    finally:
        session.close()
    log.info("periodic_ran name=%s slot=%s result=%s", name, slot.isoformat(), result)
    return result


def _register(h: huey.Huey, settings: Settings) -> None:
    @h.task(name=RUN_JOB)
    def _job(target: str, args: list[Any], kwargs: dict[str, Any]) -> None:
        run_job(target, args, kwargs)

    h._kith_run_job = _job  # type: ignore[attr-defined]

    for name, (_target, schedule) in PERIODIC.items():
        def _make(n: str) -> Callable[[], None]:
            def _periodic() -> None:
                run_periodic(n)
            _periodic.__name__ = f"periodic_{n}"
            return _periodic

        h.periodic_task(_local(schedule, settings.timezone), name=f"kith.periodic.{name}")(_make(name))
