"""A cancel stops a job (issue 29): downloads under way are aborted and no new one starts, the
job's slots of the host go to other jobs at once, its items are never tried again, and it reads
`failed` with a `cancelledAt` (the seeds' three states), on both stacks.

Each test cancels in two ways: through the API (the server's own worker hears of it at once),
and from another process (here: the test's own runtime, as `medialib` on another machine would),
which the server's worker learns of from its watch's next read of the job.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa

from medialib.db.tables import tasks
from tests.support import media
from tests.support.imports import Importer, item
from tests.support.origin import Origin
from tests.support.sessions import sign_in
from tests.support.stack import Stack
from tests.support.webhooks import Delivery

SLOW, FAST = 38, 2  # items of the cancelled job: held by the origin, and answered at once
PROMPT = 1.0  # seconds after the cancel's answer in which a download may still start


@pytest.fixture
async def archive() -> AsyncIterator[Origin]:
    """An origin of the test's own (its own host slots), which sees clients give up."""
    server = await Origin(cancel_on_disconnect=True).start()
    yield server
    await server.stop()


async def _chunk_tasks_left(stack: Stack, job_id: str) -> int:
    """The job's `process_items` tasks still queued or running (or waiting to be retried)."""
    async with stack.runtime.db.read() as conn:
        if stack.backend == "postgres":
            found = await conn.scalar(
                sa.text(
                    "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'process_items'"
                    " AND status IN ('todo', 'doing') AND args->>'job_id' = :job_id"
                ),
                {"job_id": job_id},
            )
            return int(found or 0)
        args = await conn.execute(sa.select(tasks.c.args).where(tasks.c.name == "process_items"))
        return sum(1 for (one,) in args if one["job_id"] == job_id)


async def _queue_done_with(stack: Stack, job_id: str) -> None:
    """No task of the job is left: nothing tells of that but the queue, so it is read until it
    says so, a short pause apart, within a deadline."""
    async with asyncio.timeout(30):
        while await _chunk_tasks_left(stack, job_id):
            await asyncio.sleep(0.05)


async def _deliveries_for(importer: Importer, *job_ids: str, timeout: float) -> dict[str, Delivery]:
    """The webhooks of these jobs, awaited (in whatever order they come)."""
    got: dict[str, Delivery] = {}
    async with asyncio.timeout(timeout):
        while not set(job_ids) <= set(got):
            delivery = await importer.receiver.delivered()
            got[delivery.body["id"]] = delivery
    return got


async def _past(moment: float) -> None:
    """Until the monotonic clock is past `moment`: the end of a window in which something may
    still happen, which only the clock can tell."""
    await asyncio.sleep(max(0.0, moment - time.monotonic()))


async def _recorded(importer: Importer, job_id: str, done: int) -> None:
    """Until `done` items of the job are recorded (the status is the only witness)."""
    async with asyncio.timeout(30):
        while (await importer.status(job_id))["progress"]["done"] < done:
            await asyncio.sleep(0.02)


async def _cancel(importer: Importer, project: str, how: str, job_id: str) -> dict[str, Any]:
    if how == "api":
        response = await importer.api.post(f"/api/2026-05/import/jobs/{job_id}/cancel")
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer
    # Another process: the server's worker has no word of this cancel but the database's.
    summary = await importer.stack.runtime.imports.cancel(project, job_id)
    return {"state": summary.job.state, "finished": summary.job.finished}


