"""Alembic environment: always run on a connection medialib hands over (db/migrate.py)."""

from alembic import context

from medialib.db.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
    compare_type=False,  # UTCDateTime is text on SQLite by design; not a change to migrate
)
with context.begin_transaction():
    context.run_migrations()
