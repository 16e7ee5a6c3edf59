"""Domain logic. Service functions take the SQLAlchemy session as the keyword-only `session`."""
