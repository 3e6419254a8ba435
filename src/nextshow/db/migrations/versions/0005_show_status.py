"""Catalogue: a review state per show; user-submitted shows start (existing ones become) pending;
prediction requests keep a hash of the client address (distinct clients may confirm a show).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shows") as batch:
        batch.add_column(
            sa.Column("status", sa.String(16), nullable=False, server_default="active")
        )
        batch.create_check_constraint("status_known", "status IN ('active', 'pending', 'rejected')")
    # Titles typed on the web were never confirmed: they wait for an import or an operator.
    op.execute("UPDATE shows SET status = 'pending' WHERE user_submitted")
    with op.batch_alter_table("prediction_requests") as batch:
        batch.add_column(sa.Column("client_key", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("prediction_requests") as batch:
        batch.drop_column("client_key")
    with op.batch_alter_table("shows") as batch:
        batch.drop_constraint("status_known", type_="check")
        batch.drop_column("status")
