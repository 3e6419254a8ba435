"""Database: tables, engine/session helpers and Alembic migrations."""
