"""`medialib backup DEST` and `medialib restore SRC`: the embedded default (SQLite and its
storage) backed up while the server runs, and restored into a new home (library/backup.py)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from medialib.cli.common import fail_cleanly
from medialib.library.backup import BackupError, back_up, restore, sqlite_path
from medialib.media.storage import Storage
from medialib.settings import Settings


def _say(line: str) -> None:
    click.echo(f"medialib: {line}", err=True)


@click.command(name="backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@fail_cleanly
def backup_command(dest: Path) -> None:
    """Back up the SQLite database and the objects it names into the folder DEST (an earlier
    backup there is brought up to date). The server may run meanwhile."""
    settings = Settings()
    database = sqlite_path(settings)
    if not database.is_file():
        raise BackupError(f"there is no database at {database}: nothing to back up")

    async def work() -> None:
        storage = Storage(settings.resolved_storage_url, s3_endpoint=settings.s3_endpoint)
        report = await back_up(settings, storage, dest, _say)
        _say(
            f"backed up {report.entries} entries into {dest} ({report.objects_copied} objects "
            f"copied, {report.objects_present} there already, {report.renditions} renditions)"
        )
        if report.objects_missing:
            _say(
                f"{len(report.objects_missing)} asset(s) have no object in storage, e.g. "
                f"{report.objects_missing[0]} (listed in the manifest; `medialib doctor` "
                "tells more)"
            )

    asyncio.run(work())


@click.command(name="restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@fail_cleanly
def restore_command(src: Path) -> None:
    """Restore the backup in the folder SRC into a new, empty home (MEDIALIB_HOME)."""
    report = restore(src, Settings(), _say)
    if report.missing:
        _say(
            f"{len(report.missing)} asset(s) the database names are not in the backup, e.g. "
            f"{report.missing[0]}"
        )
        sys.exit(1)
