"""Catalogue and ratings: shows, users, ratings.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shows",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("imdb_id", sa.String(16), nullable=True),
        sa.Column("title", sa.String(512), nullable=False),
        sa.Column("original_title", sa.String(512), nullable=True),
        sa.Column("normalized_title", sa.String(512), nullable=False),
        sa.Column("title_type", sa.String(32), nullable=True),
        sa.Column("start_year", sa.Integer(), nullable=True),
        sa.Column("end_year", sa.Integer(), nullable=True),
        sa.Column("genres", sa.String(256), nullable=True),
        sa.Column("imdb_rating", sa.Float(), nullable=True),
        sa.Column("imdb_votes", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=True),
        sa.Column("user_submitted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_shows"),
        sa.UniqueConstraint("imdb_id", name="uq_shows_imdb_id"),
        sa.UniqueConstraint("source", "external_id", name="uq_shows_source_external_id"),
    )
    op.create_index("ix_shows_normalized_title", "shows", ["normalized_title"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("external_id", sa.String(128), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("source", "external_id", name="uq_users_source_external_id"),
    )
    op.create_table(
        "ratings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("show_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Float(), nullable=True),
        sa.Column("liked", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "rating IS NULL OR (rating >= 0 AND rating <= 10)", name="ck_ratings_rating_range"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_ratings_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["show_id"], ["shows.id"], name="fk_ratings_show_id_shows", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "show_id", name="pk_ratings"),
    )
    op.create_index("ix_ratings_show_id", "ratings", ["show_id"])
    op.create_index("ix_ratings_updated_at", "ratings", ["updated_at"])


def downgrade() -> None:
    op.drop_table("ratings")
    op.drop_table("users")
    op.drop_index("ix_shows_normalized_title", table_name="shows")
    op.drop_table("shows")
