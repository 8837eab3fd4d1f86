"""search: a trigram index for queries of three characters or more (ADR 0025, part 6)

- SQLite: an FTS5 table `<table>_fts_tri` (trigram tokenizer) over `search_text`, kept by triggers on the record
  table, so every write path — the ORM, the import's bulk inserts, rollbacks, loaders — keeps it without code of
  its own. A phrase query on it is a substring match.
- PostgreSQL: `pg_trgm` and a GIN index `ix_<table>_search_trgm (search_text gin_trgm_ops)`, which `LIKE '%…%'`
  uses directly.
Queries of one or two characters keep the 1/2-gram index of migration 0001.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 14:00:00
"""
from __future__ import annotations

from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

SEARCH_TABLES = ("customers", "contacts", "opportunities")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in SEARCH_TABLES:
            tri = f"{table}_fts_tri"
            op.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {tri} USING fts5(t, tokenize='trigram', columnsize=0)")
            op.execute(f"DELETE FROM {tri}")
            op.execute(f"INSERT INTO {tri}(rowid, t) SELECT id, search_text FROM {table}")
            op.execute(f"CREATE TRIGGER IF NOT EXISTS {tri}_ai AFTER INSERT ON {table} BEGIN "
                       f"INSERT INTO {tri}(rowid, t) VALUES (new.id, new.search_text); END")
            op.execute(f"CREATE TRIGGER IF NOT EXISTS {tri}_au AFTER UPDATE OF search_text ON {table} BEGIN "
                       f"DELETE FROM {tri} WHERE rowid = old.id; "
                       f"INSERT INTO {tri}(rowid, t) VALUES (new.id, new.search_text); END")
            op.execute(f"CREATE TRIGGER IF NOT EXISTS {tri}_ad AFTER DELETE ON {table} BEGIN "
                       f"DELETE FROM {tri} WHERE rowid = old.id; END")
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for table in SEARCH_TABLES:
            op.execute(f"CREATE INDEX IF NOT EXISTS ix_{table}_search_trgm ON {table} USING gin (search_text gin_trgm_ops)")
            op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in SEARCH_TABLES:
            tri = f"{table}_fts_tri"
            for suffix in ("ai", "au", "ad"):
                op.execute(f"DROP TRIGGER IF EXISTS {tri}_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {tri}")
    else:
        for table in SEARCH_TABLES:
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_search_trgm")
