"""TV catalogue: people, show credits, alternative titles, seasons and episodes per series.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shows") as batch:
        batch.add_column(sa.Column("seasons", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("episodes", sa.Integer(), nullable=True))
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("imdb_id", sa.String(16), nullable=False),
        sa.Column("name", sa.String(512), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_people"),
        sa.UniqueConstraint("imdb_id", name="uq_people_imdb_id"),
    )
    op.create_table(
        "show_credits",
        sa.Column("show_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("ordering", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "role IN ('creator', 'writer', 'director', 'actor', 'other')",
            name="ck_show_credits_role_known",
        ),
        sa.ForeignKeyConstraint(
            ["show_id"], ["shows.id"], name="fk_show_credits_show_id_shows", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name="fk_show_credits_person_id_people",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("show_id", "person_id", "role", name="pk_show_credits"),
    )
    op.create_index("ix_show_credits_person_id", "show_credits", ["person_id"])
    op.create_table(
        "show_titles",
        sa.Column("show_id", sa.Integer(), nullable=False),
        sa.Column("ordering", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(512), nullable=False),
        sa.Column("normalized_title", sa.String(512), nullable=False),
        sa.Column("region", sa.String(8), nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("is_original", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["show_id"], ["shows.id"], name="fk_show_titles_show_id_shows", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("show_id", "ordering", name="pk_show_titles"),
    )
    op.create_index("ix_show_titles_normalized_title", "show_titles", ["normalized_title"])


def downgrade() -> None:
    op.drop_index("ix_show_titles_normalized_title", table_name="show_titles")
    op.drop_table("show_titles")
    op.drop_index("ix_show_credits_person_id", table_name="show_credits")
    op.drop_table("show_credits")
    op.drop_table("people")
    with op.batch_alter_table("shows") as batch:
        batch.drop_column("episodes")
        batch.drop_column("seasons")
