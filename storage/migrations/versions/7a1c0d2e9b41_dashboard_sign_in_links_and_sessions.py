"""dashboard sign-in links and sessions

Revision ID: 7a1c0d2e9b41
Revises: d70ad50ae52d
Create Date: 2026-12-02 10:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '7a1c0d2e9b41'
down_revision: str | None = 'd70ad50ae52d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'web_login_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_web_login_link_person_id', 'web_login_link', ['person_id'])
    op.create_table(
        'web_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('via', sa.String(length=16), nullable=False),
        sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('ended_at', storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_web_session_person_id', 'web_session', ['person_id'])
    op.create_index('ix_web_session_expires_at', 'web_session', ['expires_at'])


def downgrade() -> None:
    op.drop_index('ix_web_session_expires_at', table_name='web_session')
    op.drop_index('ix_web_session_person_id', table_name='web_session')
    op.drop_table('web_session')
    op.drop_index('ix_web_login_link_person_id', table_name='web_login_link')
    op.drop_table('web_login_link')
