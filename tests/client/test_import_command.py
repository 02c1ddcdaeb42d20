"""`medialib import` as a user runs it: a real process against a real medialib server and a real
origin on 127.0.0.1, on both stacks. What the server made is read back through its API."""

from __future__ import annotations

import asyncio
import csv
import itertools
import json
import os
import pty
import signal
import sqlite3
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support import media
from tests.support.origin import Origin
from tests.support.process import ServerProcess
from tests.support.stack import Stack


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def _command(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "medialib.cli", "import", *map(str, args)]


def _env(server: Stack | ServerProcess, token: str) -> dict[str, str]:
    return os.environ | {"MEDIALIB_SERVER": server.url, "MEDIALIB_TOKEN": token}


async def spawn_import(
    server: Stack | ServerProcess, token: str, *args: str | Path
) -> asyncio.subprocess.Process:
    """The command in its own process; the test's event loop (which serves the origin and the
    app) keeps running meanwhile."""
    return await asyncio.create_subprocess_exec(
        *_command(*args),
        env=_env(server, token),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def medialib_import(server: Stack | ServerProcess, token: str, *args: str | Path) -> Ran:
    process = await spawn_import(server, token, *args)
    async with asyncio.timeout(180):
        out, err = await process.communicate()
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


async def jobs_of(api: httpx.AsyncClient) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 100} | ({"cursor": cursor} if cursor else {})
        page = (await api.get("/api/2026-05/import/jobs", params=params)).json()
        found += page["jobs"]
        cursor = page["cursor"]
        if cursor is None:
            return found


