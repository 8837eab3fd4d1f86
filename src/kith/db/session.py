"""Engine and session factory; SQLite in WAL mode with foreign keys on."""

from __future__ import annotations

import json
import re
import select as _select
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from kith.config import Settings, get_settings

_engines: dict[str, Engine] = {}


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA cache_size=-65536")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def _alive_on_checkout(dbapi_conn, _record, _proxy) -> None:
    """A pooled PostgreSQL connection is alive unless the server has written to it while it sat idle.

    Between requests nothing is owed to an idle connection (Kith never LISTENs, and every result is read to the
    end), so a readable socket means the server closed it or is closing it: a restart, an idle timeout,
    pg_terminate_backend (each sends a FATAL error, then EOF). Checking that is a non-blocking poll of the socket
    instead of SQLAlchemy's pre-ping round trip (one of the five round trips of a detail request, ADR 0027).
    DisconnectionError makes the pool replace the connection and check out again. A connection whose peer vanished
    without a word (a cut network) passes; its first statement then fails, and SQLAlchemy invalidates it."""
    if dbapi_conn.closed or dbapi_conn.broken:
        raise exc.DisconnectionError("connection closed")
    try:
        readable, _, _ = _select.select([dbapi_conn.fileno()], [], [], 0)
    except (OSError, ValueError) as err:
        raise exc.DisconnectionError(f"connection socket unusable: {err}") from err
    if readable:
        raise exc.DisconnectionError("the server wrote to an idle connection (closed or closing)")


_LONG_DIGITS = re.compile(rb"[0-9]{19}")


def json_loads(data: str | bytes) -> object:
    """JSON columns (custom fields, tags, audit changes …) parsed by orjson: ~5x the standard library's speed, and a
    20-record page reads ~20 of them (ADR 0028). orjson reads integers beyond 64 bits as floats; a document with a
    run of 19+ digits anywhere (even inside a string) goes to the standard parser instead, so no number changes."""
    raw = data.encode() if isinstance(data, str) else data
    if _LONG_DIGITS.search(raw) is None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # let the standard parser decide and word the error
    return json.loads(data)


def _utc_sessions(dbapi_conn, _record) -> None:
    """Sessions in UTC: psycopg then returns times in `datetime.timezone.utc`, which UTCDateTime and the serialisers
    pass through as is; under a named zone (a server default of Etc/UTC or Asia/Shanghai) every time value was built
    with a ZoneInfo and converted back (ADR 0028). No query depends on the session's zone: reports name theirs
    (AT TIME ZONE). A statement on each new connection, not a connection option, so that options from the URL,
    PGOPTIONS or a service file all still apply."""
    autocommit = dbapi_conn.autocommit
    dbapi_conn.autocommit = True
    try:
        dbapi_conn.execute("SET TIME ZONE 'UTC'")
    finally:
        dbapi_conn.autocommit = autocommit


def make_engine(url: str, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # A pool as large as PostgreSQL's: the default (5 + 10 overflow) closes every overflow connection on
        # return, so under 16 concurrent requests most requests opened a fresh connection (pragmas, and a
        # cold 64 MB page cache each time).
        pool = {"pool_size": 20, "max_overflow": 20} if path and path != ":memory:" else {}  # (memory: one connection)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30},
                               json_deserializer=json_loads, **pool)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        # Search statements carry their values in the SQL (kith.search.index._value): psycopg's prepared statements
        # and PostgreSQL's generic plans serve everything else (ADR 0027; before, plan_cache_mode=force_custom_plan
        # planned every statement on every run, ADR 0025).
        engine = create_engine(url, echo=echo, pool_size=20, max_overflow=20, json_deserializer=json_loads)
        event.listen(engine, "connect", _utc_sessions)
        event.listen(engine, "checkout", _alive_on_checkout)
    return engine


def get_engine(settings: Settings | None = None) -> Engine:
    settings = settings or get_settings()
    url = settings.effective_database_url
    if url not in _engines:
        _engines[url] = make_engine(url, echo=settings.sql_echo)
    return _engines[url]


def dispose_engines() -> None:
    from kith.db import changes

    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
    _factories.clear()
    changes.close_observers()


_factories: dict[int, tuple[Engine, sessionmaker[Session]]] = {}


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """One sessionmaker per engine (requests ask for it every time)."""
    hit = _factories.get(id(engine))
    if hit is not None and hit[0] is engine:
        return hit[1]
    import kith.db.models  # noqa: F401  (every model mapped, search listeners registered)

    factory = sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)
    _factories[id(engine)] = (engine, factory)
    return factory


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A unit of work outside a request (CLI, jobs): commit on success, roll back on error."""
    session = session_factory(engine or get_engine())()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
