"""Import jobs: created with their items and tasks in one transaction, read back as a status."""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from medialib.config import Project
from medialib.db.engine import Database, Tx
from medialib.db.tables import import_items, import_jobs, utcnow
from medialib.errors import NotFound, TooManyRequests
from medialib.imports.requests import ImportRequest, Kind
from medialib.library.metadata import without_nulls
from medialib.tasks.registry import TaskQueue

_ID_ALPHABET = string.ascii_lowercase + string.digits


JOB_ID = re.compile(r"^[a-z0-9]{12}$")


def _no_job(kind: Kind, job_id: str) -> NotFound:
    shown = job_id if len(job_id) <= 64 else job_id[:64] + "…"
    return NotFound(
        f"no {kind} import job {shown!r}", details={"id": f"No {kind} import job with id '{shown}'"}
    )


def new_job_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))


def chunks(positions: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(positions), size):
        yield positions[start : start + size]


async def create_job(
    db: Database,
    queue: TaskQueue,
    project: Project,
    request: ImportRequest,
    *,
    chunk_size: int,
    max_open_jobs: int,
) -> str:
    """The job, its items and the tasks that work them, all in one transaction.

    Items whose metadata already breaks the media type's rules (types, unknown properties)
    fail here without a download; required properties may still come from the file's own
    metadata, so those are checked after the download.
    """
    job_id = new_job_id()
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for position, item in enumerate(request.items):
        media_type = project.media_types[item.mediaType or request.kind]
        issues = media_type.schema.validate(item.metadata, partial=True)
        rows.append(
            {
                "job_id": job_id,
                "position": position,
                "external_id": item.id,
                "url": item.url,
                "file_name": item.fileName,
                "media_type": media_type.handle,
                "metadata": without_nulls(item.metadata),
                "state": "failed" if issues else "pending",
                "action": None,
                "reason": "; ".join(i.message() for i in issues) if issues else None,
                "reason_code": "invalid_metadata" if issues else None,
                "media_id": None,
                "result": None,
                "finished_at": now if issues else None,
            }
        )
    pending: list[int] = [row["position"] for row in rows if row["state"] == "pending"]
    job = {
        "id": job_id,
        "project": project.handle,
        "kind": request.kind,
        "system_name": request.system_name,
        "webhook": request.webhook,
        "context": request.context,
        "state": "started",
        "total": len(rows),
        "pending": len(pending),
        "started_at": now,
        "finished_at": None,
        "webhook_state": "none",
        "webhook_attempts": 0,
        "webhook_status_code": None,
    }

    def write(tx: Tx) -> None:
        open_jobs = tx.conn.scalar(
            sa.select(sa.func.count()).where(
                import_jobs.c.project == project.handle, import_jobs.c.finished_at.is_(None)
            )
        )
        if (open_jobs or 0) >= max_open_jobs:
            raise TooManyRequests(
                f"{open_jobs} import jobs of this project are still running, and at most "
                f"{max_open_jobs} may be; try again when one has finished.",
                retry_after=30,
            )
        tx.execute(import_jobs.insert().values(**job))
        tx.execute(import_items.insert(), rows)
        for positions in chunks(pending, chunk_size):
            tx.defer("process_items", {"job_id": job_id, "positions": positions})
        if not pending:
            tx.defer("finish_job", {"job_id": job_id})

    await db.transact(write, queue)
    return job_id


@dataclass
class Progress:
    total: int
    success: int = 0
    skipped: int = 0
    failed: int = 0

    @property
    def done(self) -> int:
        return self.success + self.skipped + self.failed


@dataclass
class JobStatus:
    job: Any
    progress: Progress
    items: list[Any]


def _progress(rows: Any, total: int) -> Progress:
    progress = Progress(total=total)
    for state, count in rows:
        if state in ("success", "skipped", "failed"):
            setattr(progress, state, count)
    return progress


def _counts(job_id: str) -> Any:
    return (
        sa.select(import_items.c.state, sa.func.count())
        .where(import_items.c.job_id == job_id)
        .group_by(import_items.c.state)
    )


async def progress_of(conn: AsyncConnection, job_id: str, total: int) -> Progress:
    return _progress((await conn.execute(_counts(job_id))).all(), total)


def progress_in(tx: Tx, job_id: str, total: int) -> Progress:
    return _progress(tx.execute(_counts(job_id)).all(), total)


async def job_status(db: Database, project: str, kind: Kind, job_id: str) -> JobStatus:
    """A job of `project` and `kind` with its finished items; another project's job is 404."""
    if not JOB_ID.match(job_id):
        raise _no_job(kind, job_id)
    async with db.read() as conn:
        job = (
            await conn.execute(
                sa.select(import_jobs).where(
                    import_jobs.c.id == job_id,
                    import_jobs.c.project == project,
                    import_jobs.c.kind == kind,
                )
            )
        ).first()
        if job is None:
            raise _no_job(kind, job_id)
        items = (
            await conn.execute(
                sa.select(import_items)
                .where(import_items.c.job_id == job_id, import_items.c.state != "pending")
                .order_by(import_items.c.position)
            )
        ).all()
    progress = Progress(total=job.total)
    for item in items:
        setattr(progress, item.state, getattr(progress, item.state) + 1)
    return JobStatus(job, progress, list(items))
