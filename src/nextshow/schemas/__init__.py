"""Request and response bodies (pydantic only), built from rows with ``model_validate``.

The API and web routes declare them as ``response_model`` (the OpenAPI schema comes from them)
and the CLI prints them for ``--json``; nothing here imports FastAPI, SQLAlchemy or numpy, so
the CLI can import them cheaply.
"""
