"""report speed 5: the pool report's events and the customer scope it joins, both index-only (ADR 0017, part 5)

- `ix_events_live_pool`: the pool events (returned, released, claimed) by time, with their customer and type; a few
  tens of thousands of rows among millions of events.
- `ix_customers_live_scope_cover` (PostgreSQL): a live customer's scope columns by id, so joining a period's pool
  events to their customers is an index-only nested loop instead of hashing every customer.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 11:00:00
"""
from __future__ import annotations

from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

POOL_TYPES = "('pool_returned', 'pool_released', 'pool_claimed')"  # kith.reports.service POOL_INFLOW + POOL_CLAIM


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX IF NOT EXISTS ix_events_live_pool ON events (occurred_at) INCLUDE (customer_id, type) "
                   f"WHERE type IN {POOL_TYPES}")
        op.execute("CREATE INDEX IF NOT EXISTS ix_customers_live_scope_cover ON customers (id) "
                   "INCLUDE (owner_id, department_path, pool_entered_at) WHERE deleted_at IS NULL")
        op.execute("ANALYZE events")
        op.execute("ANALYZE customers")
    else:
        op.execute(f"CREATE INDEX IF NOT EXISTS ix_events_live_pool ON events (occurred_at, customer_id, type) WHERE type IN {POOL_TYPES}")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_customers_live_scope_cover")
    op.execute("DROP INDEX IF EXISTS ix_events_live_pool")
