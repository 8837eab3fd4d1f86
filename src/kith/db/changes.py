"""Has the database changed? A cheap token for caches of query results (ADR 0025).

`token(session)` answers a value that differs whenever a commit may have happened since the last time the same
value was answered, from this process or any other; or None when the session's own transaction has written (its
uncommitted rows are visible to it and may be rolled back, so nothing it reads may be cached) or when the database
cannot tell.

* SQLite: `PRAGMA data_version` on a connection of its own that never writes. Its value changes whenever any other
  connection has committed since it was last asked: this process's pooled connections, other server processes,
  the job worker, a script with the sqlite3 shell.
* PostgreSQL: the WAL insert position, which every commit moves forward (so do checkpoints and vacuum: a spurious
  change costs a recount, never a stale answer), and `pg_current_xact_id_if_assigned()` tells whether the
  transaction has written.

The cost is one `PRAGMA` (microseconds) or one round trip, against a count that reads up to 10,000 rows.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any

from sqlalchemy.orm import Session

# PostgreSQL: the token's two columns (the WAL position; this transaction's id if it has written). Also read by the
# request's first query on read-only endpoints (kith.access.actor, ADR 0027), which saves `token()` its round trip.
CHANGES_TOKEN_SQL = "CAST(pg_current_wal_insert_lsn() AS TEXT), CAST(pg_current_xact_id_if_assigned() AS TEXT)"
# PostgreSQL: a digest of every custom-field definition row, whole (any column, any row, however it was changed)
CUSTOM_FIELDS_DIGEST_SQL = "(SELECT md5(coalesce(string_agg(CAST(cf AS TEXT), '|' ORDER BY cf.id), '')) FROM custom_fields cf)"

_lock = threading.Lock()
_observers: dict[str, tuple[int, sqlite3.Connection]] = {}


def _sqlite_version(path: str) -> Any:
    with _lock:
        hit = _observers.get(path)
        if hit is None or hit[0] != os.getpid():  # opened before a fork: that connection belongs to the parent
            observer = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
            hit = (os.getpid(), observer)
            _observers[path] = hit
        return (id(hit[1]), hit[1].execute("PRAGMA data_version").fetchone()[0])


def close_observers() -> None:
    """Close this process's observer connections (kith.db.session.dispose_engines)."""
    with _lock:
        for pid, observer in _observers.values():
            if pid == os.getpid():
                observer.close()
        _observers.clear()


def token(session: Session) -> Any:
    conn = session.connection()
    name = conn.dialect.name
    if name == "sqlite":
        dbapi = conn.connection.dbapi_connection
        path = conn.engine.url.database
        if dbapi is None or dbapi.in_transaction or not path or path == ":memory:" or path.startswith("file:"):
            return None  # pysqlite BEGINs before the first write: this transaction has written
        return _sqlite_version(path)
    if name == "postgresql":
        # a read-only request read it at its start (its session runs in autocommit and never writes)
        start = session.info.get("changes_token_at_start") if session.info.get("read_only") else None
        lsn, xid = start if start is not None else conn.exec_driver_sql(f"SELECT {CHANGES_TOKEN_SQL}").one()
        return None if xid is not None else lsn
    return None
