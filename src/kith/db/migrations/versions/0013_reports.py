"""reports: home-page pins and indexes for the report group-bys

Revision ID: 0013
Revises: 0008
Create Date: 2026-11-25 12:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kith.db.base

revision = '0013'
down_revision = '0008'
branch_labels = None
depends_on = None

# plain indexes (declared in kith.reports.models so the schema check sees them)
PLAIN = [
    ("ix_events_type_occurred_at", "events", ["type", "occurred_at"]),
    ("ix_followups_occurred_at", "followups", ["occurred_at"]),
    ("ix_payments_received_on_contract_id", "payments", ["received_on", "contract_id"]),
    ("ix_opportunities_status_closed_at", "opportunities", ["status", "closed_at"]),
    ("ix_opportunity_stage_history_changed_at", "opportunity_stage_history", ["changed_at"]),
]
LIVE = "deleted_at IS NULL"
# partial indexes on live rows (hand-made, like 0003): new customers per period, per department subtree
PARTIAL = [
    ("ix_customers_live_created", "customers", "created_at"),
    ("ix_customers_live_owner_created", "customers", "owner_id, created_at"),
    ("ix_opportunities_live_owner_closed", "opportunities", "owner_id, status, closed_at"),
    ("ix_followups_live_owner_occurred", "followups", "owner_id, occurred_at"),
    ("ix_opportunities_live_created", "opportunities", "created_at"),
    ("ix_customers_live_owner_followup", "customers", "owner_id, last_followup_at"),
]


def upgrade() -> None:
    op.create_table('report_pins',
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('report', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', kith.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_report_pins_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_pins'))
    )
    with op.batch_alter_table('report_pins', schema=None) as batch_op:
        batch_op.create_index('ix_report_pins_user_id_position', ['user_id', 'position'], unique=False)
    for name, table, cols in PLAIN:
        op.create_index(name, table, cols, unique=False)
    pg = op.get_bind().dialect.name == "postgresql"
    for name, table, cols in PARTIAL:
        op.execute(f"CREATE INDEX {name} ON {table} ({cols}) WHERE {LIVE}")
    cols = "department_path varchar_pattern_ops, created_at" if pg else "department_path, created_at"
    op.execute(f"CREATE INDEX ix_customers_live_dept_created ON customers ({cols}) WHERE {LIVE}")
    _grant_report_module()


# The report module on existing installations: the built-in roles get what kith.access.policy gives them
# on a fresh install (roles are seeded once, so a new module needs a data step).
REPORT_ACCESS = {"admin": ["read", "export"], "sales_manager": ["read", "export"], "sales_rep": ["read", "export"],
                 "finance": ["read", "export"], "marketing": ["read", "export"], "auditor": ["read", "export"]}


def _grant_report_module() -> None:
    json_t = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
    roles = sa.table("roles", sa.column("id", sa.BigInteger), sa.column("code", sa.String), sa.column("builtin", sa.Boolean),
                     sa.column("permissions", json_t), sa.column("data_scopes", json_t), sa.column("field_rights", json_t))
    bind = op.get_bind()
    scope = {"admin": "all", "sales_manager": "dept_tree", "sales_rep": "own"}
    for rid, code, perms, scopes, rights in bind.execute(
            sa.select(roles.c.id, roles.c.code, roles.c.permissions, roles.c.data_scopes, roles.c.field_rights)
            .where(roles.c.builtin.is_(True))).all():
        if code not in REPORT_ACCESS or "report" in (perms or {}):
            continue
        perms = {**(perms or {}), "report": REPORT_ACCESS[code]}
        scopes = {**(scopes or {}), "report": scope.get(code, "all")}
        rights = dict(rights or {})
        if code == "sales_rep":
            rights["report"] = {"amount": "hidden"}
        bind.execute(roles.update().where(roles.c.id == rid).values(permissions=perms, data_scopes=scopes, field_rights=rights))


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_customers_live_dept_created")
    for name, _table, _cols in PARTIAL:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    for name, table, _cols in PLAIN:
        op.drop_index(name, table_name=table)
    with op.batch_alter_table('report_pins', schema=None) as batch_op:
        batch_op.drop_index('ix_report_pins_user_id_position')
    op.drop_table('report_pins')
