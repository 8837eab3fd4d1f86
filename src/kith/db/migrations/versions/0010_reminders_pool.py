"""reminder rules, reminder log and snoozes; public pool (公海) rules, pool log, handovers and pool columns on customers

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-25 12:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kith.db.base

revision = '0010'
down_revision = '0008'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
_DT = kith.db.base.UTCDateTime(timezone=True)

# built-in roles of existing installs get the new modules (new installs seed them from policy.py)
_NEW_RIGHTS = {
    "admin": {"pool": ["read", "create", "update", "delete", "export", "transfer", "manage", "claim", "release", "assign"],
              "reminder_rule": ["read", "create", "update", "delete", "manage"]},
    "sales_manager": {"pool": ["read", "claim", "release", "assign"], "reminder_rule": ["read"]},
    "sales_rep": {"pool": ["read", "claim"]},
    "auditor": {"pool": ["read", "export"], "reminder_rule": ["read", "export"]},
}


def upgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pool_entered_at', _DT, nullable=True))
        batch_op.add_column(sa.Column('pool_path', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('pool_rule_id', _ID, nullable=True))
        batch_op.add_column(sa.Column('pool_released_by_id', _ID, nullable=True))
        batch_op.add_column(sa.Column('pool_reason', sa.String(length=500), nullable=True))
        batch_op.create_index(batch_op.f('ix_customers_pool_entered_at'), ['pool_entered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_customers_pool_path'), ['pool_path'], unique=False)

    op.create_table('reminder_rules',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('params', _JSON, nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('department_id', _ID, nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('created_at', _DT, nullable=False),
    sa.Column('updated_at', _DT, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_reminder_rules_department_id_departments'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_rules'))
    )
    with op.batch_alter_table('reminder_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_rules_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_rules_updated_at'), ['updated_at'], unique=False)

    op.create_table('reminder_log',
    sa.Column('rule_id', _ID, nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('entity_type', sa.String(length=20), nullable=False),
    sa.Column('entity_id', _ID, nullable=False),
    sa.Column('period', sa.String(length=40), nullable=False),
    sa.Column('period_at', _DT, nullable=True),
    sa.Column('period_date', sa.Date(), nullable=True),
    sa.Column('user_id', _ID, nullable=False),
    sa.Column('copy_user_id', _ID, nullable=True),
    sa.Column('customer_id', _ID, nullable=True),
    sa.Column('params', _JSON, nullable=False),
    sa.Column('fired_at', _DT, nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['rule_id'], ['reminder_rules.id'], name=op.f('fk_reminder_log_rule_id_reminder_rules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reminder_log_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['copy_user_id'], ['users.id'], name=op.f('fk_reminder_log_copy_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_log')),
    sa.UniqueConstraint('rule_id', 'entity_type', 'entity_id', 'period', name=op.f('uq_reminder_log_rule_id_entity_type_entity_id_period'))
    )
    with op.batch_alter_table('reminder_log', schema=None) as batch_op:
        batch_op.create_index('ix_reminder_log_user_id_id', ['user_id', 'id'], unique=False)
        batch_op.create_index('ix_reminder_log_copy_user_id_id', ['copy_user_id', 'id'], unique=False)

    op.create_table('reminder_snoozes',
    sa.Column('rule_id', _ID, nullable=False),
    sa.Column('entity_type', sa.String(length=20), nullable=False),
    sa.Column('entity_id', _ID, nullable=False),
    sa.Column('until', _DT, nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('by_id', _ID, nullable=True),
    sa.Column('created_at', _DT, nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['rule_id'], ['reminder_rules.id'], name=op.f('fk_reminder_snoozes_rule_id_reminder_rules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_reminder_snoozes_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_snoozes'))
    )
    with op.batch_alter_table('reminder_snoozes', schema=None) as batch_op:
        batch_op.create_index('ix_reminder_snoozes_rule_entity', ['rule_id', 'entity_type', 'entity_id', 'until'], unique=False)

    op.create_table('pool_rules',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('department_id', _ID, nullable=True),
    sa.Column('levels', _JSON, nullable=False),
    sa.Column('no_followup_days', sa.Integer(), nullable=True),
    sa.Column('no_won_days', sa.Integer(), nullable=True),
    sa.Column('warn_days_before', sa.Integer(), nullable=False),
    sa.Column('claim_cap', sa.Integer(), nullable=True),
    sa.Column('cooldown_days', sa.Integer(), nullable=False),
    sa.Column('visible_fields', _JSON, nullable=False),
    sa.Column('masked_fields', _JSON, nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('created_at', _DT, nullable=False),
    sa.Column('updated_at', _DT, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_pool_rules_department_id_departments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pool_rules'))
    )
    with op.batch_alter_table('pool_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pool_rules_updated_at'), ['updated_at'], unique=False)

    op.create_table('pool_log',
    sa.Column('customer_id', _ID, nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('owner_id', _ID, nullable=True),
    sa.Column('actor_id', _ID, nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('rule_id', _ID, nullable=True),
    sa.Column('period_at', _DT, nullable=True),
    sa.Column('at', _DT, nullable=False),
    sa.Column('data', _JSON, nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_pool_log_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pool_log')),
    sa.UniqueConstraint('customer_id', 'action', 'period_at', name=op.f('uq_pool_log_customer_id_action_period_at'))
    )
    with op.batch_alter_table('pool_log', schema=None) as batch_op:
        batch_op.create_index('ix_pool_log_customer_owner', ['customer_id', 'owner_id', 'at'], unique=False)

    op.create_table('handovers',
    sa.Column('from_user_id', _ID, nullable=False),
    sa.Column('to_user_id', _ID, nullable=False),
    sa.Column('actor_id', _ID, nullable=True),
    sa.Column('include', _JSON, nullable=False),
    sa.Column('customer_ids', _JSON, nullable=True),
    sa.Column('counts', _JSON, nullable=False),
    sa.Column('created_at', _DT, nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['from_user_id'], ['users.id'], name=op.f('fk_handovers_from_user_id_users')),
    sa.ForeignKeyConstraint(['to_user_id'], ['users.id'], name=op.f('fk_handovers_to_user_id_users')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_handovers_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handovers'))
    )
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handovers_from_user_id'), ['from_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_handovers_to_user_id'), ['to_user_id'], unique=False)

    roles = sa.table('roles', sa.column('id', _ID), sa.column('code', sa.String()), sa.column('builtin', sa.Boolean()),
                     sa.column('permissions', _JSON))
    conn = op.get_bind()
    for rid, code, perms in conn.execute(sa.select(roles.c.id, roles.c.code, roles.c.permissions).where(roles.c.builtin.is_(True))).all():
        extra = _NEW_RIGHTS.get(code)
        if not extra:
            continue
        perms = dict(perms or {})
        changed = False
        for module, actions in extra.items():
            if module not in perms:
                perms[module] = actions
                changed = True
        if changed:
            conn.execute(roles.update().where(roles.c.id == rid).values(permissions=perms))


def downgrade() -> None:
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handovers_to_user_id'))
        batch_op.drop_index(batch_op.f('ix_handovers_from_user_id'))
    op.drop_table('handovers')
    with op.batch_alter_table('pool_log', schema=None) as batch_op:
        batch_op.drop_index('ix_pool_log_customer_owner')
    op.drop_table('pool_log')
    with op.batch_alter_table('pool_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pool_rules_updated_at'))
    op.drop_table('pool_rules')
    with op.batch_alter_table('reminder_snoozes', schema=None) as batch_op:
        batch_op.drop_index('ix_reminder_snoozes_rule_entity')
    op.drop_table('reminder_snoozes')
    with op.batch_alter_table('reminder_log', schema=None) as batch_op:
        batch_op.drop_index('ix_reminder_log_copy_user_id_id')
        batch_op.drop_index('ix_reminder_log_user_id_id')
    op.drop_table('reminder_log')
    with op.batch_alter_table('reminder_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_rules_updated_at'))
        batch_op.drop_index(batch_op.f('ix_reminder_rules_kind'))
    op.drop_table('reminder_rules')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_pool_path'))
        batch_op.drop_index(batch_op.f('ix_customers_pool_entered_at'))
        batch_op.drop_column('pool_reason')
        batch_op.drop_column('pool_released_by_id')
        batch_op.drop_column('pool_rule_id')
        batch_op.drop_column('pool_path')
        batch_op.drop_column('pool_entered_at')
