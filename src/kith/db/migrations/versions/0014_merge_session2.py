"""join the five branches written in parallel (outbox, reminders/pool, merges, imports, reports)

Revision ID: 0014
Revises: 0009, 0010, 0011, 0012, 0013
Create Date: 2026-11-25 12:45:00
"""
from __future__ import annotations

revision = '0014'
down_revision = ('0009', '0010', '0011', '0012', '0013')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
