"""Operator settings, read from MEDIALIB_* environment variables.

Everything about infrastructure lives here; what a project looks like (media types, metadata,
webhook secret) lives in the config file (config.py).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from medialib.errors import ConfigError


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEDIALIB_", extra="ignore")

    home: Path = Field(default=Path("medialib-data"), description="Folder holding all state.")
    database_url: str | None = Field(default=None, description="Default: SQLite in the home.")
    storage_url: str | None = Field(default=None, description="Default: <home>/storage.")
    config: Path | None = Field(default=None, description="Default: <home>/medialib.yaml.")
    public_url: str | None = Field(default=None, description="Base URL of stored assets.")
    host: str = "127.0.0.1"
    port: int = 8000
    retired_versions: list[str] = Field(default_factory=list)
    max_entries_per_request: int = 1000
    max_body_bytes: int = 16 * 1024 * 1024

    @field_validator("retired_versions", mode="before")
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
        """Where `/media/{key}` is reachable from outside; asset URLs start with it."""
        base = self.public_url or f"http://{self.host}:{self.port}/media"
        return base.rstrip("/")

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