def read_report(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def pictures(origin: Origin, count: int) -> list[str]:
    prefix = uuid.uuid4().hex[:8]
    return [
        origin.file(f"{prefix}/{i}.jpg", media.jpeg(20 + i % 7, 20, Artist=f"{prefix}-{i}"))
        for i in range(count)
    ]


async def test_a_csv_manifest_with_typed_metadata_imports_and_reports(
    stack: Stack, project: str, origin: Origin, tmp_path: Path
) -> None:
    token = await stack.token(project)
    api = stack.client(token)
    urls = pictures(origin, 3)
    manifest = tmp_path / "archive.csv"
    manifest.write_text(
        "url,id,fileName,mediaType,metadata.title,metadata.caption\n"
        f"{urls[0]},a-1,one.jpg,image,First,\n"
        f'{urls[1]},a-2,two.jpg,,"Second, with a comma",A caption\n'
        f"{urls[2]},a-3,three.jpg,image,Third,\n"
    )
    report = tmp_path / "results.csv"

    done = await medialib_import(
        stack, token, "images", manifest, "--report", report, "--system-name", "old"
    )

    assert done.returncode == 0, done.stderr
    rows = read_report(report)
    assert [(r["line"], r["id"], r["state"], r["action"]) for r in rows] == [
        ("2", "a-1", "success", "created"),
        ("3", "a-2", "success", "created"),
        ("4", "a-3", "success", "created"),
    ]
    ids = ",".join(r["mediaId"] for r in rows)
    entries = (await api.get("/api/2026-05/mediaLibrary", params={"ids": ids})).json()["results"]
    assert [e["metadata"] for e in entries] == [
        {"title": "First"},
        {"title": "Second, with a comma", "caption": "A caption"},
        {"title": "Third"},
    ]
    assert {e["systemName"] for e in entries} == {"old"}
    assert "3/3 done, 3 created" in done.stderr  # the plain line: no terminal here

    jobs_before = len(await jobs_of(api))
    again = await medialib_import(
        stack, token, "images", manifest, "--report", report, "--system-name", "old"
    )
    assert again.returncode == 0, again.stderr
    assert len(await jobs_of(api)) == jobs_before  # a finished manifest sends nothing
    assert read_report(report) == rows


async def test_invalid_rows_stop_the_command_unless_skipped(
    stack: Stack, project: str, origin: Origin, tmp_path: Path
) -> None:
    token = await stack.token(project)
    api = stack.client(token)
    [url] = pictures(origin, 1)
    manifest = tmp_path / "archive.jsonl"
    lines = [
        {"url": url, "id": "j-1", "fileName": "ok.jpg", "metadata": {"title": "Fine"}},
        {"url": "ftp://archive/2.jpg", "id": "j-2", "fileName": "x.jpg"},
        {"url": url, "id": "j-1", "fileName": "again.jpg"},
        {"id": "j-4", "fileName": "no-url.jpg"},
    ]
    manifest.write_text("\n".join(json.dumps(line) for line in lines) + "\nnot json\n")
    jobs_before = len(await jobs_of(api))

    refused = await medialib_import(stack, token, "images", manifest)

    assert refused.returncode == 2
    assert "line 2: url 'ftp://archive/2.jpg' is not an http or https URL" in refused.stderr
    assert "line 3: id 'j-1' is on line 1 already" in refused.stderr
    assert "line 4: url is missing" in refused.stderr
    assert "line 5: not JSON" in refused.stderr
    assert len(await jobs_of(api)) == jobs_before

    report = tmp_path / "results.jsonl"
    skipped = await medialib_import(
        stack, token, "images", manifest, "--skip-invalid", "--report", report
    )
    assert skipped.returncode == 0, skipped.stderr
    [row] = [json.loads(line) for line in report.read_text().splitlines()]
    assert (row["line"], row["id"], row["state"]) == (1, "j-1", "success")


async def test_retry_failed_sends_only_the_failed_rows_again(
    stack: Stack, project: str, origin: Origin, tmp_path: Path
) -> None:
    token = await stack.token(project)
    api = stack.client(token)
    good = pictures(origin, 2)
    late = origin.url(f"{uuid.uuid4().hex}/late.jpg")  # not there yet: 404
    manifest = tmp_path / "archive.csv"
    manifest.write_text(
        f"url,id,fileName\n{good[0]},r-1,a.jpg\n{late},r-2,b.jpg\n{good[1]},r-3,c.jpg\n"
    )
    report = tmp_path / "results.csv"

    first = await medialib_import(stack, token, "images", manifest, "--report", report)

    assert first.returncode == 1
    rows = read_report(report)
    assert [r["state"] for r in rows] == ["success", "failed", "success"]
    assert rows[1]["reasonCode"] == "http_404"
    jobs_before = len(await jobs_of(api))

    # A 404 is not transient: the default retry leaves it, `all` sends it again.
    kept = await medialib_import(
        stack, token, "images", manifest, "--retry-failed", "--report", report
    )
    assert kept.returncode == 1
    assert len(await jobs_of(api)) == jobs_before
    origin.file(late.split(f":{origin.port}/", 1)[1], media.jpeg(33, 21))
    retried = await medialib_import(
        stack, token, "images", manifest, "--retry-failed=all", "--report", report
    )
    assert retried.returncode == 0, retried.stderr
    jobs = await jobs_of(api)
    assert len(jobs) == jobs_before + 1
    assert jobs[0]["progress"]["total"] == 1  # only the failed row
    rows_after = read_report(report)
    assert [r["state"] for r in rows_after] == ["success"] * 3
    assert rows_after[0]["mediaId"] == rows[0]["mediaId"]


def _batches(state: Path, where: str) -> int:
    """Batches of the state file in a state (`state = 'done'`), 0 before the file is made."""
    if not state.exists():
        return 0
    with sqlite3.connect(state) as db:
        try:
            row = db.execute(f"SELECT count(*) FROM batches WHERE {where}").fetchone()
        except sqlite3.OperationalError:  # not made yet
            return 0
    return int(row[0])


async def _entries_of(api: httpx.AsyncClient, system_name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"systemName": system_name, "limit": 100}
        params |= {"cursor": cursor} if cursor else {}
        page = (await api.get("/api/2026-05/mediaLibrary", params=params)).json()
        found += page["results"]
        cursor = page["cursor"]
        if cursor is None:
            return found


async def test_a_killed_client_resumes_without_sending_a_batch_twice(
    stack: Stack, project: str, origin: Origin, tmp_path: Path
) -> None:
    """SIGKILL in the middle of a 2,000-row import (a batch done, another running), then the
    same command again: every row in the library once, no batch sent twice."""
    token = await stack.token(project)
    api = stack.client(token)
    rows = 2000
    urls = pictures(origin, rows)
    manifest = tmp_path / "archive.csv"
    manifest.write_text(
        "url,id,fileName\n" + "".join(f"{u},k-{i},{i}.jpg\n" for i, u in enumerate(urls))
    )
    state = tmp_path / "archive.csv.medialib-import.sqlite"
    jobs_before = len(await jobs_of(api))
    system = f"killed-{uuid.uuid4().hex[:8]}"
    options = ("--batch-size", "200", "--open-jobs", "2", "--system-name", system)

    client = await spawn_import(stack, token, "images", manifest, *options)
    async with asyncio.timeout(120):
        while not (
            _batches(state, "state = 'done'") >= 1 and _batches(state, "state = 'running'") >= 1
        ):
            await asyncio.sleep(0.02)
    client.send_signal(signal.SIGKILL)
    await client.wait()
    assert _batches(state, "state = 'done'") < 10  # it was killed midway
    report = tmp_path / "results.csv"
    resumed = await medialib_import(stack, token, "images", manifest, *options, "--report", report)

    assert resumed.returncode == 0, resumed.stderr
    assert len(await jobs_of(api)) - jobs_before == 10  # 2,000 rows in batches of 200, each once
    reported = read_report(report)
    assert len(reported) == rows
    assert {r["state"] for r in reported} == {"success"}
    assert {r["action"] for r in reported} == {"created"}  # no row was imported twice
    entries = await _entries_of(api, system)
    assert sorted(e["externalId"] for e in entries) == sorted(f"k-{i}" for i in range(rows))
    assert {e["id"] for e in entries} == {r["mediaId"] for r in reported}


async def test_a_server_at_its_open_job_limit_is_waited_for(origin: Origin, tmp_path: Path) -> None:
    """The server allows one open job; the client wants three. After a 429 it sends again when
    one of its jobs has finished (not only after the Retry-After of 30 s), and every batch is
    still sent exactly once."""
    server = ServerProcess(
        tmp_path / "home",
        env={
            "MEDIALIB_MAX_OPEN_JOBS": "1",
            "MEDIALIB_FETCH_ALLOW": "127.0.0.1/32",
            "MEDIALIB_RATE_LIMIT": "10000",
        },
    )
    token = server.run("token", "create", "--project", "demo", "--scope", "public-api:write")
    server.serve()
    try:
        urls = pictures(origin, 40)
        manifest = tmp_path / "archive.csv"
        manifest.write_text(
            "url,id,fileName\n" + "".join(f"{u},b-{i},{i}.jpg\n" for i, u in enumerate(urls))
        )
        report = tmp_path / "results.csv"
        options = ("--batch-size", "10", "--open-jobs", "3", "--report", report)

        done = await medialib_import(server, token, "images", manifest, *options)

        assert done.returncode == 0, done.stderr
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}
        ) as api:
            jobs = await jobs_of(api)
        assert len(jobs) == 4
        assert {r["state"] for r in read_report(report)} == {"success"}
        # One at a time, as the server allowed: each job started after the one before finished.
        ordered = sorted(jobs, key=lambda job: job["startedAt"])
        for before, after in itertools.pairwise(ordered):
            assert after["startedAt"] >= before["finishedAt"]
    finally:
        server.stop()


