"""Service: prediction requests (stored before the 202, processed by the worker).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prediction_requests",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("inputs", sa.Text(), nullable=False),
        sa.Column("matches", sa.Text(), nullable=False),
        sa.Column("user_external_id", sa.String(128), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("results", sa.Text(), nullable=True),
        sa.Column("model_version_id", sa.Integer(), nullable=True),
        sa.Column("fallback", sa.Boolean(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("idempotency_key", sa.String(128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_prediction_requests"),
        sa.UniqueConstraint("idempotency_key", name="uq_prediction_requests_idempotency_key"),
        sa.CheckConstraint(
            "status IN ('pending', 'done', 'failed')", name="ck_prediction_requests_status_known"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_prediction_requests_user_id_users",
            ondelete="SET NULL",
        ),
    )
    op.create_index(
        "ix_prediction_requests_status_created_at",
        "prediction_requests",
        ["status", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_prediction_requests_status_created_at", "prediction_requests")
    op.drop_table("prediction_requests")
