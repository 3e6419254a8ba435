"""Column lengths, as plain constants: the tables declare them, the file parsers check against them.

Kept free of SQLAlchemy so that the pure parsers (``ratings/``, ``catalog/imdb_import.py``) can
reject an over-long value as bad input, naming its line, instead of failing a whole batch on
PostgreSQL (SQLite would store it silently). Changing a value here needs a migration.
"""

from __future__ import annotations

IMDB_ID = 16
TITLE = 512  # shows.title, shows.original_title and shows.normalized_title
GENRES = 256  # comma-separated, IMDb style
SOURCE = 32
EXTERNAL_ID = 64  # shows.external_id
USER_EXTERNAL_ID = 128  # users.external_id
PERSON_NAME = 512  # people.name
LANGUAGE_CODE = 8  # show_titles.region and show_titles.language
