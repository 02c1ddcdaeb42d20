"""The status reads: one job with its finished items (the kind's status endpoint), one job with
its progress, and a project's jobs newest first. Each reads one snapshot, so the items and the
counts agree; another project's job is not found."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from medialib.db import outbox
from medialib.db.engine import Database
from medialib.errors import NotFound
from medialib.imports import store
from medialib.imports.kinds import ImportKind
from medialib.imports.records import Item, Job, Progress
from medialib.library.events import IMPORT_FINISHED


class ItemFilter(enum.StrEnum):
    """Which finished items a status shows: all (the seeds' answer), the failed ones, none."""

    ALL = "all"
    FAILED = "failed"
    NONE = "none"


@dataclass(frozen=True)
class ItemPage:
    """A page of a status's items: those after `after` (a position), at most `limit`."""

    which: ItemFilter = ItemFilter.ALL
    limit: int | None = None
    after: int = -1


@dataclass(frozen=True)
class JobStatus:
    job: Job
    kind: ImportKind
    progress: Progress
    items: list[Item]
    webhook: outbox.DeliveryView | None
    page_limit: int | None = None  # the most items asked for

    @property
    def next_cursor(self) -> str | None:
        """Where the next page of items starts, when this one was full."""
        full = bool(self.items) and len(self.items) == self.page_limit
        return str(self.items[-1].position) if full else None


@dataclass(frozen=True)
class JobSummary:
    job: Job
    progress: Progress


@dataclass(frozen=True)
class JobPage:
    jobs: list[JobSummary]
    next_cursor: str | None


def _no_job(kind: ImportKind, job_id: str) -> NotFound:
    shown = job_id if len(job_id) <= 64 else job_id[:64] + "…"
    return NotFound(
        f"no {kind.name} import job {shown!r}",
        details={"id": f"No {kind.name} import job with id '{shown}'"},
    )


async def job_status(
    db: Database, project: str, kind: ImportKind, job_id: str, page: ItemPage | None = None
) -> JobStatus:
    """A job of `project` and `kind` with its finished items."""
    page = page or ItemPage()
    async with db.read(snapshot=True) as conn:
        job = await store.read_job(conn, job_id, project=project, kind=kind.name)
        if job is None:
            raise _no_job(kind, job_id)
        items = (
            await store.finished_items(
                conn,
                job.id,
                failed_only=page.which == ItemFilter.FAILED,
                after=page.after,
                limit=page.limit,
            )
            if page.which != ItemFilter.NONE
            else []
        )
        counted = await store.progress(conn, job)
        webhook = await outbox.delivery_of(conn, IMPORT_FINISHED, job.id) if job.webhook else None
    return JobStatus(job, kind, counted, items, webhook, page.limit)


async def job_summary(db: Database, project: str, job_id: str) -> JobSummary:
    """One job of `project`, of any kind, with its progress, as the job list shows it."""
    async with db.read(snapshot=True) as conn:
        job = await store.read_job(conn, job_id, project=project)
        if job is None:
            raise store.unknown_job(job_id)
        return JobSummary(job, await store.progress(conn, job))


async def list_jobs(
    db: Database,
    project: str,
    *,
    kind: str | None = None,
    state: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> JobPage:
    """A project's jobs, newest first, with their progress; `cursor` continues a walk."""
    async with db.read(snapshot=True) as conn:
        jobs, next_cursor = await store.newest_jobs(
            conn, project, kind=kind, state=state, limit=limit, cursor=cursor
        )
        counted = await store.progress_of(conn, jobs)
    return JobPage([JobSummary(job, counted[job.id]) for job in jobs], next_cursor)
