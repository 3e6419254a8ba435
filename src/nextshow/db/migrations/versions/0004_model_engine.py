"""Model versions record the engine that trained them (numpy or spark).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every version trained before this column existed was trained by the NumPy engine.
    with op.batch_alter_table("model_versions") as batch:
        batch.add_column(sa.Column("engine", sa.String(16), nullable=False, server_default="numpy"))


def downgrade() -> None:
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_column("engine")
