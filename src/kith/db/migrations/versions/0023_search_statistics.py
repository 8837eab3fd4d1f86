"""search: PostgreSQL keeps finer statistics of the search columns (ADR 0027)

A search of three characters or more is `search_text LIKE '%…%'` (served by the pg_trgm GIN index, migration 0021).
With the default statistics target (100) PostgreSQL blends its histogram with a fixed guess of ~2 % of the rows for
such a pattern, so a rare word ("cqhx": 36 of 100,000 customers) was estimated at 2,023 rows and the first page was
read by walking the primary key backwards through 58,000 rows (150–335 ms) instead of through the index (0.5 ms).
From a histogram of 1,000 entries PostgreSQL uses the histogram alone; the estimates then follow the data, common
words still walk the key (they find a page quickly) and rare ones use the index. `search_names` (the recheck when a
searchable field is hidden, migration 0022) gets the same. SQLite plans its search through the FTS tables and has
nothing to change here.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 16:50:00
"""
from __future__ import annotations

from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

SEARCH_TABLES = ("customers", "contacts", "opportunities")
COLUMNS = ("search_text", "search_names")
TARGET = 1000


def _set(target: int) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in SEARCH_TABLES:
        for column in COLUMNS:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS {target}")
        op.execute(f"ANALYZE {table} ({', '.join(COLUMNS)})")


def upgrade() -> None:
    _set(TARGET)


def downgrade() -> None:
    _set(-1)  # back to the server's default_statistics_target
