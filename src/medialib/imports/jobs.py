"""Import jobs and their items: the rows, the accounting (items recorded, the pending count, the
job finished with its webhook in the outbox) and the status read back.

Progress is counted one way, from the items' states (`progress`); the job's `pending` column is
a counter that the transaction recording items takes down, so that exactly one transaction sees
it reach 0 however many workers record items at once.
"""

from __future__ import annotations

import enum
import re
import secrets
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from medialib.db import keyset, outbox
from medialib.db.engine import Database, Tx
from medialib.db.tables import import_items, import_jobs, utcnow
from medialib.errors import Conflict, NotFound, TooManyRequests
from medialib.imports.kinds import ImportKind, kind_named
from medialib.imports.requests import ImportRequest
from medialib.library.events import IMPORT_FINISHED, FailedItem, FinishedJob, record_job_finished
from medialib.library.metadata import MetadataIssue, without_nulls
from medialib.library.projects import Project

_ID_ALPHABET = string.ascii_lowercase + string.digits
JOB_ID = re.compile(r"[a-z0-9]{12}")  # fullmatch: `$` would let a trailing newline in


class JobState(enum.StrEnum):
    STARTED = "started"
    SUCCESS = "success"  # finished, and not every item failed
    FAILED = "failed"  # finished, and every item failed


class ItemState(enum.StrEnum):
    PENDING = "pending"
    SUCCESS = "success"
    SKIPPED = "skipped"
    FAILED = "failed"


FINISHED_STATES = (ItemState.SUCCESS, ItemState.SKIPPED, ItemState.FAILED)


@dataclass
class ItemOutcome:
    """How one item ended, as its row records it."""

    position: int
    state: ItemState
    action: str | None = None
    reason: str | None = None
    reason_code: str | None = None
    result: dict[str, Any] | None = None

    @classmethod
    def failed(cls, position: int, code: str, reason: str) -> ItemOutcome:
        return cls(position, ItemState.FAILED, reason=reason, reason_code=code)


def new_job_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))


def chunks(positions: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(positions), size):
        yield positions[start : start + size]


@dataclass(frozen=True)
class NewJob:
    """A job's rows, made from a request before anything is written."""

    job: dict[str, Any]
    items: list[dict[str, Any]]

    @property
    def id(self) -> str:
        return str(self.job["id"])

    @property
    def pending(self) -> list[int]:
        return [row["position"] for row in self.items if row["state"] == ItemState.PENDING]


def new_job(project: Project, request: ImportRequest) -> NewJob:
    """The job and its items. Items whose metadata already breaks the media type's rules (types,
    unknown properties) fail here, without a download; required properties may still come from
    the file's own metadata, so those are checked after the download."""
    job_id, now = new_job_id(), utcnow()
    items = []
    for position, item in enumerate(request.items):
        media_type = project.media_types[item.mediaType or request.kind.name]
        issues = media_type.schema.validate(item.metadata, partial=True)
        items.append(
            {
                "job_id": job_id,
                "position": position,
                "external_id": item.id,
                "url": item.url,
                "file_name": item.fileName,
                "media_type": media_type.handle,
                "metadata": without_nulls(item.metadata),
                "state": ItemState.FAILED if issues else ItemState.PENDING,
                "action": None,
                "reason": _reason(issues) if issues else None,
                "reason_code": "invalid_metadata" if issues else None,
                "result": None,
                "finished_at": now if issues else None,
            }
        )
    job = {
        "id": job_id,
        "project": project.handle,
        "kind": request.kind.name,
        "system_name": request.system_name,
        "webhook": request.webhook,
        "context": request.context,
        "state": JobState.STARTED,
        "total": len(items),
        "pending": sum(1 for row in items if row["state"] == ItemState.PENDING),
        "started_at": now,
        "finished_at": None,
    }
    return NewJob(job, items)


def _reason(issues: list[MetadataIssue]) -> str:
    return "; ".join(issue.message() for issue in issues)


def insert(tx: Tx, job: NewJob, *, max_open_jobs: int) -> None:
    """Write the job and its items, unless its project has too many jobs running already."""
    project = job.job["project"]
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
    tx.execute(import_jobs.insert().values(**job.job))
    tx.execute(import_items.insert(), job.items)


