"""Alembic environment: runs on the connection (or engine) handed over in ``config.attributes``.

``nextshow db upgrade`` passes the connection that holds the migration lock, so the upgrade runs
inside that lock (a PostgreSQL advisory lock belongs to one connection).
"""

from alembic import context

from nextshow.db.models import Base

config = context.config


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    )
    context.run_migrations()


if (locked := config.attributes.get("connection")) is not None:
    with locked.begin():
        _run(locked)
else:
    with config.attributes["engine"].begin() as connection:
        _run(connection)
