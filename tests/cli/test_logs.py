"""`MEDIALIB_LOG_FORMAT=json`: a real `medialib serve` (and its worker processes) through a
whole flow — a token made, an import with a webhook (one item failing, one delivery failing
once), a signed rendition, an upload URL, a cancelled job — and then every line it wrote to
standard error: each one JSON, with the context where it belongs, and not one carrying a token,
the webhook secret, a signature or a password."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from medialib import logs
from tests.support import media, postgres
from tests.support.origin import Origin
from tests.support.process import ServerProcess
from tests.support.s3 import CREDENTIALS
from tests.support.stack import DEMO_MEDIA_TYPES
from tests.support.webhooks import Receiver

RENDITION_TOKEN = "rendition-secure-token-0123"
HOOK_PASSWORD = "hook-password-4567"
HOOK_KEY = "hook-query-key-89ab"
V = "/api/2026-05"


@pytest.fixture
async def server(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[ServerProcess]:
    """`medialib serve` with JSON logs, on SQLite and a folder or on PostgreSQL and S3."""
    home = tmp_path / "home"
    home.mkdir()
    config = {
        "projects": [{"handle": "demo", "mediaTypes": DEMO_MEDIA_TYPES}],
        "imageService": {"medialib": {"secureToken": RENDITION_TOKEN}},
    }
    (home / "medialib.yaml").write_text(yaml.safe_dump(config))
    env = {
        "MEDIALIB_LOG_FORMAT": "json",
        "MEDIALIB_FETCH_ALLOW": "127.0.0.1/32",
        "MEDIALIB_FETCH_RETRY_BASE": "0.01",
        "MEDIALIB_WEBHOOK_RETRY_DELAYS": "0.05,0.05",
        "MEDIALIB_JOB_WEBHOOK_HOLD": "0",
    }
    database = None
    if backend == "postgres":
        s3 = request.getfixturevalue("s3_server")
        database = postgres.create_database()
        env |= CREDENTIALS | {
            "MEDIALIB_DATABASE_URL": database,
            "MEDIALIB_STORAGE_URL": f"s3://{s3.new_bucket()}/media",
            "MEDIALIB_S3_ENDPOINT": s3.endpoint,
        }
    process = ServerProcess(home, env=env, logs_apart=True)
    process.run("migrate")
    try:
        yield process
    finally:
        await asyncio.to_thread(process.stop)
        if database:
            postgres.drop_database(database)


def _secret_of(shown: str) -> str:
    return next(line.split(": ", 1)[1] for line in shown.splitlines() if "secret" in line).strip()


async def test_json_logs_of_a_whole_flow_carry_context_and_no_secret(
    server: ServerProcess, origin: Origin
) -> None:
    token = server.run("token", "create", "--project", "demo", "--scope", "public-api:write")
    read_token = server.run("token", "create", "--project", "demo", "--scope", "public-api:read")
    secret = _secret_of(server.run("project", "show", "demo"))
    receiver = await Receiver(secret=secret, failures=[500]).start()
    gate = asyncio.Event()
    good = origin.file(f"logs/{server.port}/a.jpg", media.jpeg(40, 30), "image/jpeg")
    held = origin.gated(f"logs/{server.port}/held.jpg", media.jpeg(40, 30), gate)
    hook = receiver.url("hook").replace("http://", f"http://ops:{HOOK_PASSWORD}@")
    await asyncio.to_thread(server.serve, "--workers", "1")
    signatures: list[str] = []
    request_ids: dict[str, str] = {}
    async with (
        httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as api,
        httpx.AsyncClient(base_url=server.url) as anonymous,
    ):
        # An import with a webhook: one item stored, one failing (the origin has no such file).
        body = {
            "systemName": "logs",
            "webhook": f"{hook}?key={HOOK_KEY}",
            "images": [
                {"url": good, "id": "good", "fileName": "a", "metadata": {}},
                {"url": origin.url("logs/none.jpg"), "id": "bad", "fileName": "b", "metadata": {}},
            ],
        }
        started = await api.post(f"{V}/import/images", json=body, headers={"X-Request-Id": "r-1"})
        assert started.status_code == 200, started.text
        assert started.headers["x-request-id"] == "r-1"
        job_id = started.json()["id"]
        # The job's webhook goes out when it has finished: the first attempt fails...
        assert (await receiver.next()).answered == 500
        assert (await receiver.next()).answered == 204  # ...the second is delivered
        asked = await api.get(f"{V}/import/images/status", params={"id": job_id})
        status = asked.json()
        assert status["progress"]["failed"] == 1
        image = next(i for i in status["images"] if i["state"] == "success")["image"]

        # A signed rendition URL, served; the same with a token in the query.
        url = httpx.URL(image["url"])
        signatures.append(url.params["s"])
        assert (await anonymous.get(url.raw_path.decode())).status_code == 200
        asked = await anonymous.get(f"{V}/mediaLibrary", params={"access_token": read_token})
        assert asked.status_code == 401

        # An upload URL, made and used (on S3 it is the bucket's, presigned).
        upload = await api.post(
            f"{V}/mediaLibrary/uploads",
            json={"fileName": "x.jpg", "mimeType": "image/jpeg", "size": 3},
        )
        assert upload.status_code == 200, upload.text
        upload_url = httpx.URL(upload.json()["uploadUrl"])
        signatures += [v for k, v in upload_url.params.items() if "signature" in k.lower()]
        if upload_url.host == "127.0.0.1":
            put = await anonymous.put(str(upload_url), content=b"abc")
            assert put.status_code == 200, put.text

        # A job cancelled while its download is held at the origin.
        item = {"url": held, "id": "held", "fileName": "h", "metadata": {}}
        body = {"systemName": "logs", "images": [item]}
        cancelled_id = (await api.post(f"{V}/import/images", json=body)).json()["id"]
        cancel = await api.post(f"{V}/import/jobs/{cancelled_id}/cancel")
        assert cancel.status_code == 200, cancel.text
        request_ids["cancel"] = cancel.headers["x-request-id"]
        gate.set()
    await receiver.stop()
    await asyncio.to_thread(server.stop)

    lines = [json.loads(line) for line in server.logs]  # every line is one JSON object
    assert signatures
    assert all(len(s) >= 16 for s in signatures)
    for line in server.logs:
        for secret_text in (token, read_token, secret, secret.removeprefix("whsec_"), *signatures):
            assert secret_text not in line
        assert HOOK_PASSWORD not in line
        assert HOOK_KEY not in line
        assert RENDITION_TOKEN not in line
    for line in lines:
        assert {"time", "level", "logger", "message"} <= line.keys(), line

    access = [line for line in lines if line["logger"] == "medialib.access"]
    assert all(re.fullmatch(r"[\w.:-]+", line["request_id"]) for line in access)
    assert {"method", "route", "status", "duration_ms"} <= access[0].keys()
    start = next(line for line in access if line["request_id"] == "r-1")
    assert start["route"] == "/api/{version}/import/images"
    assert (start["method"], start["status"], start["project"]) == ("POST", 200, "demo")
    assert any(line["route"] == "/media/{key}" and line["status"] == 200 for line in access), access
    assert any(line["route"] == "/api/{version}/mediaLibrary" for line in access)

    by_message = _by_message(lines)
    # A line logged within a request carries the request's id.
    started_line = next(line for line in by_message["job started"] if line["job_id"] == job_id)
    assert (started_line["request_id"], started_line["project"]) == ("r-1", "demo")
    finished = next(line for line in by_message["job finished"] if line["job_id"] == job_id)
    assert (finished["failed"], finished["success"], finished["total"]) == (1, 1, 2)
    assert finished["task"] == "finish_job"
    failed = [line for line in by_message["item failed"] if line["job_id"] == job_id]
    assert [(f["item"], f["project"], f["task"]) for f in failed] == [(1, "demo", "process_items")]
    assert failed[0]["reason_code"]
    cancelled = by_message["job cancelled"]
    assert [(c["job_id"], c["request_id"]) for c in cancelled] == [
        (cancelled_id, request_ids["cancel"])
    ]
    attempts = by_message["webhook delivery"]
    assert [(a["attempt"], a["outcome"], a["status"]) for a in attempts] == [
        (1, "pending", 500),
        (2, "delivered", 204),
    ]
    # The receiver without its query, and without its credentials (the user, in case it is a
    # token, as well as the password).
    assert attempts[0]["receiver"] == receiver.url("hook").replace("http://", "http://***@")
    assert all(a["task"] == "deliver_event" and a["project"] == "demo" for a in attempts)


def _by_message(lines: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Lines by what their message begins with (`item 1 failed: …` under `item failed`)."""
    kinds = ("job started", "job finished", "job cancelled", "item failed", "webhook delivery")
    found: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    for line in lines:
        words = re.sub(r" \d+", "", line["message"])
        for kind in kinds:
            if words.startswith(kind):
                found[kind].append(line)
    return found


