"""Alembic environment: runs against the connection the catalog hands over."""

from __future__ import annotations

from alembic import context

from openblotter.storage.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # invoked from the alembic command line
    from sqlalchemy import create_engine

    connection = create_engine(context.config.get_main_option("sqlalchemy.url") or "").connect()

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
