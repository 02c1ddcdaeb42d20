"""The job store and the status reads on their own, against the real database of each stack
(beside the HTTP-level tests of the same behaviour). Jobs are written without tasks, so nothing
works their items but the test."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from medialib.db import outbox
from medialib.db.engine import Database
from medialib.errors import Conflict, NotFound, TooManyRequests
from medialib.imports import status, store
from medialib.imports.kinds import KINDS
from medialib.imports.records import CANCELLED, ItemOutcome, ItemState, JobState, Progress
from medialib.imports.requests import parse_import
from medialib.library.events import IMPORT_FINISHED
from medialib.library.projects import Project
from tests.support.stack import Stack

IMAGE = KINDS.named("image")


def _body(count: int, *, bad: frozenset[int] = frozenset(), webhook: str | None = None) -> Any:
    items = [
        {
            "url": f"http://127.0.0.1:9/{i}.jpg",
            "id": f"item-{i}",
            "fileName": f"{i}.jpg",
            "metadata": {"nonsense": 1} if i in bad else {"title": f"#{i}"},
        }
        for i in range(count)
    ]
    return {"systemName": "store", "webhook": webhook, "images": items}


async def _written(db: Database, project: Project, body: Any, max_open: int = 50) -> store.NewJob:
    new = store.new_job(project, parse_import(body, IMAGE, project, 100))
    await db.transact(lambda tx: store.insert(tx, new, max_open_jobs=max_open))
    return new


@pytest.fixture
def setting(stack: Stack, project: str) -> tuple[Database, Project]:
    return stack.runtime.db, stack.runtime.projects[project]


async def test_a_new_job_fails_items_with_bad_metadata_at_once(
    setting: tuple[Database, Project],
) -> None:
    db, project = setting
    new = await _written(db, project, _body(3, bad=frozenset({1})))
    assert new.pending_positions == [0, 2]
    summary = await status.job_summary(db, project.handle, new.id)
    assert summary.job.state == JobState.STARTED
    assert not summary.job.finished
    assert summary.progress == Progress(total=3, failed=1)
    read = await status.job_status(db, project.handle, IMAGE, new.id)
    assert [(i.position, i.state, i.reason_code) for i in read.items] == [
        (1, ItemState.FAILED, "invalid_metadata")
    ]
    assert read.items[0].metadata == {"nonsense": 1}


async def test_recording_counts_down_and_only_the_last_finishes(
    setting: tuple[Database, Project],
) -> None:
    db, project = setting
    new = await _written(db, project, _body(3))
    job_id = new.id

    first = await db.transact(
        lambda tx: store.record_items(tx, job_id, [ItemOutcome(0, ItemState.SUCCESS)])
    )
    rest = await db.transact(
        lambda tx: store.record_items(
            tx,
            job_id,
            [ItemOutcome(1, ItemState.SKIPPED), ItemOutcome.failed(2, "gone", "404")],
        )
    )
    assert (first, rest) == (False, True)
    await db.transact(lambda tx: store.finish(tx, job_id))
    await db.transact(lambda tx: store.finish(tx, job_id))  # finishing again changes nothing
    summary = await status.job_summary(db, project.handle, job_id)
    assert summary.job.state == JobState.SUCCESS
    assert summary.job.finished
    assert summary.progress == Progress(total=3, success=1, skipped=1, failed=1)


async def test_a_job_whose_every_item_failed_is_failed_and_sends_its_webhook(
    setting: tuple[Database, Project],
) -> None:
    db, project = setting
    new = await _written(db, project, _body(2, webhook="http://127.0.0.1:9/hook"))
    outcomes = [ItemOutcome.failed(p, "gone", "404") for p in (0, 1)]
    assert await db.transact(lambda tx: store.record_items(tx, new.id, outcomes))
    await db.transact(lambda tx: store.finish(tx, new.id))
    read = await status.job_status(db, project.handle, IMAGE, new.id)
    assert read.job.state == JobState.FAILED
    assert read.webhook is not None  # in the outbox with the finish
    async with db.read() as conn:
        assert await outbox.delivery_of(conn, IMPORT_FINISHED, new.id) is not None


async def test_an_item_is_recorded_once(setting: tuple[Database, Project]) -> None:
    db, project = setting
    new = await _written(db, project, _body(2))
    assert await db.transact(lambda tx: store.pending_positions(tx, new.id, [0, 1])) == [0, 1]
    assert not await db.transact(
        lambda tx: store.fail_pending(tx, new.id, [0], "internal_error", "try again")
    )
    assert await db.transact(lambda tx: store.pending_positions(tx, new.id, [0, 1])) == [1]
    # Failing what is no longer pending records nothing: the count stays at one.
    assert not await db.transact(
        lambda tx: store.fail_pending(tx, new.id, [0], "internal_error", "again")
    )
    summary = await status.job_summary(db, project.handle, new.id)
    assert summary.progress == Progress(total=2, failed=1)


async def test_cancel_fails_what_is_pending_and_finishes_once(
    setting: tuple[Database, Project], stack: Stack
) -> None:
    db, project = setting
    new = await _written(db, project, _body(3))
    await db.transact(
        lambda tx: store.record_items(tx, new.id, [ItemOutcome(0, ItemState.SUCCESS)])
    )
    with pytest.raises(NotFound):
        await db.transact(lambda tx: store.cancel(tx, "demo", new.id))  # not demo's job
    await db.transact(lambda tx: store.cancel(tx, project.handle, new.id))
    read = await status.job_status(db, project.handle, IMAGE, new.id)
    # One item succeeded, yet a cancelled job reads `failed`, and says when it was cancelled.
    assert read.job.state == JobState.FAILED
    assert read.job.cancelled_at is not None
    assert read.job.finished_at is not None
    assert read.job.cancelled_at <= read.job.finished_at
    assert [(i.position, i.reason_code) for i in read.items] == [
        (0, None),
        (1, CANCELLED),
        (2, CANCELLED),
    ]
    with pytest.raises(Conflict):
        await db.transact(lambda tx: store.cancel(tx, project.handle, new.id))
    for bad in ("", "x" * 12 + "\n", "\x00" * 12, "NOT-AN-ID"):
        with pytest.raises(NotFound):
            await db.transact(partial(store.cancel, project=project.handle, job_id=bad))


async def test_a_job_whose_items_all_ended_is_not_cancelled_while_it_finishes(
    setting: tuple[Database, Project], stack: Stack
) -> None:
    """Its last item is recorded, its finish is still queued: a cancel then changes nothing."""
    db, project = setting
    new = await _written(db, project, _body(2))
    done = [ItemOutcome(0, ItemState.SUCCESS), ItemOutcome(1, ItemState.SUCCESS)]
    assert await db.transact(lambda tx: store.record_items(tx, new.id, done))
    with pytest.raises(Conflict):
        await db.transact(lambda tx: store.cancel(tx, project.handle, new.id))
    await db.transact(lambda tx: store.finish(tx, new.id))
    read = await status.job_summary(db, project.handle, new.id)
    assert read.job.state == JobState.SUCCESS
    assert read.job.cancelled_at is None


async def test_too_many_open_jobs_are_refused_before_anything_is_written(
    setting: tuple[Database, Project],
) -> None:
    db, project = setting
    await _written(db, project, _body(1))
    before = await status.list_jobs(db, project.handle)
    with pytest.raises(TooManyRequests):
        await _written(db, project, _body(1), max_open=len(before.jobs))
    assert len((await status.list_jobs(db, project.handle)).jobs) == len(before.jobs)


async def test_a_status_is_read_under_its_project_and_kind_only(
    setting: tuple[Database, Project],
) -> None:
    db, project = setting
    new = await _written(db, project, _body(1))
    with pytest.raises(NotFound):
        await status.job_status(db, "demo", IMAGE, new.id)
    with pytest.raises(NotFound):
        await status.job_status(db, project.handle, KINDS.named("file"), new.id)
    with pytest.raises(NotFound):
        await status.job_summary(db, "demo", new.id)
    for bad in ("", new.id + "\n", new.id.upper(), "'; --"):
        with pytest.raises(NotFound):
            await status.job_status(db, project.handle, IMAGE, bad)


async def test_a_status_pages_its_items_and_filters_them(
    setting: tuple[Database, Project],
) -> None:
    db, project = setting
    new = await _written(db, project, _body(5, bad=frozenset({1, 3})))
    await db.transact(
        lambda tx: store.record_items(
            tx, new.id, [ItemOutcome(p, ItemState.SUCCESS) for p in (0, 2, 4)]
        )
    )
    pages, after = [], -1
    while True:
        read = await status.job_status(
            db, project.handle, IMAGE, new.id, status.ItemPage(limit=2, after=after)
        )
        pages.append([i.position for i in read.items])
        if read.next_cursor is None:
            break
        after = int(read.next_cursor)
    assert pages == [[0, 1], [2, 3], [4]]
    failed = await status.job_status(
        db, project.handle, IMAGE, new.id, status.ItemPage(status.ItemFilter.FAILED)
    )
    assert [i.position for i in failed.items] == [1, 3]
    assert failed.next_cursor is None  # no limit asked: no cursor
    none = await status.job_status(
        db, project.handle, IMAGE, new.id, status.ItemPage(status.ItemFilter.NONE)
    )
    assert none.items == []
    assert none.progress == Progress(total=5, success=3, failed=2)


async def test_the_job_list_is_newest_first_with_filters_and_cursor(
    setting: tuple[Database, Project],
) -> None:
    db, project = setting
    made = [(await _written(db, project, _body(1))).id for _ in range(3)]
    failed = await _written(db, project, _body(1, bad=frozenset({0})))
    await db.transact(lambda tx: store.finish(tx, failed.id))
    made.append(failed.id)
    seen, cursor = [], None
    while True:
        page = await status.list_jobs(db, project.handle, limit=3, cursor=cursor)
        seen += page.jobs
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    mine = [s.job.id for s in seen if s.job.id in made]
    assert mine == list(reversed(made))
    assert seen[0].progress == Progress(total=1, failed=1)
    only_failed = await status.list_jobs(db, project.handle, state=JobState.FAILED)
    assert [s.job.id for s in only_failed.jobs] == [failed.id]
    assert (await status.list_jobs(db, project.handle, kind="video")).jobs == []
