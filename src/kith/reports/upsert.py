"""What the report rollups (customer counts, stage days, follow-up days) share: adding deltas to their counters and
knowing whether the table exists yet."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete


def add_deltas(conn: Any, table: Any, keys: list[str], sums: list[str], rows: list[dict[str, Any]], emptied: bool) -> None:
    """`sums += row` per key (an upsert); with `emptied`, groups whose count `n` fell to 0 go."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c[k] for k in keys],
                                      set_={c: table.c[c] + stmt.excluded[c] for c in sums})
    conn.execute(stmt, rows)
    if emptied:
        conn.execute(delete(table).where(table.c.n == 0))


def table_present(conn: Any, name: str) -> bool:
    """False on a database not migrated that far yet; only a positive answer is remembered (per connection)."""
    flag = f"kith_table_{name}"
    if conn.info.get(flag):
        return True
    from sqlalchemy import inspect as sa_inspect

    found = sa_inspect(conn).has_table(name)
    if found:
        conn.info[flag] = True
    return found
