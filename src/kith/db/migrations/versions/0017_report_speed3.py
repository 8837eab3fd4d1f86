"""report speed 3: the funnel's pre-aggregates kept on write — when each stage-history entry was left
(`opportunity_stage_history.left_at`) and its deal's scope (`deal_owner_id`, `deal_department_path`,
`deal_deleted_at`), each deal's highest reached stage position (`opportunities.reached_position`), and the
per-day stage-entry sums `report_stage_days` — with their backfill and covering indexes (ADR 0017, part 3)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26 08:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kith.db.base

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

_DT = kith.db.base.UTCDateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
LIVE = "deleted_at IS NULL"
# PostgreSQL only (INCLUDE, partial; *_live_* so the schema comparison skips them). They replace two
# 0016 indexes with the same key whose included columns the funnel no longer reads.
NEW_INDEXES = [
    # days in stage: the live deals' entries of a period with their stage, end and deal scope (no join)
    ("ix_opportunity_stage_history_live_changed_scope", "opportunity_stage_history", "changed_at",
     "to_stage_id, left_at, deal_owner_id, deal_department_path, opportunity_id", "deal_deleted_at IS NULL"),
    # reached: the deals created in a period with their scope, pipeline and highest position
    ("ix_opportunities_live_created_reached", "opportunities", "created_at",
     "owner_id, department_path, pipeline_id, reached_position", LIVE),
]
OLD_INDEXES = [
    ("ix_opportunity_stage_history_live_changed_cover", "opportunity_stage_history", "changed_at",
     "opportunity_id, to_stage_id, id", None),
    ("ix_opportunities_live_created_cover", "opportunities", "created_at", "id, owner_id, department_path", LIVE),
]

# an entry is left when the same deal's next entry (by changed_at, id) starts; the last one stays NULL;
# the deal's scope columns copied
_LEFT_PG = """
UPDATE opportunity_stage_history h SET left_at = n.next_at, deal_owner_id = o.owner_id,
       deal_department_path = o.department_path, deal_deleted_at = o.deleted_at
FROM (SELECT id, lead(changed_at) OVER (PARTITION BY opportunity_id ORDER BY changed_at, id) AS next_at
      FROM opportunity_stage_history) n, opportunities o
WHERE h.id = n.id AND o.id = h.opportunity_id"""
_LEFT_ANY = """
UPDATE opportunity_stage_history SET left_at = (
    SELECT h2.changed_at FROM opportunity_stage_history h2
    WHERE h2.opportunity_id = opportunity_stage_history.opportunity_id
      AND (h2.changed_at > opportunity_stage_history.changed_at
           OR (h2.changed_at = opportunity_stage_history.changed_at AND h2.id > opportunity_stage_history.id))
    ORDER BY h2.changed_at, h2.id LIMIT 1),
  deal_owner_id = (SELECT o.owner_id FROM opportunities o WHERE o.id = opportunity_stage_history.opportunity_id),
  deal_department_path = (SELECT o.department_path FROM opportunities o WHERE o.id = opportunity_stage_history.opportunity_id),
  deal_deleted_at = (SELECT o.deleted_at FROM opportunities o WHERE o.id = opportunity_stage_history.opportunity_id)"""
# the highest position of a non-lost stage of the deal's own pipeline among its entries
_REACHED_PG = """
UPDATE opportunities o SET reached_position = r.p
FROM (SELECT h.opportunity_id, max(s.position) AS p
      FROM opportunity_stage_history h JOIN stages s ON s.id = h.to_stage_id
      JOIN opportunities d ON d.id = h.opportunity_id AND d.pipeline_id = s.pipeline_id
      WHERE s.kind <> 'lost' GROUP BY h.opportunity_id) r
WHERE o.id = r.opportunity_id"""
_REACHED_ANY = """
UPDATE opportunities SET reached_position = (
    SELECT max(s.position) FROM opportunity_stage_history h JOIN stages s ON s.id = h.to_stage_id
    WHERE h.opportunity_id = opportunities.id AND s.kind <> 'lost' AND s.pipeline_id = opportunities.pipeline_id)"""


def _create(indexes: list[tuple[str, str, str, str, str | None]]) -> None:
    for name, table, key, include, where in indexes:
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({key}) INCLUDE ({include})"
                   + (f" WHERE {where}" if where else ""))


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    op.add_column('opportunity_stage_history', sa.Column('left_at', _DT, nullable=True))
    op.add_column('opportunity_stage_history', sa.Column('deal_owner_id', _ID, nullable=True))
    op.add_column('opportunity_stage_history', sa.Column('deal_department_path', sa.String(length=255), nullable=True))
    op.add_column('opportunity_stage_history', sa.Column('deal_deleted_at', _DT, nullable=True))
    op.add_column('opportunities', sa.Column('reached_position', sa.Integer(), nullable=True))
    if pg:
        for name, *_ in OLD_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute(_LEFT_PG if pg else _LEFT_ANY)
    op.execute(_REACHED_PG if pg else _REACHED_ANY)
    op.create_table('report_stage_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('stage_id', _ID, autoincrement=False, nullable=False),
    sa.Column('owner_id', _ID, autoincrement=False, nullable=False),
    sa.Column('department_path', sa.String(length=255), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('n_open', sa.Integer(), nullable=False),
    sa.Column('closed_us', sa.BigInteger(), nullable=False),
    sa.Column('open_start_us', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'stage_id', 'owner_id', 'department_path', name=op.f('pk_report_stage_days'))
    )
    # the sums of the existing entries (the same code the flush listener and the bulk loaders use)
    from kith.reports.stage_days import rebuild

    rebuild(op.get_bind())
    if pg:
        _create(NEW_INDEXES)
        op.execute("ANALYZE opportunity_stage_history")
        op.execute("ANALYZE opportunities")
        op.execute("ANALYZE report_stage_days")


def downgrade() -> None:
    op.drop_table('report_stage_days')
    if op.get_bind().dialect.name == "postgresql":
        for name, *_ in NEW_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        _create(OLD_INDEXES)
    # a plain DROP COLUMN (SQLite >= 3.35): batch mode would recreate `opportunities`, and dropping the old
    # table with foreign keys on deletes every stage-history row through ON DELETE CASCADE
    op.execute("ALTER TABLE opportunities DROP COLUMN reached_position")
    for name in ('deal_deleted_at', 'deal_department_path', 'deal_owner_id', 'left_at'):
        op.execute(f"ALTER TABLE opportunity_stage_history DROP COLUMN {name}")
