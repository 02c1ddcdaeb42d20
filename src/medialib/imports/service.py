"""Starting an import (the job, its items and the tasks that work them, in one transaction) and
cancelling one."""

from __future__ import annotations

import sqlalchemy as sa

from medialib.db.engine import Database, Tx
from medialib.db.tables import import_items
from medialib.errors import BadRequest
from medialib.imports import jobs
from medialib.imports.kinds import kind_named
from medialib.imports.requests import ImportRequest, parse_import
from medialib.imports.tasks import finish_job, process_items
from medialib.library.projects import Project


async def start_job(
    db: Database,
    project: Project,
    request: ImportRequest,
    *,
    chunk_size: int,
    max_open_jobs: int,
) -> str:
    """The new job's id; its chunks are queued in the transaction that writes it."""
    job = jobs.new_job(project, request)

    def write(tx: Tx) -> None:
        jobs.insert(tx, job, max_open_jobs=max_open_jobs)
        for positions in jobs.chunks(job.pending, chunk_size):
            process_items.defer(tx, job_id=job.id, positions=positions)
        if not job.pending:
            finish_job.defer(tx, job_id=job.id)

    await db.transact(write)
    return job.id


async def cancel_job(db: Database, project: str, job_id: str) -> jobs.JobSummary:
    """Cancel a running job of `project`; the job as it now stands."""
    await db.transact(lambda tx: jobs.cancel(tx, project, job_id))
    return await jobs.job_summary(db, project, job_id)


async def retry_failed(
    db: Database, project: Project, job_id: str, *, chunk_size: int, max_open_jobs: int
) -> str:
    """A new job of the same kind, system and webhook for the failed items of a finished job
    of `project`, as they were asked for; its id. Checked as a new import is."""
    summary = await jobs.job_summary(db, project.handle, job_id)
    job = summary.job
    async with db.read() as conn:
        failed = (
            await conn.execute(
                sa.select(import_items)
                .where(
                    import_items.c.job_id == job.id,
                    import_items.c.state == jobs.ItemState.FAILED,
                )
                .order_by(import_items.c.position)
            )
        ).all()
    if not failed:
        raise BadRequest(details={"id": f"Import job '{job.id}' has no failed items."})
    kind = kind_named(job.kind)
    raw = {
        "systemName": job.system_name,
        "webhook": job.webhook,
        "context": {"retryOf": job.id},
        kind.plural: [
            {
                "url": item.url,
                "id": item.external_id,
                "fileName": item.file_name,
                "mediaType": item.media_type,
                "metadata": item.metadata,
            }
            for item in failed
        ],
    }
    request = parse_import(raw, kind, project, max_items=max(len(failed), 1))
    return await start_job(db, project, request, chunk_size=chunk_size, max_open_jobs=max_open_jobs)
