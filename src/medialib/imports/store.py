"""The job store: every statement about import jobs and their items. Writing a new job, the
accounting (items recorded, the pending count, the job finished with its webhook in the outbox),
cancelling, and the reads the pipeline and the status make. Rows become records
(`imports/records.py`) here.

Progress is counted one way, from the items' states; the job's `pending` column is a counter
that the transaction recording items takes down, so that exactly one transaction sees it reach 0
however many workers record items at once.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from medialib import metrics
from medialib.db import keyset
from medialib.db.engine import Tx
from medialib.db.tables import import_items, import_jobs, utcnow
from medialib.errors import Conflict, NotFound, TooManyRequests
from medialib.imports.records import (
    CANCELLED,
    FINISHED_STATES,
    Item,
    ItemOutcome,
    ItemState,
    Job,
    JobState,
    Progress,
    item_of,
    job_of,
)
from medialib.imports.requests import ImportRequest
from medialib.library.events import FailedItem, FinishedJob, record_job_finished
from medialib.library.metadata import issues_text
from medialib.library.projects import Project

_ID_ALPHABET = string.ascii_lowercase + string.digits
JOB_ID = re.compile(r"[a-z0-9]{12}")  # fullmatch: `$` would let a trailing newline in


def new_job_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))


def chunks(positions: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(positions), size):
        yield positions[start : start + size]


def unknown_job(job_id: str) -> NotFound:
    """A job of any kind that the project does not have (the job list, cancel, retry)."""
    return NotFound(details={"message": f"No import job found with id '{job_id}'"})


# --- A new job ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewJob:
    """A job and its items, made from a request before anything is written."""

    job: Job
    pending: int
    items: list[Item]

    @property
    def id(self) -> str:
        return self.job.id

    @property
    def pending_positions(self) -> list[int]:
        return [item.position for item in self.items if item.state == ItemState.PENDING]


def new_job(project: Project, request: ImportRequest) -> NewJob:
    """The job and its items. Items whose metadata already breaks the media type's rules (types,
    unknown properties) fail here, without a download; required properties may still come from
    the file's own metadata, so those are checked after the download."""
    job_id, now = new_job_id(), utcnow()
    items = []
    for position, asked in enumerate(request.items):
        media_type = project.media_types[asked.mediaType or request.kind.name]
        issues = media_type.schema.validate(asked.metadata, partial=True)
        item = Item(
            job_id=job_id,
            position=position,
            external_id=asked.id,
            url=asked.url,
            file_name=asked.fileName,
            media_type=media_type.handle,
            metadata=media_type.schema.stored(asked.metadata),
            state=ItemState.PENDING,
        )
        if issues:
            item = replace(
                item,
                state=ItemState.FAILED,
                reason=issues_text(issues),
                reason_code="invalid_metadata",
                finished_at=now,
            )
        items.append(item)
    job = Job(
        id=job_id,
        project=project.handle,
        kind=request.kind.name,
        system_name=request.system_name,
        webhook=request.webhook,
        context=request.context,
        state=JobState.STARTED,
        total=len(items),
        started_at=now,
        finished_at=None,
    )
    pending = sum(1 for item in items if item.state == ItemState.PENDING)
    return NewJob(job, pending, items)


def insert(tx: Tx, new: NewJob, *, max_open_jobs: int) -> None:
    """Write the job and its items, unless its project has too many jobs running already."""
    project = new.job.project
    open_jobs = tx.conn.scalar(
        sa.select(sa.func.count()).where(
            import_jobs.c.project == project, import_jobs.c.finished_at.is_(None)
        )
    )
    if (open_jobs or 0) >= max_open_jobs:
        raise TooManyRequests(
            f"{open_jobs} import jobs of this project are still running, and at most "
            f"{max_open_jobs} may be; try again when one has finished.",
            retry_after=30,
        )
    tx.execute(import_jobs.insert().values(**vars(new.job), pending=new.pending))
    tx.execute(import_items.insert(), [vars(item) for item in new.items])
    ended = [(i.state, i.reason_code) for i in new.items if i.state != ItemState.PENDING]
    tx.on_commit(lambda: metrics.count_items(new.job.kind, ended))