# --- Accounting -------------------------------------------------------------------------------


def lock_job(tx: Tx, job_id: str) -> Any:
    """The job's row; on PostgreSQL locked until the transaction ends."""
    query = sa.select(import_jobs).where(import_jobs.c.id == job_id)
    if tx.is_postgres:
        query = query.with_for_update()
    return tx.execute(query).first()


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
    .returning(import_jobs.c.pending)
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
    left: int | None = tx.conn.scalar(_PENDING_DOWN, {"b_id": job_id, "b_done": len(outcomes)})
    return left == 0


@dataclass
class Progress:
    total: int
    success: int = 0
    skipped: int = 0
    failed: int = 0

    @property
    def done(self) -> int:
        return self.success + self.skipped + self.failed


def _counts(job_id: str) -> Any:
    return (
        sa.select(import_items.c.state, sa.func.count())
        .where(import_items.c.job_id == job_id)
        .group_by(import_items.c.state)
    )


def _progress(rows: Any, total: int) -> Progress:
    progress = Progress(total=total)
    for state, count in rows:
        if state != ItemState.PENDING:
            setattr(progress, state, count)
    return progress


async def progress(conn: AsyncConnection, job_id: str, total: int) -> Progress:
    """The job's progress, counted from its items' states."""
    return _progress((await conn.execute(_counts(job_id))).all(), total)


def _progress_in(conn: Connection, job_id: str, total: int) -> Progress:
    return _progress(conn.execute(_counts(job_id)).all(), total)


def finish(tx: Tx, job_id: str) -> None:
    """Finish a job whose items are all done: `success`, or `failed` when every item failed;
    its webhook goes into the outbox in the same transaction."""
    job = lock_job(tx, job_id)
    if job is None or job.finished_at is not None:
        return
    progress = _progress_in(tx.conn, job_id, job.total)
    if progress.done < job.total:
        return
    state = JobState.FAILED if progress.failed == job.total else JobState.SUCCESS
    finished = tx.execute(
        import_jobs.update()
        .where(import_jobs.c.id == job_id, import_jobs.c.finished_at.is_(None))
        .values(state=state, finished_at=utcnow())
    )
    if finished.rowcount == 1 and job.webhook:
        record_job_finished(tx, _finished_job(tx.conn, job, state, progress))


def _finished_job(conn: Connection, job: Any, state: JobState, progress: Progress) -> FinishedJob:
    """What the job's webhook tells (the catalogue, library/events.py, makes its payload)."""
    failed = conn.execute(
        sa.select(import_items.c.external_id, import_items.c.reason)
        .where(import_items.c.job_id == job.id, import_items.c.state == ItemState.FAILED)
        .order_by(import_items.c.position)
    ).all()
    return FinishedJob(
        id=job.id,
        project=job.project,
        kind=kind_named(job.kind).name,
        state=state,
        webhook=job.webhook,
        context=job.context,
        total=progress.total,
        success=progress.success,
        skipped=progress.skipped,
        failed=progress.failed,
        failed_items=tuple(FailedItem(i.external_id, i.reason) for i in failed),
    )


CANCELLED = "cancelled"


def cancel(tx: Tx, project: str, job_id: str) -> None:
    """Stop a running job: its unfinished items fail with reason code `cancelled` and the job
    finishes in the same transaction (its webhook goes out). Work already under way for those
    items is thrown away when it ends (recording skips items that are no longer pending)."""
    job = lock_job(tx, job_id) if JOB_ID.fullmatch(job_id) else None
    if job is None or job.project != project:
        raise _unknown_job(job_id)
    if job.finished_at is not None:
        raise Conflict(
            f"The job finished at {job.finished_at.isoformat()}; there is nothing to cancel.",
            details={"state": job.state},
        )
    still = pending_positions(tx, job_id, range(job.total))
    reason = "The job was cancelled before this item finished."
    record_items(tx, job_id, [ItemOutcome.failed(p, CANCELLED, reason) for p in still])
    finish(tx, job_id)


# --- Status -----------------------------------------------------------------------------------


@dataclass
class JobStatus:
    job: Any
    kind: ImportKind
    progress: Progress
    items: list[Any]
    webhook: outbox.DeliveryView | None


