"""The long-lived pieces one process works with, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from medialib.api.versions import VersionTable
from medialib.config import AppConfig, load_config
from medialib.db.engine import Database
from medialib.settings import Settings
from medialib.storage import Storage


@dataclass
class Runtime:
    settings: Settings
    config: AppConfig
    db: Database
    storage: Storage
    versions: VersionTable

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        """Everything checked before anything starts: a broken setting stops here, by name."""
        config = load_config(settings.config_path)
        versions = VersionTable(settings.retired_versions)
        storage = Storage(settings.resolved_storage_url)
        db = Database(settings.resolved_database_url)
        return cls(settings=settings, config=config, db=db, storage=storage, versions=versions)

    async def close(self) -> None:
        await self.db.close()
