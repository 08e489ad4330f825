"""Alembic environment: migrations run on the connection :mod:`storage.database` hands over.

To run Alembic by hand, use ``python -m storage upgrade`` (it reads ``DATABASE_URL``).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from storage.tables import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through storage.Database.migrate() or python -m storage")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
