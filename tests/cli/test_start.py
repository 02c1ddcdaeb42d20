"""What a process holds when it starts: a server on SQLite loads neither libvips (until its first
rendition), nor procrastinate, libpq and SQLAlchemy's PostgreSQL dialect, nor alembic (until
there is something to migrate), nor aiohttp (its worker processes fetch, it does not); and a
PostgreSQL server on an old schema refuses to start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from medialib.db.migrate import head_revision
from medialib.db.schema import SCHEMA_HEAD
from tests.support import postgres
from tests.support.process import ServerProcess

# What `medialib serve` does before its first request, in a process of its own.
_START = """
import asyncio, sys
from medialib.bootstrap import Runtime, prepare
from medialib.settings import Settings
from medialib.web.app import create_app

async def main():
    runtime = Runtime.from_settings(Settings())
    create_app(runtime=runtime, worker=False)  # as `serve` with its worker processes
    await prepare(runtime)
    await runtime.close()

asyncio.run(main())
print(" ".join(sorted(sys.modules)))
"""
NOT_AT_START = {"aiohttp", "alembic", "av", "procrastinate", "psycopg", "pyvips"}


def _loaded_at_start(home: Path, env: dict[str, str] | None = None) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _START],
        env=ServerProcess(home, env=env).env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def _packages(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_the_schema_head_medialib_knows_is_alembics() -> None:
    assert head_revision() == SCHEMA_HEAD


def test_a_first_start_migrates_and_later_starts_load_no_alembic(tmp_path: Path) -> None:
    first = _packages(_loaded_at_start(tmp_path))
    assert "alembic" in first  # the database was new: it was migrated

    later = _loaded_at_start(tmp_path)

    assert _packages(later) & NOT_AT_START == set()
    assert "sqlalchemy.dialects.postgresql" not in later
    assert {"fastapi", "sqlalchemy", "medialib.imports.pipeline"} <= later  # what it does need


def test_a_running_server_and_its_worker_map_neither_libvips_nor_libpq(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path)
    server.run("migrate")
    server.serve()
    try:
        assert server.process is not None
        worker = ServerProcess(tmp_path)
        worker.start("worker", ready="ready")
        try:
            assert worker.process is not None
            for pid in (server.process.pid, worker.process.pid):
                maps = Path(f"/proc/{pid}/maps").read_text()
                assert "libvips" not in maps, pid
                assert "libpq" not in maps, pid
        finally:
            worker.stop()
    finally:
        server.stop()


@pytest.mark.skipif(postgres.admin_url() is None, reason=f"{postgres.ENV} is not set")
def test_a_server_on_an_unmigrated_postgresql_refuses_to_start(tmp_path: Path) -> None:
    database = postgres.create_database()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "medialib.cli", "serve", "--port", "0"],
            env=ServerProcess(tmp_path, env={"MEDIALIB_DATABASE_URL": database}).env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        postgres.drop_database(database)

    assert done.returncode != 0
    assert f"this medialib needs {SCHEMA_HEAD}: run `medialib migrate` first" in (
        done.stdout + done.stderr
    )
