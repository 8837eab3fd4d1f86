"""Engine and session factory; SQLite in WAL mode with foreign keys on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
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


def make_engine(url: str, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # A pool as large as PostgreSQL's: the default (5 + 10 overflow) closes every overflow connection on
        # return, so under 16 concurrent requests most requests opened a fresh connection (pragmas, and a
        # cold 64 MB page cache each time).
        pool = {"pool_size": 20, "max_overflow": 20} if path and path != ":memory:" else {}  # (memory: one connection)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}, **pool)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        # psycopg prepares a statement on the server after its 5th execution, and PostgreSQL then plans it once for
        # any value ("generic plan"). For a search that plan walks the primary key backwards testing every row
        # (48 ms for a rare word instead of 6 ms through the trigram index, ADR 0025): plan every execution for
        # the values it has, as without prepared statements, and keep only the saved parsing.
        engine = create_engine(url, echo=echo, pool_size=20, max_overflow=20, pool_pre_ping=True,
                               connect_args={"options": "-c plan_cache_mode=force_custom_plan"})
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
