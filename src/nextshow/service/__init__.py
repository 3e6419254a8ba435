"""The recommendation service: FastAPI app, Huey worker, model holder (see docs/architecture.md)."""
