"""imports: batches, rows, mapping templates

Revision ID: 0012
Revises: 0008
Create Date: 2026-11-25 12:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kith.db.base

revision = '0012'
down_revision = '0008'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
TS = kith.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('import_batches',
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('file_path', sa.String(length=500), nullable=False),
    sa.Column('file_size', sa.Integer(), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('encoding', sa.String(length=20), nullable=True),
    sa.Column('sheets', JSON, nullable=False),
    sa.Column('sheet', sa.String(length=100), nullable=True),
    sa.Column('header_row', sa.Integer(), nullable=False),
    sa.Column('headers', JSON, nullable=False),
    sa.Column('mapping', JSON, nullable=False),
    sa.Column('options', JSON, nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('processed_rows', sa.Integer(), nullable=False),
    sa.Column('counts', JSON, nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('backup_path', sa.String(length=500), nullable=True),
    sa.Column('event_floor', ID, nullable=True),
    sa.Column('runner', sa.String(length=100), nullable=True),
    sa.Column('heartbeat_at', TS, nullable=True),
    sa.Column('created_by_id', ID, nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('updated_at', TS, nullable=False),
    sa.Column('started_at', TS, nullable=True),
    sa.Column('finished_at', TS, nullable=True),
    sa.Column('rolled_back_at', TS, nullable=True),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_import_batches_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batches'))
    )
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.create_index('ix_import_batches_created_by_id_id', ['created_by_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_batches_status'), ['status'], unique=False)

    op.create_table('import_rows',
    sa.Column('batch_id', ID, nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('raw', JSON, nullable=False),
    sa.Column('cleaned', JSON, nullable=False),
    sa.Column('changes', JSON, nullable=False),
    sa.Column('errors', JSON, nullable=False),
    sa.Column('candidates', JSON, nullable=False),
    sa.Column('proposed', sa.String(length=40), nullable=True),
    sa.Column('decision', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('record_id', ID, nullable=True),
    sa.Column('before', JSON, nullable=True),
    sa.Column('after_version', sa.Integer(), nullable=True),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_import_rows_batch_id_import_batches'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_rows')),
    sa.UniqueConstraint('batch_id', 'row_number', name=op.f('uq_import_rows_batch_id_row_number'))
    )
    with op.batch_alter_table('import_rows', schema=None) as batch_op:
        batch_op.create_index('ix_import_rows_batch_id_status_row_number', ['batch_id', 'status', 'row_number'], unique=False)

    op.create_table('import_templates',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('mapping', JSON, nullable=False),
    sa.Column('created_by_id', ID, nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_import_templates_created_by_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_templates')),
    sa.UniqueConstraint('created_by_id', 'kind', 'name', name=op.f('uq_import_templates_created_by_id_kind_name'))
    )


def downgrade() -> None:
    op.drop_table('import_templates')
    with op.batch_alter_table('import_rows', schema=None) as batch_op:
        batch_op.drop_index('ix_import_rows_batch_id_status_row_number')
    op.drop_table('import_rows')
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_batches_status'))
        batch_op.drop_index('ix_import_batches_created_by_id_id')
    op.drop_table('import_batches')
