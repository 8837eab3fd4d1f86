"""merges (de-duplication: merge with undo)

Revision ID: 0011
Revises: 0008
Create Date: 2026-11-25 12:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kith.db.base
from sqlalchemy.dialects import postgresql

revision = '0011'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('merges',
    sa.Column('entity_type', sa.String(length=20), nullable=False),
    sa.Column('survivor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('other_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('actor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', kith.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('undone_at', kith.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('undone_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_merges_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merges'))
    )
    with op.batch_alter_table('merges', schema=None) as batch_op:
        batch_op.create_index('ix_merges_entity_other', ['entity_type', 'other_id'], unique=False)
        batch_op.create_index('ix_merges_entity_survivor', ['entity_type', 'survivor_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('merges', schema=None) as batch_op:
        batch_op.drop_index('ix_merges_entity_survivor')
        batch_op.drop_index('ix_merges_entity_other')
    op.drop_table('merges')
