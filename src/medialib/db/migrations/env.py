"""Alembic environment: always run on a connection medialib hands over (db/migrate.py)."""

from alembic import context

from medialib.db.tables import metadata

connection = context.config.attributes["connection"]


def _ours(name: str | None, type_: str, parent_names: object) -> bool:
    """procrastinate's tables live in the same database; they are not ours to autogenerate."""
    return not (type_ == "table" and name is not None and name.startswith("procrastinate_"))


context.configure(
    connection=connection,
    target_metadata=metadata,
    include_name=_ours,
    render_as_batch=True,  # SQLite alters tables by copying them
    compare_type=False,  # UTCDateTime is text on SQLite by design; not a change to migrate
)
with context.begin_transaction():
    context.run_migrations()