# --- Accounting -------------------------------------------------------------------------------


def lock_job(tx: Tx, job_id: str) -> Job | None:
    """The job; on PostgreSQL its row is locked until the transaction ends."""
    query = sa.select(import_jobs).where(import_jobs.c.id == job_id)
    if tx.is_postgres:
        query = query.with_for_update()
    row = tx.execute(query).first()
    return job_of(row) if row is not None else None


# The statements run for every few images are built once: SQLAlchemy keeps a statement's cache
# key on it, and building one anew, with its key, costs more than running it.
_PENDING = sa.select(import_items.c.position).where(
    import_items.c.job_id == sa.bindparam("job_id"),
    import_items.c.position.in_(sa.bindparam("positions", expanding=True)),
    import_items.c.state == ItemState.PENDING,
)
_PENDING_LOCKED = _PENDING.with_for_update()


def pending_positions(tx: Tx, job_id: str, positions: Sequence[int]) -> list[int]:
    """Which of `positions` are still pending; on PostgreSQL they stay locked to us until commit,
    so two runs of one chunk cannot both record them."""
    query = _PENDING_LOCKED if tx.is_postgres else _PENDING
    return list(tx.execute(query, {"job_id": job_id, "positions": list(positions)}).scalars())


_ITEM_UPDATE = (
    import_items.update()
    .where(
        import_items.c.job_id == sa.bindparam("b_job_id"),
        import_items.c.position == sa.bindparam("b_position"),
    )
    .values(
        state=sa.bindparam("b_state"),
        action=sa.bindparam("b_action"),
        reason=sa.bindparam("b_reason"),
        reason_code=sa.bindparam("b_reason_code"),
        result=sa.bindparam("b_result", type_=import_items.c.result.type),
        finished_at=sa.bindparam("b_finished_at", type_=import_items.c.finished_at.type),
    )
)

_PENDING_DOWN = (
    import_jobs.update()
    .where(import_jobs.c.id == sa.bindparam("b_id"))
    .values(pending=import_jobs.c.pending - sa.bindparam("b_done", type_=sa.Integer))
    .returning(import_jobs.c.pending, import_jobs.c.kind)
)


def record_items(tx: Tx, job_id: str, outcomes: Sequence[ItemOutcome]) -> bool:
    """Write how the items ended and take them off the job's pending count; True when that
    made the count reach 0 (the job is ready to finish)."""
    if not outcomes:
        return False
    now = utcnow()
    tx.execute(
        _ITEM_UPDATE,
        [
            {
                "b_job_id": job_id,
                "b_position": o.position,
                "b_state": o.state,
                "b_action": o.action,
                "b_reason": (o.reason or "")[:1000] or None,
                "b_reason_code": o.reason_code,
                "b_result": o.result,
                "b_finished_at": now,
            }
            for o in outcomes
        ],
    )
    job = tx.execute(_PENDING_DOWN, {"b_id": job_id, "b_done": len(outcomes)}).first()
    if job is None:
        return False
    ended = [(o.state, o.reason_code) for o in outcomes]
    tx.on_commit(lambda: metrics.count_items(job.kind, ended))
    return bool(job.pending == 0)


def fail_pending(tx: Tx, job_id: str, positions: Sequence[int], code: str, reason: str) -> bool:
    """Fail those of `positions` still pending; True when that left the job nothing to do."""
    still = pending_positions(tx, job_id, positions)
    return record_items(tx, job_id, [ItemOutcome.failed(p, code, reason) for p in still])


@dataclass(frozen=True)
class Finished:
    """A job that a transaction finished: how it ended."""

    job: Job
    state: JobState
    progress: Progress


