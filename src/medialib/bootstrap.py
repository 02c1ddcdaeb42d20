"""The composition root: the services one process works with, built once from the settings, and
the task sets every process registers. The API (api/app.py) and the commands (cli/) start from
here; the worker command never loads the HTTP layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from medialib import metrics
from medialib.db.engine import Database
from medialib.db.schema import ensure_schema
from medialib.errors import ConfigError
from medialib.events.tasks import TASKS as EVENT_TASKS
from medialib.events.tasks import dispatch
from medialib.imports.cancels import CancelSignals
from medialib.imports.kinds import KINDS, ImportKinds
from medialib.imports.service import Imports, JobBounds
from medialib.imports.tasks import TASKS as IMPORT_TASKS
from medialib.library.analysis import TASKS as ANALYSIS_TASKS
from medialib.library.config import AppConfig, load_config
from medialib.library.projects import Project, sync_projects
from medialib.library.tasks import TASKS as LIBRARY_TASKS
from medialib.library.tasks import start_sweeps
from medialib.media.analysis.processes import Analyzer, ProcessLimits, analysis_processes
from medialib.media.fetch import Fetcher, FetchPolicy, parse_networks
from medialib.media.storage import Storage
from medialib.media.urls import AssetUrls, ImageService
from medialib.server_secret import ServerSecret, load_server_secret
from medialib.settings import Settings
from medialib.tasks.core import Registry, RetryPolicy, Runner, Worker
from medialib.tasks.local import LocalRunner

REGISTRY = Registry(IMPORT_TASKS, EVENT_TASKS, LIBRARY_TASKS, ANALYSIS_TASKS)


@dataclass
class Runtime:
    """What one process works with: it satisfies every task set's services Protocol."""

    settings: Settings
    config: AppConfig
    db: Database
    storage: Storage
    runner: Runner
    fetch_policy: FetchPolicy
    kinds: ImportKinds = KINDS
    # A cancel made by this process's API reaches its own running chunks at once.
    cancel_signals: CancelSignals = field(default_factory=CancelSignals)
    _fetcher: Fetcher | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, kinds: ImportKinds = KINDS) -> Runtime:
        """Everything checked before anything starts: a broken setting stops here, by name."""
        # Made readable by its owner only: it holds the database (every project's webhook
        # secret, on the embedded default) and the server secret.
        settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        config = load_config(settings.config_path)
        storage = Storage(settings.resolved_storage_url, s3_endpoint=settings.s3_endpoint)
        runner = _runner(settings)
        db = Database(settings.resolved_database_url, queue=runner.queue, dispatch=dispatch)
        runtime = cls(settings, config, db, storage, runner, _fetch_policy(settings), kinds)
        runtime.metrics_allow  # noqa: B018  a bad MEDIALIB_METRICS_ALLOW stops the start
        return runtime

    @cached_property
    def secret(self) -> ServerSecret:
        """The server secret (made in the home on first use): what only servers may sign."""
        configured = self.settings.secret_key
        return load_server_secret(
            configured.get_secret_value() if configured else None, self.settings.home
        )

    @cached_property
    def metrics_allow(self) -> metrics.Networks:
        """Who may read the metrics."""
        try:
            return metrics.parse_allow(self.settings.metrics_allow)
        except ValueError as exc:
            raise ConfigError(f"MEDIALIB_METRICS_ALLOW: {exc}") from exc

    @cached_property
    def imports(self) -> Imports:
        """The front door to imports, bounded by the settings."""
        bounds = JobBounds(
            max_items=self.settings.max_items_per_job,
            max_open_jobs=self.settings.max_open_jobs,
            chunk_size=self.settings.import_chunk_size,
            webhook_hold=self.settings.job_webhook_hold,
        )
        return Imports(self.db, self.kinds, bounds, self.cancel_signals)

    @property
    def projects(self) -> dict[str, Project]:
        return self.config.projects

    @cached_property
    def analyzer(self) -> Analyzer:
        """The analysis processes (with the face detector unless it is turned off), started at
        the first picture: this process never loads numpy or OpenCV."""
        limits = ProcessLimits(
            memory=self.settings.face_detector_memory,
            timeout=self.settings.face_detector_timeout,
            processes=self.settings.face_detectors,
        )
        return analysis_processes(limits, faces=self.settings.face_detection == "on")

    @property
    def temp_dir(self) -> Path:
        return self.settings.temp_dir

    @property
    def analysis_pause(self) -> float:
        return self.settings.analysis_pause

    @property
    def image_analysis(self) -> bool:
        return self.settings.image_analysis

    @property
    def urls(self) -> AssetUrls:
        return AssetUrls(self.settings.media_base_url, self.config.imgix, self.image_service)

    @property
    def image_service(self) -> ImageService:
        return ImageService(self.settings.rendition_base_url, self.config.rendition_token)

    @property
    def fetcher(self) -> Fetcher:
        """Made on first use (or by `load_fetcher`), inside the event loop that will use it."""
        return self._fetcher or self.load_fetcher()

    def load_fetcher(self) -> Fetcher:
        if self._fetcher is None:
            # Imported here, not at the top: aiohttp (about 6 MB resident) is loaded by the
            # processes that fetch, never by a server that only serves HTTP.
            from medialib.media.http_fetcher import HttpFetcher

            self._fetcher = HttpFetcher(self.fetch_policy)
        return self._fetcher

    async def close(self) -> None:
        if self._fetcher is not None:
            await self._fetcher.close()
        await self.db.close()


def _runner(settings: Settings) -> Runner:
    """One machine works its tasks from its own table; PostgreSQL deployments use procrastinate.
    Chosen here, once: nothing else asks which runner it is on."""
    retry = RetryPolicy(settings.task_retry_base)
    if settings.is_sqlite:
        return LocalRunner(REGISTRY, retry)
    # Imported here, not at the top: procrastinate and psycopg (libpq, about 11 MB resident)
    # are loaded by PostgreSQL deployments only.
    from medialib.tasks.procrastinate import ProcrastinateRunner

    return ProcrastinateRunner(
        settings.resolved_database_url, REGISTRY, retry, stalled_after=settings.stalled_after
    )


def _fetch_policy(settings: Settings) -> FetchPolicy:
    try:
        allow = parse_networks(settings.fetch_allow)
    except ValueError as exc:
        raise ConfigError(f"MEDIALIB_FETCH_ALLOW: {exc}") from exc
    return FetchPolicy(
        allow=allow,
        concurrency=settings.fetch_concurrency,
        per_host=settings.fetch_per_host,
        timeout=settings.fetch_timeout,
        connect_timeout=settings.fetch_connect_timeout,
        retries=settings.fetch_retries,
        retry_base=settings.fetch_retry_base,
        max_redirects=settings.max_redirects,
    )


async def prepare(rt: Runtime, *, migrate_apart: bool = False) -> None:
    """Schema and project rows, before the first request or task. A long-running process
    migrates `apart`, in a child process (db/schema.py): it never holds alembic."""
    await ensure_schema(rt.db, migrate_apart=migrate_apart)
    await sync_projects(rt.db, rt.projects.values())


async def start_worker(rt: Runtime) -> Worker:
    """This process works tasks too, `worker_concurrency` at once."""
    rt.settings.temp_dir.mkdir(parents=True, exist_ok=True)
    rt.load_fetcher()  # aiohttp now: a first download must not wait for its import
    worker = rt.runner.worker(rt, concurrency=rt.settings.worker_concurrency)
    await worker.start()
    every = rt.settings.sweep_every
    await rt.db.transact(lambda tx: start_sweeps(tx, every))
    return worker
