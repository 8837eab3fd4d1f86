"""report speed 4: per-day follow-up counts per (owner, department path, customer pooled) for follow-up
timeliness and the ranking, kept on write, with their backfill (ADR 0017, part 4)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 11:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('report_followup_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('owner_id', _ID, autoincrement=False, nullable=False),
    sa.Column('department_path', sa.String(length=255), nullable=False),
    sa.Column('pooled', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'owner_id', 'department_path', 'pooled', name=op.f('pk_report_followup_days'))
    )
    # the counts of the existing follow-ups (the same code the bulk loaders use)
    from kith.reports.followup_days import rebuild

    rebuild(op.get_bind())
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE report_followup_days")


def downgrade() -> None:
    op.drop_table('report_followup_days')
