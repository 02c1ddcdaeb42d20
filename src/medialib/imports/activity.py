"""A project's import activity over a recent window, for the web view's operations page: items
finished a minute, items by state and by failure reason, jobs by state.

Read from the database (the page works with no Prometheus), and bounded by the window: only the
jobs that can have finished items in it are read (those running, and those finished since it
began, as an item never finishes after its job), and their items by the index on
(job_id, finished_at) of migration 0014, so the cost follows the window's items, not the
history's.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from medialib.db.tables import import_items, import_jobs
from medialib.imports.records import ItemState, JobState


@dataclass(frozen=True)
class ImportActivity:
    """What a project's imports did from `since` to `until`."""

    since: dt.datetime
    until: dt.datetime
    per_minute: list[int]  # items finished in each minute of the window, oldest first
    by_state: dict[str, int]  # items finished in the window, by ItemState (every state named)
    by_reason: dict[str, int]  # the failed ones among them, by reason code, most first
    jobs: dict[str, int] = field(default_factory=dict)  # running now, or finished in the window

    @property
    def finished(self) -> int:
        return sum(self.per_minute)

    @property
    def busiest_minute(self) -> int:
        return max(self.per_minute, default=0)

    @property
    def minutes(self) -> list[tuple[dt.datetime, int]]:
        """Each minute of the window, when it began, with its count."""
        return [
            (self.since + dt.timedelta(minutes=i), count) for i, count in enumerate(self.per_minute)
        ]


def _minute(column: sa.ColumnElement[dt.datetime], dialect: str) -> sa.ColumnElement[str]:
    """A timestamp's minute as 'YYYY-MM-DD HH:MM' in UTC: SQLite keeps UTC text of that form
    (db/tables.py's UTCDateTime), PostgreSQL a timestamptz that to_char writes the same way."""
    if dialect == "postgresql":
        utc = sa.func.timezone("UTC", column)
        return sa.func.to_char(utc, "YYYY-MM-DD HH24:MI")
    return sa.func.substr(sa.cast(column, sa.String), 1, 16)


def _minute_key(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")


async def import_activity(
    conn: AsyncConnection, project: str, until: dt.datetime, minutes: int = 60
) -> ImportActivity:
    """The project's import activity in the `minutes` whole minutes up to `until`'s minute."""
    last = until.replace(second=0, microsecond=0)
    since = last - dt.timedelta(minutes=minutes - 1)
    jobs = sa.select(import_jobs.c.id).where(
        import_jobs.c.project == project,
        sa.or_(import_jobs.c.state == JobState.STARTED, import_jobs.c.finished_at >= since),
    )
    minute = _minute(import_items.c.finished_at, conn.dialect.name).label("minute")
    query = (
        sa.select(minute, import_items.c.state, import_items.c.reason_code, sa.func.count())
        .where(import_items.c.job_id.in_(jobs), import_items.c.finished_at >= since)
        .group_by(minute, import_items.c.state, import_items.c.reason_code)
    )
    keys = [_minute_key(since + dt.timedelta(minutes=i)) for i in range(minutes)]
    per_minute: Counter[str] = Counter()
    by_state: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    for at, state, reason, count in await conn.execute(query):
        # A worker whose clock runs ahead may finish an item "after" now: the last minute's.
        per_minute[min(at, keys[-1])] += count
        by_state[state] += count
        if state == ItemState.FAILED:
            by_reason[reason or "unknown"] += count
    return ImportActivity(
        since=since,
        until=until,
        per_minute=[per_minute[key] for key in keys],
        by_state={state: by_state[state] for state in ItemState if state != ItemState.PENDING},
        by_reason=dict(by_reason.most_common()),
        jobs=await _jobs_by_state(conn, project, since),
    )


async def _jobs_by_state(conn: AsyncConnection, project: str, since: dt.datetime) -> dict[str, int]:
    """The project's jobs running now and those finished in the window, by state; the cancelled
    apart from the failed, as the web view shows them."""
    cancelled = import_jobs.c.cancelled_at.is_not(None)
    state = sa.case((cancelled, sa.literal("cancelled")), else_=import_jobs.c.state).label("shown")
    query = (
        sa.select(state, sa.func.count())
        .where(
            import_jobs.c.project == project,
            sa.or_(import_jobs.c.state == JobState.STARTED, import_jobs.c.finished_at >= since),
        )
        .group_by(state)
    )
    found: dict[str, int] = {shown: count for shown, count in await conn.execute(query)}
    return {name: found.get(name, 0) for name in (*JobState, "cancelled")}
