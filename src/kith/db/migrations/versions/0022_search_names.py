"""search: `search_names`, the values of a record's name alone (ADR 0026)

A caller with a searchable field hidden (a customer's phone, a contact's mobile, an opportunity's next action, …)
must not find records by it: their search is the index's condition rechecked with `search_names LIKE '%…%'`. The
column holds `search_values([name])` joined by spaces (name, pinyin, initials), as kith.search.index.refresh keeps
it; the backfill here uses the same function, in keyset batches of BATCH rows, on both databases. No index of its
own: the recheck runs on the candidates the search index finds.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

SEARCH_TABLES = ("customers", "contacts", "opportunities")
BATCH = 5000


def backfill(bind: sa.Connection, table_name: str, batch: int = BATCH) -> int:
    """search_names of every row of `table_name` from its name, with the function the ORM listener uses, a keyset page
    of `batch` rows at a time. SQLite: one executemany per page. PostgreSQL: one UPDATE … FROM unnest(ids, values) per
    page (an executemany there is a statement per row: 2.5× slower at 100,000 customers). Returns the rows done."""
    from kith.core.normalize import search_values

    t = sa.table(table_name, sa.column("id"), sa.column("name"), sa.column("search_names"))
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        stmt = sa.text(f"UPDATE {table_name} AS t SET search_names = d.n "
                       "FROM unnest(CAST(:ids AS bigint[]), CAST(:names AS text[])) AS d(id, n) WHERE t.id = d.id")
    else:
        stmt = sa.update(t).where(t.c.id == sa.bindparam("b_id")).values(search_names=sa.bindparam("b_names"))
    after, done = None, 0
    while True:
        page = sa.select(t.c.id, t.c.name).order_by(t.c.id).limit(batch)
        if after is not None:
            page = page.where(t.c.id > after)
        rows = bind.execute(page).all()
        if not rows:
            return done
        names = [" ".join(search_values([name])) for _, name in rows]
        if postgres:
            bind.execute(stmt, {"ids": [r[0] for r in rows], "names": names})
        else:
            bind.execute(stmt, [{"b_id": r[0], "b_names": n} for r, n in zip(rows, names)])
        after, done = rows[-1][0], done + len(rows)


def upgrade() -> None:
    bind = op.get_bind()
    for table in SEARCH_TABLES:
        op.add_column(table, sa.Column('search_names', sa.Text(), nullable=True))
    for table in SEARCH_TABLES:
        backfill(bind, table)
        if bind.dialect.name == "postgresql":
            op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    for table in SEARCH_TABLES:
        op.drop_column(table, 'search_names')
