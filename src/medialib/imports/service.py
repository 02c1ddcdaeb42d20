"""The front door to imports: start a job, read its status, list and cancel jobs, retry a job's
failed items. Built once per process (`bootstrap.Runtime.imports`) with the settings that bound
a job, and called by the API's routes, the web view's pages and the commands alike."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from medialib.db.engine import Database, Tx
from medialib.errors import BadRequest
from medialib.imports import status, store
from medialib.imports.cancels import CancelSignals
from medialib.imports.kinds import ImportKind, ImportKinds
from medialib.imports.records import Item, Job, JobState
from medialib.imports.requests import ImportRequest, parse_import
from medialib.imports.status import ItemPage, JobPage, JobStatus, JobSummary
from medialib.imports.tasks import finish_job, process_items
from medialib.library.models import JsonObject
from medialib.library.projects import Project

log = logging.getLogger("medialib.imports")


@dataclass(frozen=True)
class JobBounds:
    """How large a job may be and how it is cut up: the settings every start obeys."""

    max_items: int  # items per job
    max_open_jobs: int  # jobs of one project running at once
    chunk_size: int  # items per task
    webhook_hold: float = 0.0  # seconds a job's webhook waits after the job started, at least


class Imports:
    def __init__(
        self,
        db: Database,
        kinds: ImportKinds,
        bounds: JobBounds,
        signals: CancelSignals | None = None,
    ) -> None:
        self.db = db
        self.kinds = kinds
        self.bounds = bounds
        self.signals = signals or CancelSignals()

    async def start(self, project: Project, kind: ImportKind, body: object) -> str:
        """Check a request body completely (a 400 names every bad field), then start its job;
        the new job's id."""
        request = parse_import(body, kind, project, self.bounds.max_items)
        return await self._start(project, request)

    async def status(
        self, project: str, kind: ImportKind, job_id: str, page: ItemPage | None = None
    ) -> JobStatus:
        """A job of `project` and `kind` with its finished items (a page of them)."""
        return await status.job_status(self.db, project, kind, job_id, page)

    async def job(self, project: str, job_id: str) -> JobSummary:
        """A job of `project`, of any kind, with its progress."""
        return await status.job_summary(self.db, project, job_id)

    async def jobs(
        self,
        project: str,
        *,
        kind: str | None = None,
        state: JobState | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> JobPage:
        """The project's jobs, newest first."""
        return await status.list_jobs(
            self.db, project, kind=kind, state=state, limit=limit, cursor=cursor
        )

    async def count_by_state(self) -> dict[str, int]:
        """Every project's jobs, counted by state (for /metrics)."""
        async with self.db.read() as conn:
            return await store.jobs_by_state(conn)

    async def cancel(self, project: str, job_id: str) -> JobSummary:
        """Cancel a running job of `project`; the job as it now stands. Its chunks running in
        this process stop at once, those in other processes at their watch's next read."""
        hold = self.bounds.webhook_hold
        await self.db.transact(lambda tx: store.cancel(tx, project, job_id, hold))
        self.signals.cancelled(job_id)
        log.info("job cancelled", extra={"job_id": job_id, "project": project})
        return await self.job(project, job_id)

    async def retry(self, project: Project, job_id: str) -> str:
        """A new job of the same kind, system and webhook for the failed items of a job of
        `project`, as they were asked for (its context says `retryOf`); its id. Checked as a new
        import is: an item whose media type is gone now fails the request."""
        job, failed = await self._failed_items(project.handle, job_id)
        if not failed:
            raise BadRequest(details={"id": f"Import job '{job.id}' has no failed items."})
        kind = self.kinds.named(job.kind)
        body = {
            "systemName": job.system_name,
            "webhook": job.webhook,
            "context": {"retryOf": job.id},
            kind.plural: [_asked(item) for item in failed],
        }
        request = parse_import(body, kind, project, max_items=max(len(failed), 1))
        return await self._start(project, request)

    async def _failed_items(self, project: str, job_id: str) -> tuple[Job, list[Item]]:
        async with self.db.read(snapshot=True) as conn:
            job = await store.read_job(conn, job_id, project=project)
            if job is None:
                raise store.unknown_job(job_id)
            return job, await store.finished_items(conn, job.id, failed_only=True)

    async def _start(self, project: Project, request: ImportRequest) -> str:
        """The job's rows and the tasks that work its chunks, in one transaction."""
        new = store.new_job(project, request)
        chunks = list(store.chunks(new.pending_positions, self.bounds.chunk_size))

        def write(tx: Tx) -> None:
            store.insert(tx, new, max_open_jobs=self.bounds.max_open_jobs)
            for positions in chunks:
                process_items.defer(tx, job_id=new.id, positions=positions)
            if not chunks:
                finish_job.defer(tx, job_id=new.id)

        await self.db.transact(write)
        job = new.job
        log.info(
            "job started: %d item(s)",
            job.total,
            extra={"job_id": job.id, "project": job.project, "kind": job.kind, "total": job.total},
        )
        return new.id


def _asked(item: Item) -> JsonObject:
    """An item as its import asked for it."""
    return {
        "url": item.url,
        "id": item.external_id,
        "fileName": item.file_name,
        "mediaType": item.media_type,
        "metadata": item.metadata,
    }