async def test_on_a_terminal_the_progress_is_a_live_table(
    stack: Stack, project: str, origin: Origin, tmp_path: Path
) -> None:
    token = await stack.token(project)
    urls = pictures(origin, 3)
    manifest = tmp_path / "archive.csv"
    manifest.write_text(
        "url,id,fileName\n" + "".join(f"{u},t-{i},{i}.jpg\n" for i, u in enumerate(urls))
    )
    leader, follower = pty.openpty()
    process = await asyncio.create_subprocess_exec(
        *_command("images", manifest),
        env=_env(stack, token) | {"TERM": "xterm-256color", "COLUMNS": "120"},
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    screen = asyncio.create_task(asyncio.to_thread(_read_all, leader))
    async with asyncio.timeout(120):
        assert await process.wait() == 0
        shown = await screen

    assert "medialib import" in shown  # the table's title
    for heading in ("done", "created", "updated", "skipped", "failed", "rate", "left"):
        assert heading in shown
    assert "3/3" in shown
    assert "images: 3/3 done" not in shown  # no plain lines on a terminal


def _read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the other side closed: EIO
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode(errors="replace")


async def test_csv_cells_take_the_types_of_the_project_config(
    stack: Stack, origin: Origin, tmp_path: Path
) -> None:
    """Project `typed` has integer, number, boolean and list properties: a plain CSV's cells
    arrive as those types (read from GET /projectConfig), a column's own type wins."""
    token = await stack.token("typed")
    api = stack.client(token)
    config = (await api.get("/api/2026-05/projectConfig")).json()
    image = next(m for m in config["mediaTypes"] if m["handle"] == "image")
    assert {"handle": "rank", "type": "li-integer", "config": {"min": 1, "max": 10}} in (
        image["metadata"]
    )
    [url] = pictures(origin, 1)
    external_id = f"typed-{uuid.uuid4().hex[:8]}"
    manifest = tmp_path / "typed.csv"
    manifest.write_text(
        "url,id,fileName,metadata.title,metadata.rank,metadata.score,metadata.published,"
        "metadata.keywords,metadata.caption:text\n"
        f'{url},{external_id},t.jpg,Typed,7,2.5,true,"[""sea""]",042\n'
    )
    report = tmp_path / "results.csv"

    done = await medialib_import(stack, token, "images", manifest, "--report", report)

    assert done.returncode == 0, done.stderr
    [row] = read_report(report)
    [entry] = (await api.get("/api/2026-05/mediaLibrary", params={"ids": row["mediaId"]})).json()[
        "results"
    ]
    assert entry["metadata"] == {
        "title": "Typed",
        "rank": 7,
        "score": 2.5,
        "published": True,
        "keywords": ["sea"],
        "caption": "042",
    }
