"""Moving a manifest's rows through the import API: batches become jobs, at most a few open at
once, each job's results recorded in the state file as it finishes.

The order of writes makes a run resumable: a batch is marked `sending` (with its token) before
its POST and `running` (with the job id) after; a batch found `sending` by the next run is looked
up among the server's recent jobs by the token in their `context`, and sent again only when no
job carries it (it was never accepted).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from medialib.client.kinds import ClientKind
from medialib.client.manifest import Row
from medialib.client.server import Busy, ImportApi, patiently
from medialib.client.state import PLANNED, RUNNING, SENDING, Batch, State

CONTEXT_KEY = "medialibImport"
ITEM_STATES = ("success", "skipped", "failed")
# Reason codes worth another try: the origin or medialib was in trouble, not the item.
TRANSIENT = {
    "connect_error",
    "connection_error",
    "timeout",
    "storage_error",
    "internal_error",
    "cancelled",
    "http_408",
    "http_429",
}


@dataclass
class Options:
    kind: ClientKind
    system_name: str
    webhook: str | None = None
    batch_size: int = 1000
    open_jobs: int = 8
    poll_every: float = 1.0

    @property
    def plural(self) -> str:
        return self.kind.plural


@dataclass
class Snapshot:
    """How far the import is: rows finished before (in the state file), batches finished in this
    run, and the jobs running now, item by item from their progress."""

    total: int
    counts: dict[str, int]
    running: dict[str, dict[str, int]] = field(default_factory=dict)  # job id -> its progress
    started: float = field(default_factory=time.monotonic)
    # Rows this run did not see done: finished before it, or found done in jobs it inherited
    # from a killed run. The rate counts only the others.
    done_at_start: int = 0
    inherited: set[str] = field(default_factory=set)  # jobs running before this run began

    @classmethod
    def of(cls, state: State, total: int) -> Snapshot:
        """Where a run starts: what the state file has finished already, and the jobs it had
        running (their progress so far is not this run's doing)."""
        snapshot = cls(total=total, counts=state.counts())
        snapshot.done_at_start = snapshot.done
        snapshot.inherited = {b.job_id for b in state.batches(RUNNING) if b.job_id}
        return snapshot

    def inherit(self, job_id: str) -> None:
        """A job a killed run had posted, found by its token: its progress is not this run's."""
        self.inherited.add(job_id)

    def progress(self, job_id: str, progress: dict[str, Any]) -> None:
        """A running job's progress as its status tells it."""
        seen = {key: int(progress.get(key) or 0) for key in ("done", *ITEM_STATES)}
        self._first_sight(job_id, seen["done"])
        self.running[job_id] = seen

    def add(self, job_id: str | None, tally: dict[str, int]) -> None:
        """Count a finished batch's rows (the state file's counts, without asking it again:
        that query reads every row, once per batch)."""
        if job_id is not None:
            self._first_sight(job_id, sum(tally.get(s, 0) for s in ITEM_STATES))
            self.running.pop(job_id, None)
        for key, count in tally.items():
            self.counts[key] = self.counts.get(key, 0) + count

    def _first_sight(self, job_id: str, done: int) -> None:
        if job_id in self.inherited:
            self.inherited.discard(job_id)
            self.done_at_start += done

    def count(self, state: str) -> int:
        """Rows in `state` (success, skipped, failed): finished batches and running jobs."""
        return self.counts.get(state, 0) + sum(job.get(state, 0) for job in self.running.values())

    @property
    def succeeded_in_open_jobs(self) -> int:
        """Successes whose action (created or updated) is known only once their job finishes."""
        return sum(job.get("success", 0) for job in self.running.values())

    @property
    def done(self) -> int:
        return sum(self.count(state) for state in ITEM_STATES)


Report = Callable[[Snapshot], None]


class Importer:
    def __init__(self, api: ImportApi, state: State, rows: dict[int, Row], options: Options):
        self.api = api
        self.state = state
        self.rows = rows
        self.options = options
        self.snapshot = Snapshot.of(state, len(rows))
        # After a 429 while jobs of ours ran: until when, and how many of ours were running.
        self._held: tuple[float, int] | None = None

    def _held_back(self) -> bool:
        """Whether to wait still: until the Retry-After, or one of our jobs has finished."""
        if self._held is None:
            return False
        until, running = self._held
        if time.monotonic() < until and len(self.state.batches(RUNNING)) >= running:
            return True
        self._held = None
        return False

    async def run(self, report: Report) -> None:
        self.state.plan(self.options.batch_size)
        await self._settle_sending(inherited=True)
        while True:
            await self._send_while_room()
            await self._poll()
            report(self.snapshot)
            if not self.state.batches(PLANNED, SENDING, RUNNING):
                return
            await asyncio.sleep(self.options.poll_every)

    async def _settle_sending(self, *, inherited: bool = False) -> None:
        """Batches a killed run (`inherited`) or this one had posted: running when a job has
        their token, else planned."""
        sending = self.state.batches(SENDING)
        if not sending:
            return
        jobs = await patiently(self.api.recent_jobs)
        by_token = {(job.get("context") or {}).get(CONTEXT_KEY): job["id"] for job in jobs or []}
        for batch in sending:
            job_id = by_token.get(batch.token)
            if job_id is not None:
                self.state.mark(batch.id, RUNNING, job_id=job_id)
                if inherited:
                    self.snapshot.inherit(job_id)
            else:
                self.state.mark(batch.id, PLANNED)

    async def _send_while_room(self) -> None:
        if self._held_back():
            return
        while len(self.state.batches(SENDING, RUNNING)) < self.options.open_jobs:
            planned = self.state.batches(PLANNED)
            if not planned:
                return
            if not await self._send(planned[0]):
                return

    async def _send(self, batch: Batch) -> bool:
        """POST the batch; False when the server asks to wait (it stays planned)."""
        options = self.options
        body: dict[str, Any] = {
            "systemName": options.system_name,
            options.plural: [self.rows[line].item for line in self.state.lines_of(batch.id)],
            "context": {CONTEXT_KEY: batch.token},
        }
        if options.webhook:
            body["webhook"] = options.webhook
        self.state.mark(batch.id, SENDING, sent_at=time.time())
        try:
            job_id = await self.api.start(options.plural, body)
        except Busy as busy:
            if self.api.has_views is not False and busy.unreachable:
                # The POST may have arrived: the next look at the job list tells.
                await asyncio.sleep(busy.retry_after)
                await self._settle_sending()
                return False
            self.state.mark(batch.id, PLANNED)
            running = len(self.state.batches(RUNNING))
            if running:
                # At its open-job limit, the server asks to come back when a job has finished:
                # one of ours finishing says so before its Retry-After does. Meanwhile the
                # loop goes on polling them.
                self._held = (time.monotonic() + busy.retry_after, running)
            else:
                await asyncio.sleep(busy.retry_after)
            return False
        self.state.mark(batch.id, RUNNING, job_id=job_id)
        return True

    async def _poll(self) -> None:
        """How the open jobs stand: one request for the project's running jobs where the server
        has the job list; a job of ours not among them (finished, or past the first page) is
        asked for alone, as is each job on a server without the list."""
        running = self.state.batches(RUNNING)
        if not running:
            return
        try:
            started = await self.api.recent_jobs(pages=1, state="started")
            listed = {job["id"]: job for job in started or []}
        except Busy as busy:
            await asyncio.sleep(busy.retry_after)
            return
        for batch in running:
            assert batch.job_id is not None
            plural = self.options.plural
            try:
                status = listed.get(batch.job_id) or await self.api.progress(plural, batch.job_id)
                if not status.get("finished"):
                    self.snapshot.progress(batch.job_id, status.get("progress") or {})
                    continue
                items = await self.api.items(plural, batch.job_id)
            except Busy as busy:
                await asyncio.sleep(busy.retry_after)
                return
            results = {str(i.get("externalId")): result_of(i) for i in items}
            self.snapshot.add(batch.job_id, self.state.finish(batch.id, results))


def result_of(item: dict[str, Any]) -> dict[str, Any]:
    """A status item as the state file keeps it."""
    # What the entry made is described under the kind's own key (`image`, `video`), or in the
    # item itself (a file's `mediaId`).
    described = next((v for v in item.values() if isinstance(v, dict) and "mediaId" in v), item)
    return {
        "state": item.get("state") or item.get("status"),
        "action": item.get("action"),
        "mediaId": described.get("mediaId") if isinstance(described, dict) else None,
        "reasonCode": item.get("reasonCode"),
        "reason": item.get("reason"),
        "duplicateOf": item.get("duplicateOf"),
    }
