"""insights: per-incident facts and tags, per-setting pattern policy, indexes for counting

Revision ID: a7c41e2b9f10
Revises: 6f7777ff7d95
Create Date: 2026-12-02 10:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = 'a7c41e2b9f10'
down_revision: str | None = '6f7777ff7d95'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'incidentfact',
        sa.Column('incident_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('setting_id', sa.Integer(), nullable=False),
        sa.Column('child_id', sa.Integer(), nullable=False),
        sa.Column('occurred_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('local_minute', sa.Integer(), nullable=False),
        sa.Column('local_weekday', sa.Integer(), nullable=False),
        sa.Column('location', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column('duration_minutes', sa.Float(), nullable=True),
        sa.Column('staff_count', sa.Integer(), nullable=True),
        sa.Column('child_injured', sa.Boolean(), nullable=False),
        sa.Column('staff_injured', sa.Boolean(), nullable=False),
        sa.Column('ground_hold', sa.Boolean(), nullable=False),
        sa.Column('recorded_at', storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('reviewed_at', storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('child_spoken_at', storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('record_hours', sa.Float(), nullable=True),
        sa.Column('review_hours', sa.Float(), nullable=True),
        sa.Column('child_spoken_hours', sa.Float(), nullable=True),
        sa.Column('refreshed_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('incident_id'),
    )
    op.create_index('ix_incidentfact_setting_time', 'incidentfact', ['setting_id', 'occurred_at'])
    op.create_index('ix_incidentfact_setting_child_time', 'incidentfact',
                    ['setting_id', 'child_id', 'occurred_at'])
    op.create_index('ix_incidentfact_setting_refreshed', 'incidentfact',
                    ['setting_id', 'refreshed_at'])
    op.create_table(
        'incidenttag',
        sa.Column('incident_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('setting_id', sa.Integer(), nullable=False),
        sa.Column('child_id', sa.Integer(), nullable=False),
        sa.Column('occurred_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('incident_id', 'kind', 'value'),
    )
    op.create_index('ix_incidenttag_setting_time', 'incidenttag',
                    ['setting_id', 'occurred_at', 'child_id', 'incident_id', 'kind', 'value'])
    op.create_index('ix_incidenttag_setting_kind_time', 'incidenttag',
                    ['setting_id', 'kind', 'occurred_at', 'value', 'incident_id'])
    op.create_table(
        'insightspolicy',
        sa.Column('setting_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('overrides', sa.JSON(), nullable=False),
        sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['setting_id'], ['setting.id']),
        sa.PrimaryKeyConstraint('setting_id'),
    )
    # Finding what changed since the last refresh: debriefs by submission time, reviews by signing.
    op.create_index('ix_debrief_submitted_at', 'debrief', ['submitted_at'])
    op.create_index('ix_review_signed_at', 'review', ['signed_at'])


def downgrade() -> None:
    op.drop_index('ix_review_signed_at', table_name='review')
    op.drop_index('ix_debrief_submitted_at', table_name='debrief')
    op.drop_table('insightspolicy')
    op.drop_index('ix_incidenttag_setting_kind_time', table_name='incidenttag')
    op.drop_index('ix_incidenttag_setting_time', table_name='incidenttag')
    op.drop_table('incidenttag')
    op.drop_index('ix_incidentfact_setting_refreshed', table_name='incidentfact')
    op.drop_index('ix_incidentfact_setting_child_time', table_name='incidentfact')
    op.drop_index('ix_incidentfact_setting_time', table_name='incidentfact')
    op.drop_table('incidentfact')
