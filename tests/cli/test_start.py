"""What a process holds when it starts: a server on SQLite loads neither libvips (until its first
rendition), nor procrastinate, libpq and SQLAlchemy's PostgreSQL dialect, nor alembic (a child
process migrates a new database), nor aiohttp (its worker processes fetch, it does not), nor
numpy (the analysis processes read pixels); a migration that fails stops the start with its
error; and a PostgreSQL server on an old schema refuses to start."""

from __future__ import annotations

import sqlite3
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
    await prepare(runtime, migrate_apart=True)
    await runtime.close()

asyncio.run(main())
print(" ".join(sorted(sys.modules)))
"""
NOT_AT_START = {"aiohttp", "alembic", "av", "cv2", "numpy", "procrastinate", "psycopg", "pyvips"}


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


def _revision(home: Path) -> str:
    with sqlite3.connect(home / "medialib.db") as db:
        [(revision,)] = db.execute("SELECT version_num FROM alembic_version").fetchall()
    return str(revision)


@pytest.mark.parametrize("start", ["first", "later"])
def test_a_start_loads_no_alembic_even_the_first_that_migrates(tmp_path: Path, start: str) -> None:
    if start == "later":
        _loaded_at_start(tmp_path)

    loaded = _loaded_at_start(tmp_path)

    assert _revision(tmp_path) == SCHEMA_HEAD  # a child process migrated the new database
    assert _packages(loaded) & NOT_AT_START == set()
    assert "sqlalchemy.dialects.postgresql" not in loaded
    assert {"fastapi", "sqlalchemy", "medialib.imports.pipeline"} <= loaded  # what it does need


def test_a_migration_that_fails_stops_the_start_with_its_error(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "medialib.db") as db:  # a schema from a newer medialib
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        db.execute("INSERT INTO alembic_version VALUES ('9999')")

    done = subprocess.run(
        [sys.executable, "-m", "medialib.cli", "serve", "--port", "0"],
        env=ServerProcess(tmp_path).env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 2
    assert "Can't locate revision identified by '9999'" in done.stderr  # alembic's own words
    assert f"medialib: error: the database could not be migrated to {SCHEMA_HEAD}" in done.stderr
    assert _revision(tmp_path) == "9999"


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