def _no_job(kind: ImportKind, job_id: str) -> NotFound:
    shown = job_id if len(job_id) <= 64 else job_id[:64] + "…"
    return NotFound(
        f"no {kind.name} import job {shown!r}",
        details={"id": f"No {kind.name} import job with id '{shown}'"},
    )


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


async def job_status(
    db: Database, project: str, kind: ImportKind, job_id: str, page: ItemPage | None = None
) -> JobStatus:
    """A job of `project` and `kind` with its finished items; another project's job is 404."""
    page = page or ItemPage()
    if not JOB_ID.fullmatch(job_id):
        raise _no_job(kind, job_id)
    async with db.read(snapshot=True) as conn:  # the items and the counts agree
        job = (
            await conn.execute(
                sa.select(import_jobs).where(
                    import_jobs.c.id == job_id,
                    import_jobs.c.project == project,
                    import_jobs.c.kind == kind.name,
                )
            )
        ).first()
        if job is None:
            raise _no_job(kind, job_id)
        items = (
            (await conn.execute(_items(job_id, page))).all()
            if page.which != ItemFilter.NONE
            else []
        )
        counted = await progress(conn, job_id, job.total)
        webhook = await outbox.delivery_of(conn, IMPORT_FINISHED, job_id) if job.webhook else None
    return JobStatus(job, kind, counted, list(items), webhook)


def _items(job_id: str, page: ItemPage) -> sa.Select[Any]:
    wanted = [ItemState.FAILED] if page.which == ItemFilter.FAILED else FINISHED_STATES
    query = (
        sa.select(import_items)
        .where(
            import_items.c.job_id == job_id,
            import_items.c.state.in_(wanted),
            import_items.c.position > page.after,
        )
        .order_by(import_items.c.position)
    )
    return query if page.limit is None else query.limit(page.limit)


# --- Listing ----------------------------------------------------------------------------------


@dataclass
class JobSummary:
    job: Any
    progress: Progress


@dataclass
class JobPage:
    jobs: list[JobSummary]
    next_cursor: str | None


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
    query = sa.select(import_jobs).where(import_jobs.c.project == project)
    if kind is not None:
        query = query.where(import_jobs.c.kind == kind)
    if state is not None:
        query = query.where(import_jobs.c.state == state)
    query = keyset.newest_first(query, import_jobs.c.started_at, import_jobs.c.id, cursor, limit)
    async with db.read(snapshot=True) as conn:
        jobs = (await conn.execute(query)).all()
        shown = jobs[:limit]
        counts = await _counts_of(conn, [job.id for job in shown])
    summaries = [JobSummary(job, _progress(counts.get(job.id, []), job.total)) for job in shown]
    more = len(jobs) > limit
    last = shown[-1] if more else None
    return JobPage(summaries, keyset.encode(last.started_at, last.id) if last else None)


async def job_summary(db: Database, project: str, job_id: str) -> JobSummary:
    """One job of `project` with its progress, as the job list shows it."""
    if not JOB_ID.fullmatch(job_id):  # no job has such an id (and PostgreSQL takes no NUL)
        raise _unknown_job(job_id)
    async with db.read(snapshot=True) as conn:
        job = (
            await conn.execute(
                sa.select(import_jobs).where(
                    import_jobs.c.id == job_id, import_jobs.c.project == project
                )
            )
        ).first()
        if job is None:
            raise _unknown_job(job_id)
        return JobSummary(job, await progress(conn, job_id, job.total))


def _unknown_job(job_id: str) -> NotFound:
    """A job of any kind that the project does not have (the job list and cancel)."""
    return NotFound(details={"message": f"No import job found with id '{job_id}'"})


async def _counts_of(conn: AsyncConnection, job_ids: list[str]) -> dict[str, list[Any]]:
    if not job_ids:
        return {}
    rows = await conn.execute(
        sa.select(import_items.c.job_id, import_items.c.state, sa.func.count())
        .where(import_items.c.job_id.in_(job_ids))
        .group_by(import_items.c.job_id, import_items.c.state)
    )
    counts: dict[str, list[Any]] = {}
    for job_id, state, count in rows:
        counts.setdefault(job_id, []).append((state, count))
    return counts