def finish(tx: Tx, job_id: str, webhook_hold: float = 0.0) -> Finished | None:
    """Finish a job whose items are all done: `success`, or `failed` when every item failed or
    the job was cancelled;
    its webhook goes into the outbox in the same transaction, to go out once the job is
    `webhook_hold` seconds old: a client that keeps the job's id from the start's answer has it
    by then, however fast the job was."""
    job = lock_job(tx, job_id)
    if job is None or job.finished:
        return None
    progress = Progress.counted(job.total, tx.conn.execute(_counts(job_id)).all())
    if progress.done < job.total:
        return None
    everything_failed = progress.failed == job.total
    state = JobState.FAILED if everything_failed or job.cancelled_at else JobState.SUCCESS
    finished = tx.execute(
        import_jobs.update()
        .where(import_jobs.c.id == job_id, import_jobs.c.finished_at.is_(None))
        .values(state=state, finished_at=utcnow())
    )
    if finished.rowcount == 1 and job.webhook:
        age = (utcnow() - job.started_at).total_seconds()
        hold = max(0.0, webhook_hold - age)
        record_job_finished(tx, _finished_job(tx.conn, job, state, progress, hold))
    return Finished(job, state, progress) if finished.rowcount == 1 else None


def _finished_job(
    conn: Connection, job: Job, state: JobState, progress: Progress, hold: float
) -> FinishedJob:
    """What the job's webhook tells (the catalogue, library/events.py, makes its payload)."""
    failed = conn.execute(
        sa.select(import_items.c.external_id, import_items.c.reason, import_items.c.reason_code)
        .where(import_items.c.job_id == job.id, import_items.c.state == ItemState.FAILED)
        .order_by(import_items.c.position)
    ).all()
    assert job.webhook is not None
    return FinishedJob(
        id=job.id,
        project=job.project,
        kind=job.kind,
        state=state,
        webhook=job.webhook,
        context=job.context,
        total=progress.total,
        success=progress.success,
        skipped=progress.skipped,
        failed=progress.failed,
        failed_items=tuple(FailedItem(i.external_id, i.reason, i.reason_code) for i in failed),
        hold=hold,
    )


def cancel(tx: Tx, project: str, job_id: str, webhook_hold: float = 0.0) -> None:
    """Stop a running job: it is marked cancelled, its unfinished items fail with reason code
    `cancelled` and it finishes `failed` in the same transaction (its webhook goes out). The
    workers of its chunks see the mark and abort the downloads under way (`imports/cancels.py`);
    what finishes meanwhile is thrown away (recording skips items that are no longer pending)."""
    job = lock_job(tx, job_id) if JOB_ID.fullmatch(job_id) else None
    if job is None or job.project != project:
        raise unknown_job(job_id)
    if job.finished_at is not None:
        raise Conflict(
            f"The job finished at {job.finished_at.isoformat()}; there is nothing to cancel.",
            details={"state": job.state},
        )
    still = pending_positions(tx, job_id, range(job.total))
    if not still:  # every item ended: the job finishes as it is, and was not cancelled
        raise Conflict(
            "Every item of the job has finished; there is nothing to cancel.",
            details={"state": job.state},
        )
    tx.execute(import_jobs.update().where(import_jobs.c.id == job_id).values(cancelled_at=utcnow()))
    reason = "The job was cancelled before this item finished."
    record_items(tx, job_id, [ItemOutcome.failed(p, CANCELLED, reason) for p in still])
    finish(tx, job_id, webhook_hold)


# --- Reads ------------------------------------------------------------------------------------


_CANCELLED = sa.select(import_jobs.c.cancelled_at.is_not(None)).where(
    import_jobs.c.id == sa.bindparam("job_id")
)


async def is_cancelled(conn: AsyncConnection, job_id: str) -> bool:
    """Whether the job was cancelled (or is gone): the cheap read a chunk's watch repeats."""
    cancelled = await conn.scalar(_CANCELLED, {"job_id": job_id})
    return cancelled is None or bool(cancelled)


