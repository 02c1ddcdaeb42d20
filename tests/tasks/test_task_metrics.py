"""What the task framework tells /metrics, with the toy task set (tests/tasks/toy.py), whose task
names no other test's tasks have: a run that fails and will run again is a retry (the last one,
which gives up, is not), and the local runner counts its tasks not done by state."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from medialib.db.engine import Database
from medialib.db.migrate import migrate
from tests.tasks.test_local import Setup
from tests.tasks.toy import doomed, flaky, hold


@pytest.fixture
async def url(tmp_path: Path) -> str:
    """A SQLite database with medialib's schema (the `tasks` table is the queue)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'tasks.db'}"
    db = Database(url)
    await migrate(db)
    await db.close()
    return url


def retries(task: str) -> float:
    return REGISTRY.get_sample_value("medialib_task_retries_total", {"task": task}) or 0.0


async def test_failed_runs_that_run_again_are_counted_as_retries(url: str) -> None:
    setup = Setup(url, retry_base=0.01)
    before = {name: retries(name) for name in ("flaky", "doomed")}
    try:
        await setup.defer(flaky, {"fails": 2})
        await setup.defer(doomed, {})
        await setup.worker()
        await setup.toys.until(lambda: bool(setup.toys.ran) and bool(setup.toys.gave_up))
    finally:
        await setup.close()

    assert retries("flaky") - before["flaky"] == 2  # attempts 1 and 2 failed, 3 succeeded
    assert retries("doomed") - before["doomed"] == 1  # attempt 1 of 2; the second gave up


async def test_the_local_runner_counts_its_tasks_not_done(url: str) -> None:
    setup = Setup(url)
    try:
        await setup.defer(hold, {"n": 1}, {"n": 2}, {"n": 3})
        assert await setup.runner.pending(setup.toys.db) == {"todo": 3, "doing": 0}
        await setup.worker(concurrency=1)
        await setup.toys.until(lambda: setup.toys.running == 1)
        assert await setup.runner.pending(setup.toys.db) == {"todo": 2, "doing": 1}
        setup.toys.gate.set()
        await setup.toys.until(lambda: len(setup.toys.ran) == 3)
        assert await setup.runner.pending(setup.toys.db) == {"todo": 0, "doing": 0}
    finally:
        await setup.close()
