"""Partial indexes for the lists people open all day (live records only).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LIVE = "deleted_at IS NULL"
INDEXES = [
    ("ix_customers_live_owner", "customers", "owner_id, id"),
    ("ix_customers_live_owner_updated", "customers", "owner_id, updated_at, id"),
    ("ix_customers_live_updated", "customers", "updated_at, id"),
    ("ix_customers_live_level", "customers", "level, id"),
    ("ix_customers_live_status", "customers", "status, id"),
    ("ix_contacts_live_owner", "contacts", "owner_id, id"),
    ("ix_opportunities_live_owner", "opportunities", "owner_id, id"),
    ("ix_opportunities_live_stage", "opportunities", "stage_id, id"),
    ("ix_contracts_live_owner", "contracts", "owner_id, id"),
    ("ix_followups_live_owner", "followups", "owner_id, id"),
]
PATTERN = [  # department subtree prefixes (PostgreSQL needs pattern ops under a non-C collation)
    ("ix_customers_live_dept", "customers"),
    ("ix_contacts_live_dept", "contacts"),
    ("ix_opportunities_live_dept", "opportunities"),
]


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    for name, table, cols in INDEXES:
        op.execute(f"CREATE INDEX {name} ON {table} ({cols}) WHERE {LIVE}")
    for name, table in PATTERN:
        cols = "department_path varchar_pattern_ops, id" if pg else "department_path, id"
        op.execute(f"CREATE INDEX {name} ON {table} ({cols}) WHERE {LIVE}")


def downgrade() -> None:
    for name, _table, _cols in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    for name, _table in PATTERN:
        op.execute(f"DROP INDEX IF EXISTS {name}")
