"""The web view's operations page (`/ui/operations`) against many import items, and its
screenshot for the docs.

    python bench/operations_page.py [--backend sqlite|postgres] [--items 100000]
                                    [--history 1000000] [--requests 5] [--screenshot PATH]

A medialib of the tests' kind (tests/support/stack.py: SQLite and a folder, or PostgreSQL with
MEDIALIB_TEST_POSTGRES_URL) gets, written with plain SQL in project `demo`: `--history` items
finished three days ago in 20 finished jobs, and `--items` finished over the last hour by two
jobs (one running, one cancelled 20 minutes ago), at a rate that rises and dips, one in ten
failed (`http_404`, `timeout`, `too_large`, and `cancelled` for the cancelled job's rest); one
webhook delivery that gave up after 8 attempts and one still being retried. Then `--requests`
sequential GETs of the page by one signed-in client, each timed to its last byte, and the
numbers the page shows checked against what was written.

With `--screenshot`, Chromium (Debian's `chromium` and `chromium-driver`, as tests/web uses)
opens the page 1100 px wide and saves it there as a PNG (the docs' docs/images/operations-page.png).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import math
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.stack import Stack, start_stack
from tests.support.web import sign_in

from bench.web_page import headless_chromium
from medialib.db.tables import (
    deliveries,
    delivery_attempts,
    events,
    import_items,
    import_jobs,
)

BATCH = 5000
REASONS = ("http_404", "timeout", "too_large")


def _job(job_id: str, state: str, started: dt.datetime, **extra: Any) -> dict[str, Any]:
    row = {
        "id": job_id,
        "project": "demo",
        "kind": "image",
        "system_name": "archive",
        "webhook": None,
        "context": None,
        "state": state,
        "total": 0,
        "pending": 0,
        "started_at": started,
        "finished_at": None,
        "cancelled_at": None,
    }
    return row | extra


def _item(job_id: str, position: int, at: dt.datetime | None, state: str) -> dict[str, Any]:
    failed = state == "failed"
    code = REASONS[position % len(REASONS)] if failed else None
    return {
        "job_id": job_id,
        "position": position,
        "external_id": f"{job_id}-{position}",
        "url": f"http://archive.example/{position}.jpg",
        "file_name": f"{position}.jpg",
        "media_type": "image",
        "metadata": {},
        "state": state,
        "reason_code": code,
        "reason": code,
        "finished_at": at,
    }


def _rate(minute: float) -> float:
    """How busy a minute of the last hour was (0 an hour ago, 1 now): a ramp, a dip, a rise."""
    return (
        (0.5 + 0.4 * math.sin(minute / 7)) * min(1.0, minute / 8) * (0.3 if 33 < minute < 37 else 1)
    )


def _hour_of_items(now: dt.datetime, count: int) -> Iterator[tuple[dt.datetime, str]]:
    """`count` finish times over the last hour, spread by `_rate`, one in ten failed."""
    weights = [_rate(m) for m in range(60)]
    scale = count / sum(weights)
    start = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=59)
    n = 0
    for minute, weight in enumerate(weights):
        in_minute = round(weight * scale)
        for k in range(in_minute):
            at = start + dt.timedelta(minutes=minute, seconds=50 * k / max(in_minute, 1))
            yield min(at, now), "failed" if n % 10 == 0 else "success"
            n += 1


async def _insert(conn: Any, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), BATCH):
        await conn.execute(table.insert(), rows[i : i + BATCH])


async def seed(stack: Stack, items: int, history: int) -> dict[str, int]:
    """Writes the jobs, items and deliveries; what the page should show."""
    now = dt.datetime.now(dt.UTC)
    old = now - dt.timedelta(days=3)
    hour = list(_hour_of_items(now, items))
    cancel_at = now - dt.timedelta(minutes=20)
    # A third of the items before the cancel are the cancelled job's.
    mine = [at < cancel_at and i % 3 == 0 for i, (at, _) in enumerate(hour)]
    running = [done for done, theirs in zip(hour, mine, strict=True) if not theirs]
    cancelled = [done for done, theirs in zip(hour, mine, strict=True) if theirs]
    rest = 200  # the cancelled job's items a cancel failed
    async with stack.runtime.db.engine.begin() as conn:
        jobs = [
            _job(f"old{n:09d}", "success", old, total=history // 20, finished_at=old)
            for n in range(20)
        ]
        jobs.append(
            _job(
                "running00001",
                "started",
                now - dt.timedelta(hours=2),
                total=len(running) * 2,
                pending=len(running),
            )
        )
        jobs.append(
            _job(
                "cancelled001",
                "failed",
                now - dt.timedelta(hours=1),
                total=len(cancelled) + rest,
                finished_at=cancel_at,
                cancelled_at=cancel_at,
            )
        )
        await conn.execute(import_jobs.insert(), jobs)
        for n in range(20):
            at = old - dt.timedelta(hours=1)
            await _insert(
                conn,
                import_items,
                [_item(f"old{n:09d}", p, at, "success") for p in range(history // 20)],
            )
        await _insert(
            conn,
            import_items,
            [_item("running00001", p, at, s) for p, (at, s) in enumerate(running)],
        )
        gone = [_item("cancelled001", len(cancelled) + p, cancel_at, "failed") for p in range(rest)]
        for row in gone:
            row["reason_code"] = row["reason"] = "cancelled"
        await _insert(
            conn,
            import_items,
            [_item("cancelled001", p, at, s) for p, (at, s) in enumerate(cancelled)] + gone,
        )
        await _deliveries(conn, now)
    return {"items-finished": len(hour) + rest}


async def _deliveries(conn: Any, now: dt.datetime) -> None:
    """One delivery that gave up after 8 attempts, one failing still (3 attempts so far)."""
    for n, (state, attempts) in enumerate((("failed", 8), ("pending", 3))):
        created = now - dt.timedelta(minutes=50 - 10 * n)
        event = await conn.execute(
            events.insert().values(
                project="demo",
                type="import.finished",
                subject=f"job{n}",
                payload={},
                created_at=created,
            )
        )
        delivery = f"msg_bench{n}"
        await conn.execute(
            deliveries.insert().values(
                id=delivery,
                event_id=event.inserted_primary_key[0],
                url="http://hooks.example/in",
                state=state,
                created_at=created,
            )
        )
        await conn.execute(
            delivery_attempts.insert(),
            [
                {
                    "delivery_id": delivery,
                    "attempt": a + 1,
                    "at": created + dt.timedelta(minutes=a),
                    "status_code": 503,
                    "error": "HTTP 503",
                    "duration_ms": 12,
                }
                for a in range(attempts)
            ],
        )


def screenshot(url: str, cookies: dict[str, str], target: Path) -> None:
    driver = headless_chromium(
        "--window-size=1100,900", "--hide-scrollbars", "--force-device-scale-factor=1"
    )
    try:
        driver.get(url + "/ui/sign-in")
        for name, value in cookies.items():
            driver.add_cookie({"name": name, "value": value, "path": "/"})
        driver.get(url + "/ui/operations")
        # The whole page, however tall: Chromium's own capture beyond the window.
        height = driver.execute_script("return document.documentElement.scrollHeight")
        clip = {"x": 0, "y": 0, "width": 1100, "height": height, "scale": 1}
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot", {"captureBeyondViewport": True, "clip": clip}
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(shot["data"]))
    finally:
        driver.quit()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--screenshot", type=Path)
    args = parser.parse_args()
    stack = await start_stack(args.backend, Path(tempfile.mkdtemp(prefix="medialib-ops-")))
    try:
        started = time.monotonic()
        expected = await seed(stack, args.items, args.history)
        print(
            f"{args.backend}: {args.items:,} items in the hour, {args.history:,} before, "
            f"written in {time.monotonic() - started:.1f} s"
        )
        session = await sign_in(stack, await stack.token("demo"))
        for n in range(args.requests):
            started = time.monotonic()
            page = await session.client.get("/ui/operations")
            took = time.monotonic() - started
            assert page.status_code == 200, page.text
            shown = dict(re.findall(r'data-count="([a-z0-9_-]+)">([0-9.,]+)<', page.text))
            assert int(shown["items-finished"].replace(",", "")) == expected["items-finished"]
            print(f"request {n + 1}: {took * 1000:.0f} ms")
        if args.screenshot:
            cookies = dict(session.client.cookies.items())
            await asyncio.to_thread(screenshot, stack.url, cookies, args.screenshot)
            print(f"screenshot: {args.screenshot} ({args.screenshot.stat().st_size:,} bytes)")
    finally:
        await stack.close()


if __name__ == "__main__":
    asyncio.run(main())
