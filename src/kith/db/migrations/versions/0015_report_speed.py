"""report speed: exact customer-count rollup and covering indexes for the report scans (ADR 0017)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-25 13:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kith.db.base

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

LIVE = "deleted_at IS NULL"
# PostgreSQL only (INCLUDE): index-only scans of a period for the scope columns. Named *_live_* so the
# schema comparison (kith.db.migrate.include_object) leaves them alone.
PG_COVERING = [
    ("ix_customers_live_created_cover", "customers", "created_at",
     "owner_id, department_path, pool_entered_at, source, industry, province"),
    ("ix_customers_live_followup_cover", "customers", "last_followup_at", "owner_id, department_path, pool_entered_at"),
    ("ix_followups_live_occurred_cover", "followups", "occurred_at", "owner_id, department_path, customer_id"),
    ("ix_opportunities_live_closed_cover", "opportunities", "closed_at",
     "status, owner_id, department_path, amount, created_at"),
]


def upgrade() -> None:
    op.create_table('report_customer_counts',
    sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('department_path', sa.String(length=255), nullable=False),
    sa.Column('pooled', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('filled', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('owner_id', 'department_path', 'pooled', 'filled', name=op.f('pk_report_customer_counts'))
    )
    bind = op.get_bind()
    # the counts of the existing customers (the same expression the flush listener uses)
    from kith.reports.rollup import rebuild

    rebuild(bind)
    if bind.dialect.name == "postgresql":
        for name, table, key, include in PG_COVERING:
            op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({key}) INCLUDE ({include}) WHERE {LIVE}")
        # fresh statistics (columns added by earlier migrations have none until the next ANALYZE, and the
        # planner then takes `pool_entered_at IS NULL` for 0.5 % of the table)
        for table in ("customers", "followups", "opportunities", "report_customer_counts"):
            op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, _t, _k, _i in PG_COVERING:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_table('report_customer_counts')


_ = kith.db.base
