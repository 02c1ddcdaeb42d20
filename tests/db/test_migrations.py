"""Migration 0004 on a database that has lived under 0003, on both backends: finished jobs'
webhooks move into the outbox with their attempts, a delivery still queued under the old task is
delivered by the new one, the job statuses say what they said before, and the way back (and
forward again) keeps it all."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
import yaml

from medialib.api.app import create_app
from medialib.auth.tokens import WRITE, create_token
from medialib.bootstrap import Runtime
from medialib.db.migrate import current_revision, downgrade, head_revision, migrate
from medialib.db.tables import JSONType, UTCDateTime, deliveries, delivery_attempts, events
from medialib.settings import Settings
from tests.support import postgres
from tests.support.server import LiveServer
from tests.support.stack import stack_config
from tests.support.webhooks import Receiver

SECRET = "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA=="
DELIVERED, PENDING = "aaaaaaaaaaa1", "aaaaaaaaaaa2"
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)

# The 0003 schema's rows this test writes (the tables as they were then).
_jobs = sa.table(
    "import_jobs",
    *(sa.column(c) for c in ("id", "project", "kind", "system_name", "webhook", "state")),
    sa.column("context", JSONType),
    *(sa.column(c) for c in ("total", "pending", "webhook_state", "webhook_attempts")),
    sa.column("webhook_status_code"),
    sa.column("started_at", UTCDateTime),
    sa.column("finished_at", UTCDateTime),
)
_items = sa.table(
    "import_items",
    *(sa.column(c) for c in ("job_id", "position", "external_id", "url", "file_name")),
    *(sa.column(c) for c in ("media_type", "state", "action", "reason", "reason_code")),
    sa.column("media_id"),
    sa.column("metadata", JSONType),
    sa.column("result", JSONType),
    sa.column("finished_at", UTCDateTime),
)
_old_attempts = sa.table(
    "webhook_attempts",
    *(sa.column(c) for c in ("job_id", "attempt", "status_code", "error", "duration_ms")),
    sa.column("at", UTCDateTime),
)
_projects = sa.table(
    "projects",
    sa.column("handle"),
    sa.column("webhook_secret"),
    sa.column("created_at", UTCDateTime),
)
_tasks = sa.table(
    "tasks",
    *(sa.column(c) for c in ("id", "name", "state", "attempts", "owner")),
    sa.column("args", JSONType),
    sa.column("run_at", UTCDateTime),
    sa.column("created_at", UTCDateTime),
)


@dataclass
class Old:
    settings: Settings
    runtime: Runtime
    receiver: Receiver


@pytest.fixture
async def old(backend: str, tmp_path: Path) -> AsyncIterator[Old]:
    """A medialib database at revision 0003 with two finished jobs: one whose webhook was
    delivered on its second attempt, one whose webhook failed once and waits for its second."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "medialib.yaml").write_text(yaml.safe_dump(stack_config()))
    database_url = postgres.create_database() if backend == "postgres" else None
    settings = Settings(
        home=home,
        database_url=database_url,
        config=home / "medialib.yaml",
        fetch_allow=["127.0.0.1/32"],
        rate_limit=10_000.0,
    )
    runtime = Runtime.from_settings(settings)
    receiver = await Receiver(secret=SECRET).start()
    await migrate(runtime.db, "0003")
    async with runtime.db.write() as conn:
        await _write_old_rows(conn, receiver.url(), backend)
    yield Old(settings, runtime, receiver)
    await receiver.stop()
    await runtime.close()
    if database_url:
        postgres.drop_database(database_url)


async def _write_old_rows(conn: Any, webhook: str, backend: str) -> None:
    await conn.execute(
        _projects.insert().values(handle="demo", webhook_secret=SECRET, created_at=NOW)
    )
    for job_id, state, attempts, last in (
        (DELIVERED, "delivered", 2, 204),
        (PENDING, "pending", 1, 500),
    ):
        await conn.execute(
            _jobs.insert().values(
                id=job_id, project="demo", kind="image", system_name="old", webhook=webhook,
                state="success", context={"batch": job_id}, total=2, pending=0,
                webhook_state=state, webhook_attempts=attempts, webhook_status_code=last,
                started_at=NOW, finished_at=NOW,
            )
        )  # fmt: skip
        await conn.execute(
            _items.insert(),
            [
                {
                    "job_id": job_id, "position": 0, "external_id": "good", "url": "http://x/a",
                    "file_name": "a", "media_type": "image", "state": "success",
                    "action": "created", "reason": None, "reason_code": None, "media_id": "m1",
                    "metadata": {}, "result": {"mediaId": "m1", "key": "2026/11/20/a.jpeg"},
                    "finished_at": NOW,
                },
                {
                    "job_id": job_id, "position": 1, "external_id": "bad", "url": "http://x/b",
                    "file_name": "b", "media_type": "image", "state": "failed", "action": None,
                    "reason": "Could not download: the server answered HTTP 404",
                    "reason_code": "http_404", "media_id": None, "metadata": {}, "result": None,
                    "finished_at": NOW,
                },
            ],
        )  # fmt: skip
        await conn.execute(
            _old_attempts.insert(),
            [
                {"job_id": job_id, "attempt": n, "at": NOW, "status_code": code, "error": error,
                 "duration_ms": 3}
                for n, code, error in ((1, 500, "HTTP 500"), (2, 204, None))[:attempts]
            ],
        )  # fmt: skip
    args = {"job_id": PENDING, "attempt": 2}
    if backend == "postgres":
        await conn.execute(
            sa.text(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, args) "
                "VALUES ('medialib', 'deliver_webhook', CAST(:args AS jsonb))"
            ),
            {"args": orjson.dumps(args).decode()},
        )
    else:
        await conn.execute(
            _tasks.insert().values(
                name="deliver_webhook", args=args, state="todo", attempts=0, owner=None,
                run_at=NOW, created_at=NOW,
            )
        )  # fmt: skip


