"""Durable state behind protocols (`base`), with SQLAlchemy implementations (`sql`)."""
