"""The long-lived pieces one process works with, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from medialib.api.limits import RateLimits
from medialib.api.versions import VersionTable
from medialib.config import AppConfig, load_config
from medialib.db.engine import Database
from medialib.errors import ConfigError
from medialib.fetch import Fetcher, FetchPolicy, parse_networks
from medialib.settings import Settings
from medialib.storage import Storage
from medialib.tasks.local import LocalQueue
from medialib.tasks.procrastinate_runner import ProcrastinateQueue
from medialib.tasks.registry import TaskQueue


@dataclass
class Runtime:
    settings: Settings
    config: AppConfig
    db: Database
    storage: Storage
    versions: VersionTable
    queue: TaskQueue
    fetch_policy: FetchPolicy
    rate_limits: RateLimits
    _fetcher: Fetcher | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        """Everything checked before anything starts: a broken setting stops here, by name."""
        config = load_config(settings.config_path)
        versions = VersionTable(settings.retired_versions)
        storage = Storage(settings.resolved_storage_url, s3_endpoint=settings.s3_endpoint)
        db = Database(settings.resolved_database_url)
        # One machine works its tasks from its own table; PostgreSQL deployments use procrastinate.
        url = settings.resolved_database_url
        queue: TaskQueue = LocalQueue() if db.is_sqlite else ProcrastinateQueue(url)
        runtime = cls(
            settings=settings,
            config=config,
            db=db,
            storage=storage,
            versions=versions,
            queue=queue,
            fetch_policy=_fetch_policy(settings),
            rate_limits=RateLimits(settings.rate_limit, settings.rate_limit_burst),
        )
        if isinstance(queue, ProcrastinateQueue):
            queue.bind(runtime)
        return runtime

    @property
    def fetcher(self) -> Fetcher:
        """Made on first use, inside the event loop that will use it."""
        if self._fetcher is None:
            self._fetcher = Fetcher(self.fetch_policy)
        return self._fetcher

    async def close(self) -> None:
        if self._fetcher is not None:
            await self._fetcher.close()
        await self.db.close()


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
