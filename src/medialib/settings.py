"""Operator settings, read from MEDIALIB_* environment variables.

Everything about infrastructure lives here; what a project looks like (media types, metadata,
webhook secret) lives in the config file (library/config.py).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import unquote, urlparse

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from medialib.errors import ConfigError


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEDIALIB_", extra="ignore")

    home: Path = Field(default=Path("medialib-data"), description="Folder holding all state.")
    database_url: str | None = Field(default=None, description="Default: SQLite in the home.")
    storage_url: str | None = Field(default=None, description="Default: <home>/storage.")
    config: Path | None = Field(default=None, description="Default: <home>/medialib.yaml.")
    public_url: str | None = Field(default=None, description="Base URL of stored assets.")
    s3_endpoint: str | None = Field(
        default=None, description="An S3-compatible server's URL (MinIO, Ceph, R2, …)."
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs sessions, CSRF tokens and upload URLs; default: <home>/secret.key.",
    )
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto",
        description="Log lines: json (one object a line) or text; auto: text on a terminal.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    retired_versions: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_entries_per_request: int = 1000
    max_body_bytes: int = 16 * 1024 * 1024
    rate_limit: float = Field(default=50.0, ge=0, description="Requests/s per token; 0: none.")
    rate_limit_burst: int = Field(default=100, ge=1)
    max_open_jobs: int = Field(default=50, ge=1, description="Unfinished imports per project.")
    # Slow clients (api/protocol.py): a head must arrive whole in time; a body must keep coming.
    head_timeout: float = Field(
        default=20.0, gt=0, description="Seconds for a request head, from its first byte."
    )
    body_timeout: float = Field(
        default=30.0, gt=0, description="Seconds in which a request body must bring 1 KB."
    )

    # Metrics (docs/operations.md#metrics)
    metrics_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.0/8", "::1/128"],
        description="Addresses (CIDRs) that may read /metrics.",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Port of a `medialib worker`'s own /metrics; unset: none.",
    )
    metrics_host: str = Field(
        default="127.0.0.1", description="Address a `medialib worker`'s /metrics listens on."
    )

    # Asynchronous imports
    max_items_per_job: int = 1000
    import_chunk_size: int = Field(default=100, ge=1, le=1000)
    worker_concurrency: int = Field(default=4, ge=1, description="Chunks worked at once.")
    fetch_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="CIDRs trusted to fetch."
    )
    fetch_concurrency: int = Field(default=32, ge=1)
    fetch_per_host: int = Field(default=8, ge=1)
    fetch_timeout: float = Field(default=120.0, gt=0, description="Seconds for one download.")
    fetch_connect_timeout: float = Field(default=10.0, gt=0)
    fetch_retries: int = Field(default=3, ge=0)
    fetch_retry_base: float = Field(default=0.5, ge=0, description="First retry delay (s).")
    max_redirects: int = Field(default=5, ge=0)
    image_max_bytes: int = 15 * 1024 * 1024
    animated_max_bytes: int = Field(default=10 * 1024 * 1024, description="GIF and WebP.")
    file_max_bytes: int = 100 * 1024 * 1024
    image_max_pixels: int = 24_000_000
    video_max_bytes: int = Field(default=5 * 1024**3, description="The largest video taken.")
    video_max_pixels: int = Field(
        default=36_000_000, description="A video frame's largest size (8K fits)."
    )
    video_max_seconds: float = Field(default=86_400.0, gt=0, description="The longest video.")
    video_probe_timeout: float = Field(
        default=60.0, gt=0, description="Seconds to probe one video and make its poster."
    )
    video_probe_memory: int = Field(
        default=1024**3, ge=256 * 1024**2, description="Address space of a video's prober."
    )
    face_detection: Literal["on", "off"] = Field(
        default="on", description="Look for faces in every image at import (focal points)."
    )
    face_detector_memory: int = Field(
        default=640 * 1024**2,
        ge=512 * 1024**2,  # OpenCV alone maps some 450 MB
        description="Address space of an analysis process (it holds the face detector).",
    )
    face_detectors: int = Field(
        default=0,
        ge=0,
        le=256,
        description="Analysis processes (each with the face detector unless it is off) of one "
        "medialib process at most; 0: one per core (`medialib serve` shares the cores among its "
        "worker processes).",
    )
    face_detector_timeout: float = Field(
        default=2.0, gt=0, description="Seconds an analysis process may take for one picture."
    )
    rendition_url: str | None = Field(
        default=None,
        description="Base URL of renditions: this server's /media as reachable from outside.",
    )
    rendition_max_side: int = Field(
        default=4096, ge=16, description="The longest side of a rendition, after dpr."
    )
    rendition_max_frames: int = Field(
        default=500, ge=1, description="Frames of an animated rendition; past it, the first."
    )
    variants_per_asset: int = Field(
        default=200, ge=0, description="Renditions stored per original; more are not stored."
    )
    renders_at_once: int = Field(
        default=0, ge=0, description="Renditions made at once per process; 0: one per core."
    )
    render_timeout: float = Field(
        default=5.0, gt=0, description="Seconds one rendition may take; then libvips stops."
    )
    webhook_timeout: float = 10.0
    job_webhook_hold: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="Seconds after a job started before its webhook may go out: a client that "
        "keeps the job's id from the start's answer has it by then, however fast the job was.",
    )
    task_retry_base: float = Field(
        default=2.0, gt=0, description="Seconds before a failed task's first retry; doubling."
    )
    stalled_after: float = Field(
        default=30.0, gt=0, description="Seconds without a heartbeat before a worker is dead."
    )
    sweep_every: float = Field(
        default=3600.0,
        gt=0,
        description="Seconds between sweeps of the store: uploads never registered a day past "
        "their expiry, renditions of deleted originals (`medialib doctor` finds the rest).",
    )
    image_analysis: bool = Field(
        default=True,
        description="Analyse pictures (perceptual hash, placeholder, colour, faces, focal "
        "point) as they are imported and registered; off, imports skip it.",
    )
    analysis_pause: float = Field(
        default=0.5,
        ge=0,
        le=3600,
        description="Seconds between two batches of `medialib analyze`'s run over a library's "
        "older entries: imports keep the workers first.",
    )
    webhook_retry_delays: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0],
        description="Seconds before each retry of a failed webhook delivery.",
    )

    @field_validator(
        "retired_versions", "fetch_allow", "metrics_allow", "webhook_retry_delays", mode="before"
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @cached_property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL with the async driver each backend uses."""
        url = self.database_url or f"sqlite:///{(self.home / 'medialib.db').resolve()}"
        return async_database_url(url)

    @cached_property
    def resolved_storage_url(self) -> str:
        if self.storage_url:
            return self.storage_url
        return (self.home / "storage").resolve().as_uri()

    @cached_property
    def config_path(self) -> Path | None:
        if self.config is not None:
            return self.config
        default = self.home / "medialib.yaml"
        return default if default.exists() else None

    @cached_property
    def media_base_url(self) -> str:
        """Where assets are reachable from outside: MEDIALIB_PUBLIC_URL; else the bucket's base
        URL for S3 storage, or this server's `/media` for a local folder."""
        if self.public_url:
            return self.public_url.rstrip("/")
        parsed = urlparse(self.resolved_storage_url)
        if parsed.scheme == "s3":
            bucket, prefix = parsed.netloc, parsed.path.strip("/")
            if self.s3_endpoint:
                base = f"{self.s3_endpoint.rstrip('/')}/{bucket}"
            else:
                base = f"https://{bucket}.s3.amazonaws.com"
            return f"{base}/{prefix}" if prefix else base
        return f"http://{self.host}:{self.port}/media"

    @cached_property
    def rendition_base_url(self) -> str:
        """Where renditions are reachable: MEDIALIB_RENDITION_URL; else the assets' URL when
        this server serves them, or this server's own `/media` when a bucket does."""
        if self.rendition_url:
            return self.rendition_url.rstrip("/")
        if self.resolved_storage_url.startswith("file://"):
            return self.media_base_url
        return f"http://{self.host}:{self.port}/media"

    @cached_property
    def metrics_dir(self) -> Path:
        """Where the worker processes of `medialib serve` leave their metrics' values."""
        return self.home / "metrics"

    @cached_property
    def temp_dir(self) -> Path:
        """Downloads land here first; beside a local store, so storing one is a rename."""
        storage = self.resolved_storage_url
        if storage.startswith("file://"):
            return Path(unquote(urlparse(storage).path)).parent / "tmp"
        return self.home / "tmp"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
}


def async_database_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigError(f"MEDIALIB_DATABASE_URL: not a URL: {url!r}")
    base = scheme.split("+", 1)[0]
    if base not in _DRIVERS:
        raise ConfigError(
            f"MEDIALIB_DATABASE_URL: unsupported database {base!r} (use sqlite or postgresql)"
        )
    return f"{_DRIVERS[base]}://{rest}"
