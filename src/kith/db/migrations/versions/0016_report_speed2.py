"""report speed 2: covering indexes for funnel, forecast and contracts/payments (ADR 0017, part 2)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-25 14:00:00
"""
from __future__ import annotations

from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

LIVE = "deleted_at IS NULL"
# PostgreSQL only (INCLUDE, partial): index-only scans of a period (or of the open deals) that carry the
# scope columns. Named *_live_* so the schema comparison (kith.db.migrate.include_object) leaves them alone.
PG_INDEXES = [
    # forecast: open deals by expected close date
    ("ix_opportunities_live_open_expected_cover", "opportunities", "expected_close_date",
     "stage_id, owner_id, department_path, amount", f"{LIVE} AND status = 'open'"),
    # funnel, deals now in an open stage
    ("ix_opportunities_live_open_stage_cover", "opportunities", "stage_id",
     "owner_id, department_path, amount", f"{LIVE} AND status = 'open'"),
    # funnel, deals closed in the period (by stage)
    ("ix_opportunities_live_closed_stage_cover", "opportunities", "closed_at",
     "status, stage_id, owner_id, department_path, amount", LIVE),
    # funnel cohort: deals created in the period, with their scope columns
    ("ix_opportunities_live_created_cover", "opportunities", "created_at", "id, owner_id, department_path", LIVE),
    # the scope of a deal by id (stage-history joins)
    ("ix_opportunities_live_id_scope", "opportunities", "id", "owner_id, department_path", LIVE),
    ("ix_opportunity_stage_history_live_opp_cover", "opportunity_stage_history", "opportunity_id",
     "to_stage_id, changed_at, id", None),
    ("ix_opportunity_stage_history_live_changed_cover", "opportunity_stage_history", "changed_at",
     "opportunity_id, to_stage_id, id", None),
    # contracts/payments
    ("ix_contracts_live_sign_cover", "contracts", "sign_date", "owner_id, department_path, amount", LIVE),
    ("ix_contracts_live_id_scope", "contracts", "id", "owner_id, department_path", LIVE),
    ("ix_payments_live_received_cover", "payments", "received_on", "contract_id, amount", None),
    ("ix_payment_plans_live_due_cover", "payment_plans", "due_date", "contract_id, amount", None),
]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return  # SQLite keeps the 0013 indexes
    for name, table, key, include, where in PG_INDEXES:
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({key}) INCLUDE ({include})"
                   + (f" WHERE {where}" if where else ""))
    for table in sorted({t for _n, t, _k, _i, _w in PG_INDEXES}):
        op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, *_ in PG_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
