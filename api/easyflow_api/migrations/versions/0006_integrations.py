"""integrations

Order sources and payment providers connected from the dashboard: one row per
platform, the saved form and the active (checked) one, secrets sealed with
AES-GCM (core/secretbox.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 22:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "integrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.Text(), nullable=True),
        sa.Column("active_version", sa.Integer(), nullable=True),
        sa.Column("active_settings", sa.JSON(), nullable=True),
        sa.Column("active_secrets", sa.Text(), nullable=True),
        sa.Column("check_status", sa.String(length=16), nullable=True),
        sa.Column("check_message", sa.Text(), nullable=True),
        sa.Column("checked_at", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind"),
    )


def downgrade() -> None:
    op.drop_table("integrations")
