"""insights: a covering index for a setting's period counts (the index holds every counted column)

Revision ID: b3e5f1c2d4a6
Revises: 7a1c0d2e9b41
Create Date: 2026-12-02 14:30:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'b3e5f1c2d4a6'
down_revision: str | None = '7a1c0d2e9b41'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COVERING = ['setting_id', 'occurred_at', 'child_id', 'local_weekday', 'local_minute', 'location',
            'duration_minutes', 'child_injured', 'staff_injured', 'ground_hold', 'record_hours',
            'review_hours', 'child_spoken_hours']


def upgrade() -> None:
    op.create_index('ix_incidentfact_setting_time_counts', 'incidentfact', COVERING)
    op.drop_index('ix_incidentfact_setting_time', table_name='incidentfact')


def downgrade() -> None:
    op.create_index('ix_incidentfact_setting_time', 'incidentfact', ['setting_id', 'occurred_at'])
    op.drop_index('ix_incidentfact_setting_time_counts', table_name='incidentfact')
