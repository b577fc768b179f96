"""Alembic's environment for the store: run on the connection `Store` hands it (no alembic.ini)."""

from __future__ import annotations

from alembic import context

from studio.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
