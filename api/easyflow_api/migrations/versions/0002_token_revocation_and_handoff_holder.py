"""token revocation and handoff holder

Logout revokes one token (revoked_tokens, by jti, until it would expire); a
password change revokes every earlier token (users.tokens_valid_after). A
handoff remembers which api user took it, so only they or an admin may reply
or release it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("jti"),
    )
    op.create_index(
        op.f("ix_revoked_tokens_expires_at"),
        "revoked_tokens",
        ["expires_at"],
        unique=False,
    )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("tokens_valid_after", sa.Float(), nullable=True))
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(
            sa.Column("operator_username", sa.String(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("operator_username")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("tokens_valid_after")
    op.drop_index(op.f("ix_revoked_tokens_expires_at"), table_name="revoked_tokens")
    op.drop_table("revoked_tokens")
