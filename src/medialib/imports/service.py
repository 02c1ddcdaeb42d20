"""Starting an import (the job, its items and the tasks that work them, in one transaction) and
cancelling one."""

from __future__ import annotations

from medialib.db.engine import Database, Tx
from medialib.imports import jobs
from medialib.imports.requests import ImportRequest
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