async def _queued(runtime: Runtime) -> list[tuple[str, dict[str, Any]]]:
    async with runtime.db.read() as conn:
        if runtime.db.is_sqlite:
            rows = await conn.execute(sa.select(_tasks.c.name, _tasks.c.args))
        else:
            rows = await conn.execute(
                sa.text("SELECT task_name, args FROM procrastinate_jobs WHERE status = 'todo'")
            )
        return [(name, args) for name, args in rows.all()]


async def test_0004_moves_webhooks_into_the_outbox_and_delivers_a_queued_one(old: Old) -> None:
    await migrate(old.runtime.db)

    async with old.runtime.db.read() as conn:
        moved = (
            await conn.execute(
                sa.select(events.c.subject, events.c.type, deliveries.c.id, deliveries.c.state)
                .join(deliveries, deliveries.c.event_id == events.c.id)
                .order_by(events.c.subject)
            )
        ).all()
        attempts = (
            await conn.execute(
                sa.select(
                    delivery_attempts.c.delivery_id, delivery_attempts.c.status_code
                ).order_by(delivery_attempts.c.delivery_id, delivery_attempts.c.attempt)
            )
        ).all()
    assert [tuple(row) for row in moved] == [
        (DELIVERED, "import.finished", f"msg_{DELIVERED}", "delivered"),
        (PENDING, "import.finished", f"msg_{PENDING}", "pending"),
    ]
    assert [tuple(row) for row in attempts] == [
        (f"msg_{DELIVERED}", 500),
        (f"msg_{DELIVERED}", 204),
        (f"msg_{PENDING}", 500),
    ]
    assert await _queued(old.runtime) == [
        ("deliver_event", {"delivery_id": f"msg_{PENDING}", "attempt": 2})
    ]

    server = LiveServer(create_app(runtime=Runtime.from_settings(old.settings))).start()
    try:
        delivery = await old.receiver.delivered()
        _, token = await create_token(old.runtime.db, "demo", [WRITE])
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            statuses = {job_id: await _settled(client, job_id) for job_id in (DELIVERED, PENDING)}
    finally:
        await asyncio.to_thread(server.stop)

    assert delivery.verified
    assert delivery.headers["webhook-id"] == f"msg_{PENDING}"
    assert delivery.body == {
        "source": "image-import",
        "id": PENDING,
        "state": "success",
        "overview": {
            "total": 2,
            "success": 1,
            "skipped": 0,
            "failed": 1,
            "details": {
                "failed": [
                    {
                        "externalId": "bad",
                        "reason": "Could not download: the server answered HTTP 404",
                    }
                ]
            },
        },
        "context": {"batch": PENDING},
    }
    for job_id in (DELIVERED, PENDING):
        assert statuses[job_id]["webhook"] == {
            "state": "delivered",
            "attempts": 2,
            "lastStatusCode": 204,
        }
        assert statuses[job_id]["images"][0]["image"]["mediaId"] == "m1"


async def _settled(client: httpx.AsyncClient, job_id: str) -> Any:
    """The job's status once its webhook is no longer pending (the receiver has answered, and
    the server records that just after)."""
    async with asyncio.timeout(30):
        while True:
            response = await client.get("/api/2026-05/import/images/status", params={"id": job_id})
            assert response.status_code == 200, response.text
            if response.json()["webhook"]["state"] != "pending":
                return response.json()
            await asyncio.sleep(0.02)


async def test_0004_goes_back_and_forth_without_losing_a_webhook(old: Old) -> None:
    await migrate(old.runtime.db)
    await downgrade(old.runtime.db, "0003")

    async with old.runtime.db.read() as conn:
        jobs = (
            await conn.execute(
                sa.select(
                    _jobs.c.id,
                    _jobs.c.webhook_state,
                    _jobs.c.webhook_attempts,
                    _jobs.c.webhook_status_code,
                ).order_by(_jobs.c.id)
            )
        ).all()
        kept = await conn.scalar(sa.select(sa.func.count()).select_from(_old_attempts))
    assert [tuple(job) for job in jobs] == [
        (DELIVERED, "delivered", 2, 204),
        (PENDING, "pending", 1, 500),
    ]
    assert kept == 3
    assert await _queued(old.runtime) == [("deliver_webhook", {"job_id": PENDING, "attempt": 2})]

    await migrate(old.runtime.db)

    assert await current_revision(old.runtime.db) == head_revision()
    assert await _queued(old.runtime) == [
        ("deliver_event", {"delivery_id": f"msg_{PENDING}", "attempt": 2})
    ]