async def read_job(
    conn: AsyncConnection, job_id: str, *, project: str | None = None, kind: str | None = None
) -> Job | None:
    """The job, if it is `project`'s (and of `kind`) when those are given."""
    if not JOB_ID.fullmatch(job_id):  # no job has such an id (and PostgreSQL takes no NUL)
        return None
    query = sa.select(import_jobs).where(import_jobs.c.id == job_id)
    if project is not None:
        query = query.where(import_jobs.c.project == project)
    if kind is not None:
        query = query.where(import_jobs.c.kind == kind)
    row = (await conn.execute(query)).first()
    return job_of(row) if row is not None else None


async def pending_items(conn: AsyncConnection, job_id: str, positions: list[int]) -> list[Item]:
    """Those of `positions` that are still pending."""
    rows = await conn.execute(
        sa.select(import_items).where(
            import_items.c.job_id == job_id,
            import_items.c.position.in_(positions),
            import_items.c.state == ItemState.PENDING,
        )
    )
    return [item_of(row) for row in rows]


async def finished_items(
    conn: AsyncConnection,
    job_id: str,
    *,
    failed_only: bool = False,
    after: int = -1,
    limit: int | None = None,
) -> list[Item]:
    """The job's finished (or only its failed) items after position `after`, in order."""
    wanted = [ItemState.FAILED] if failed_only else FINISHED_STATES
    query = (
        sa.select(import_items)
        .where(
            import_items.c.job_id == job_id,
            import_items.c.state.in_(wanted),
            import_items.c.position > after,
        )
        .order_by(import_items.c.position)
    )
    if limit is not None:
        query = query.limit(limit)
    return [item_of(row) for row in await conn.execute(query)]


def _counts(job_id: str) -> sa.Select[str, int]:
    return (
        sa.select(import_items.c.state, sa.func.count())
        .where(import_items.c.job_id == job_id)
        .group_by(import_items.c.state)
    )


async def progress(conn: AsyncConnection, job: Job) -> Progress:
    """The job's progress, counted from its items' states."""
    return Progress.counted(job.total, (await conn.execute(_counts(job.id))).all())


async def progress_of(conn: AsyncConnection, jobs: Sequence[Job]) -> dict[str, Progress]:
    """Each job's progress, in one statement."""
    counts: dict[str, list[tuple[str, int]]] = {job.id: [] for job in jobs}
    if jobs:
        rows = await conn.execute(
            sa.select(import_items.c.job_id, import_items.c.state, sa.func.count())
            .where(import_items.c.job_id.in_(list(counts)))
            .group_by(import_items.c.job_id, import_items.c.state)
        )
        for job_id, state, count in rows:
            counts[job_id].append((state, count))
    return {job.id: Progress.counted(job.total, counts[job.id]) for job in jobs}


async def newest_jobs(
    conn: AsyncConnection,
    project: str,
    *,
    kind: str | None,
    state: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Job], str | None]:
    """A page of the project's jobs, newest first, and the cursor of the next page."""
    query = sa.select(import_jobs).where(import_jobs.c.project == project)
    if kind is not None:
        query = query.where(import_jobs.c.kind == kind)
    if state is not None:
        query = query.where(import_jobs.c.state == state)
    query = keyset.newest_first(query, import_jobs.c.started_at, import_jobs.c.id, cursor, limit)
    jobs = [job_of(row) for row in await conn.execute(query)]
    shown = jobs[:limit]
    last = shown[-1] if len(jobs) > limit else None
    return shown, keyset.encode(last.started_at, last.id) if last else None


async def jobs_by_state(conn: AsyncConnection) -> dict[str, int]:
    """How many jobs there are in each state."""
    query = sa.select(import_jobs.c.state, sa.func.count()).group_by(import_jobs.c.state)
    found: dict[str, int] = {state: count for state, count in (await conn.execute(query)).all()}
    return {state: found.get(state, 0) for state in JobState} | found