# --- The formats themselves, with whatever a line may be handed ----------------------------------

LEAKS = {
    "token": "mlt_" + "A1b2" * 10,
    "webhook secret": "whsec_" + "c2VjcmV0" * 5 + "=",
    "upload signature": "9f86d081884c7d659a2feaa0c55ad015",
    "rendition signature": "0cc175b9c0f1b6a831c399e269772661",
    "password": "pa55-w0rd",
    "bearer": "opaque.credential-value",
    "S3 signature": "aws4-sig-0123456789abcdef",
    "webhook signature": "K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
    "the original's signature": "ab" * 32,
    "presigned": "sp%3Dr%26sig%3DAzUr3",
}


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("medialib.test", logging.WARNING, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    return record


HOSTILE_LINES = [
    _record("could not reach %s", f"http://ops:{LEAKS['password']}@hooks.example/h?x=1"),
    _record("got %s", f"https://{LEAKS['token']}@hooks.example/"),  # a token as the user
    _record("PUT /uploads/k.jpg?project=p&size=3&signature=%s", LEAKS["upload signature"]),
    _record("GET /media/k.jpg?w=10&s=%s HTTP/1.1", LEAKS["rendition signature"]),
    _record("asked with access_token=x", url=f"/api?access_token={LEAKS['token']}"),
    _record("header", authorization=f"Bearer {LEAKS['bearer']}"),
    _record("signing with %s", LEAKS["webhook secret"]),
    _record("presigned", url=f"https://b.s3/k?X-Amz-Signature={LEAKS['S3 signature']}&a=b"),
    _record('token %s\nand a second line "quoted"', LEAKS["token"]),
    _record("nested", facts={"deep": [LEAKS["token"], LEAKS["webhook secret"]]}),
    _record("sent", headers={"webhook-signature": f"v1,{LEAKS['webhook signature']}"}),
    _record("sent x-livingdocs-signature: sha256=%s", LEAKS["the original's signature"]),
    _record(
        "could not fetch %s",
        f"HTTPS://archive.example/p.jpg?sv=1&sig={LEAKS['presigned']}#top",
    ),
]


@pytest.mark.parametrize(
    "formatter", [logs.JsonFormatter(), logs.TextFormatter()], ids=["json", "text"]
)
@pytest.mark.parametrize("record", HOSTILE_LINES, ids=lambda r: r.msg[:20])
def test_no_line_carries_a_secret_whatever_it_was_handed(
    formatter: logging.Formatter, record: logging.LogRecord
) -> None:
    line = formatter.format(record)
    for what, leak in LEAKS.items():
        assert leak not in line, what
    if isinstance(formatter, logs.JsonFormatter):
        assert "\n" not in line
        assert json.loads(line)["level"] == "warning"


def test_an_exception_is_in_its_line_and_keeps_no_secret() -> None:
    try:
        raise RuntimeError(f"failed with Authorization: Bearer {LEAKS['bearer']}")
    except RuntimeError:
        record = logging.LogRecord(
            "medialib.test", logging.ERROR, __file__, 1, "boom", None, sys.exc_info()
        )
    line = json.loads(logs.JsonFormatter().format(record))
    assert "RuntimeError" in line["exception"]
    assert LEAKS["bearer"] not in line["exception"]


def test_context_is_bound_per_scope_and_annotations_reach_the_binder() -> None:
    formatter = logs.JsonFormatter()
    with logs.bind(request_id="r-9") as scope:
        with logs.bind(job_id="j-1", item=None):  # None binds nothing
            inner = json.loads(formatter.format(_record("inner")))
        logs.annotate(project="demo")
        outer = json.loads(formatter.format(_record("outer", item=4)))
    after = json.loads(formatter.format(_record("after")))
    logs.annotate(project="nowhere")  # outside every scope: nothing, and no error
    assert (inner["request_id"], inner["job_id"], "item" in inner) == ("r-9", "j-1", False)
    assert (outer["project"], outer["item"], "job_id" in outer) == ("demo", 4, False)
    assert scope["project"] == "demo"
    assert not {"request_id", "project", "job_id"} & after.keys()


def test_auto_is_json_unless_standard_error_is_a_terminal() -> None:
    assert logs.resolved_format("json") == "json"
    assert logs.resolved_format("text") == "text"
    assert logs.resolved_format("auto") == ("text" if sys.stderr.isatty() else "json")


def test_an_unknown_log_format_stops_the_start_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "medialib.cli", "serve", "--port", "0"],
        env=ServerProcess(tmp_path, env={"MEDIALIB_LOG_FORMAT": "xml"}).env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "medialib: error: MEDIALIB_LOG_FORMAT: Input should be 'auto', 'json' or 'text'"
    ]


def test_a_text_line_stays_one_line_whatever_its_message() -> None:
    forged = "item 3 failed\n2026-12-06T00:00:00.000Z INFO    medialib.access: GET / 200"
    line = logs.TextFormatter().format(_record("%s", forged, reason="a\r\nb"))

    assert line.splitlines() == [line]
    assert line.endswith("reason=a\\r\\nb")
