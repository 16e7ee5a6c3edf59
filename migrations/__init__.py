"""Alembic migrations (run through backend.migrate)."""