@pytest.mark.parametrize("how", ["api", "elsewhere"])
async def test_cancel_aborts_downloads_frees_the_host_and_nothing_is_tried_again(
    importer: Importer, project: str, archive: Origin, origin: Origin, how: str
) -> None:
    release = asyncio.Event()  # the archive is slow until this is set
    body = media.jpeg(320, 240)
    # The fast items come from another origin (its own host slots): under load they could
    # otherwise queue for the archive's slots behind held downloads, and never be recorded.
    fast = [origin.file(f"cancel-{how}/fast-{i}.jpg", body) for i in range(FAST)]
    items = [item(url, f"fast-{i}") for i, url in enumerate(fast)]
    items += [item(archive.slow(f"slow/{i}.jpg", body, release), f"slow-{i}") for i in range(SLOW)]
    job_id = await importer.start(items)

    def slow_starts() -> list[tuple[str, float]]:
        return [(p, at) for p, at in archive.starts if p.startswith("slow/")]

    # Every slot the host has is taken by a held download of the job.
    per_host = importer.stack.settings.fetch_per_host
    await archive.seen(lambda: len(slow_starts()), per_host)
    # Another job to the same host waits for a slot behind them.
    other_id = await importer.start([item(archive.file("other.jpg", body), "other")])

    await _recorded(importer, job_id, FAST)
    answer = await _cancel(importer, project, how, job_id)
    cancelled = time.monotonic()
    assert answer["state"] == "failed"
    assert answer["finished"] is True

    # The downloads under way are aborted (the archive sees their connections close) ...
    await archive.seen(lambda: len(archive.aborted), per_host, timeout=5)
    # ... and the other job gets the host at once (without the cancel it would wait forever).
    delivered = await _deliveries_for(importer, job_id, other_id, timeout=5)
    other = await importer.settled(other_id)
    assert other["state"] == "success"
    assert [i["state"] for i in other["images"]] == ["success"]

    # A download may still start within PROMPT of the cancel: once that is over, every one
    # that started has been aborted, before the archive is fast again and could finish it.
    await _past(cancelled + PROMPT)
    await archive.seen(lambda: len(archive.aborted), len(slow_starts()), timeout=5)
    # The archive is fast again: nothing of the cancelled job comes back, not as a retry either.
    release.set()
    await _queue_done_with(importer.stack, job_id)
    await _queue_done_with(importer.stack, other_id)
    started = slow_starts()
    late = [(p, round(at - cancelled, 2)) for p, at in started if at > cancelled + PROMPT]
    assert late == []
    assert len({p for p, _ in started}) == len(started)  # no item was asked for twice
    assert sorted(archive.aborted) == sorted(p for p, _ in started)  # none ran to its end
    assert len(started) < SLOW

    status = await importer.settled(job_id)
    assert status["state"] == "failed"
    assert status["finished"] is True
    assert status["cancelledAt"] >= status["startedAt"]
    assert status["progress"] == {
        "total": FAST + SLOW,
        "done": FAST + SLOW,
        "success": FAST,
        "skipped": 0,
        "failed": SLOW,
    }
    by_id = {i["externalId"]: i for i in status["images"]}
    assert {by_id[f"fast-{i}"]["state"] for i in range(FAST)} == {"success"}
    stopped = [by_id[f"slow-{i}"] for i in range(SLOW)]
    assert {(i["state"], i["reasonCode"]) for i in stopped} == {("failed", "cancelled")}

    hook = delivered[job_id].body
    assert hook["state"] == "failed"
    assert hook["overview"]["details"] == {"success": FAST, "skipped": 0, "failed": SLOW}
    assert {i["reasonCode"] for i in hook["overview"]["failedItems"]} == {"cancelled"}
    assert "cancelledAt" not in other

    listed = (await importer.api.get("/api/2026-05/import/jobs")).json()["jobs"]
    [line] = [j for j in listed if j["id"] == job_id]
    assert line["state"] == "failed"
    assert line["cancelledAt"] == status["cancelledAt"]
    [other_line] = [j for j in listed if j["id"] == other_id]
    assert "cancelledAt" not in other_line

    # The web view says so, in the job list and on the job's page (not "success", not "failed").
    web = importer.stack.client()
    await sign_in(web, await importer.stack.token(project))
    cancelled_mark = '<span class="state state-failed state-cancelled"'
    jobs_page = (await web.get("/ui/jobs")).text
    [row] = [r for r in jobs_page.split("<tr>") if f"/ui/jobs/{job_id}" in r]
    assert cancelled_mark in row
    assert ">cancelled</span>" in row
    job_page = (await web.get(f"/ui/jobs/{job_id}")).text
    assert cancelled_mark in job_page
    assert " · cancelled " in job_page


async def test_a_cancel_that_is_refused_stops_nothing(
    importer: Importer, project: str, archive: Origin
) -> None:
    """Another project's cancel, a malformed id, a cancel of a finished job: each answers in the
    API's error shape and leaves the running job running (its held download is not aborted)."""
    release = asyncio.Event()
    job_id = await importer.start(
        [item(archive.slow("held.jpg", media.jpeg(320, 240), release), "held")]
    )
    await archive.seen(lambda: len(archive.starts), 1)

    stranger = await importer.stack.api("other")
    refused = [
        (404, await stranger.post(f"/api/2026-05/import/jobs/{job_id}/cancel")),
        (404, await importer.api.post(f"/api/2026-05/import/jobs/{'a' * 5000}/cancel")),
        (404, await importer.api.post(f"/api/2026-05/import/jobs/{job_id.upper()}/cancel")),
        (
            404,
            await importer.api.post(
                "/api/2026-05/import/jobs/%00%00%00%00%00%00%00%00%00%00%00%00/cancel"
            ),
        ),
        (404, await importer.api.post("/api/2026-05/import/jobs/" + "\uff41" * 12 + "/cancel")),
        (405, await importer.api.get(f"/api/2026-05/import/jobs/{job_id}/cancel")),
    ]
    for status, response in refused:
        assert response.status_code == status, response.text
        assert response.json()["status"] == status
    reader = importer.stack.client(await importer.stack.token(project, scopes=("public-api:read",)))
    forbidden = await reader.post(f"/api/2026-05/import/jobs/{job_id}/cancel")
    assert forbidden.status_code == 403, forbidden.text

    assert (await importer.status(job_id))["state"] == "started"
    release.set()
    status, _ = await importer.settled(job_id), await importer.receiver.delivered()
    assert status["state"] == "success"
    assert "cancelledAt" not in status
    assert archive.aborted == []
    finished = await importer.api.post(f"/api/2026-05/import/jobs/{job_id}/cancel")
    assert finished.status_code == 409
    assert finished.json()["error_details"] == {"state": "success"}


async def test_two_cancels_at_once_cancel_once(importer: Importer, archive: Origin) -> None:
    release = asyncio.Event()
    body = media.jpeg(320, 240)
    job_id = await importer.start(
        [item(archive.slow(f"twice-{i}.jpg", body, release), f"twice-{i}") for i in range(3)]
    )
    await archive.seen(lambda: len(archive.starts), 3)
    url = f"/api/2026-05/import/jobs/{job_id}/cancel"
    answers = await asyncio.gather(*(importer.api.post(url) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
    await archive.seen(lambda: len(archive.aborted), 3, timeout=5)
    hook = await importer.receiver.delivered()
    assert (hook.body["id"], hook.body["state"]) == (job_id, "failed")
    release.set()
    status = await importer.settled(job_id)
    assert status["progress"]["failed"] == 3
    assert len(importer.receiver.deliveries) == 1
