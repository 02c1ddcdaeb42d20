"""`medialib import` tells the truth while it runs, after a resume, when stopped and when the
server is not there: a real client process against a real stack and origin."""

from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
import sys
import uuid
from pathlib import Path

from tests.client.test_import_command import medialib_import, read_report, spawn_import
from tests.support import media
from tests.support.origin import Origin
from tests.support.stack import Stack


def _running_job(state: Path) -> str | None:
    """The job id of the state file's running batch, None before there is one."""
    if not state.exists():
        return None
    with sqlite3.connect(state) as db:
        try:
            row = db.execute("SELECT job_id FROM batches WHERE state = 'running'").fetchone()
        except sqlite3.OperationalError:  # not made yet
            return None
    return row[0] if row else None


async def _job_id_once_running(state: Path) -> str:
    async with asyncio.timeout(60):
        while (job_id := _running_job(state)) is None:
            await asyncio.sleep(0.02)
    return job_id


def _manifest(tmp_path: Path, urls: list[str]) -> Path:
    manifest = tmp_path / "archive.csv"
    manifest.write_text(
        "url,id,fileName\n" + "".join(f"{u},h-{i},{i}.jpg\n" for i, u in enumerate(urls))
    )
    return manifest


def _held_pictures(origin: Origin, gate: asyncio.Event) -> list[str]:
    """One picture served at once, one missing (404), two held until `gate` opens."""
    prefix = uuid.uuid4().hex[:8]
    return [
        origin.file(f"{prefix}/0.jpg", media.jpeg(20, 20), "image/jpeg"),
        origin.url(f"{prefix}/missing.jpg"),
        origin.gated(f"{prefix}/2.jpg", media.jpeg(21, 20), gate),
        origin.gated(f"{prefix}/3.jpg", media.jpeg(22, 20), gate),
    ]


async def test_progress_shows_each_item_while_its_batch_runs(
    stack: Stack, project: str, origin: Origin, tmp_path: Path
) -> None:
    """One batch of four: two items are done (one failed) while two are held at the origin; the
    progress line says so before the batch finishes, not 0 until it does."""
    token = await stack.token(project)
    gate = asyncio.Event()
    manifest = _manifest(tmp_path, _held_pictures(origin, gate))
    report = tmp_path / "results.csv"

    client = await spawn_import(stack, token, "images", manifest, "--report", report)
    assert client.stderr is not None
    seen = []
    async with asyncio.timeout(60):
        while True:
            line = (await client.stderr.readline()).decode()
            assert line, "the client ended before showing the running batch's progress"
            seen.append(line)
            if line.startswith("images: 2/4 done"):
                break
    gate.set()
    async with asyncio.timeout(60):
        rest = (await client.stderr.read()).decode()
        assert await client.wait() == 1  # a row failed

    assert "1 succeeded in open jobs, 0 skipped, 1 failed" in seen[-1]
    assert "images: 4/4 done, 3 created, 0 updated, 0 skipped, 1 failed" in rest
    assert rest.strip().splitlines()[-1] == f"report written to {report}"
    assert {r["state"] for r in read_report(report)} == {"success", "failed"}


async def test_ctrl_c_exits_130_and_the_resumed_run_counts_only_its_own_rows(
    stack: Stack, project: str, origin: Origin, tmp_path: Path
) -> None:
    """SIGINT while a job runs: exit code 130 and how to go on. The job finishes on the server
    meanwhile; the run again finds it done, which is none of its own doing: 0/s, not the batch
    over the fraction of a second the run took."""
    token = await stack.token(project)
    api = stack.client(token)
    gate = asyncio.Event()
    manifest = _manifest(tmp_path, _held_pictures(origin, gate))
    state = tmp_path / "archive.csv.medialib-import.sqlite"

    client = await spawn_import(stack, token, "images", manifest)
    job_id = await _job_id_once_running(state)
    client.send_signal(signal.SIGINT)
    async with asyncio.timeout(30):
        _, err = await client.communicate()
    stopped = err.decode()

    assert client.returncode == 130, stopped
    assert stopped.strip().splitlines()[-1] == (
        "medialib import: interrupted; run the same command again to resume"
    )
    assert "Aborted!" not in stopped

    gate.set()
    async with asyncio.timeout(60):
        while not (await api.get(f"/api/2026-05/import/images/status?id={job_id}")).json()[
            "finished"
        ]:
            await asyncio.sleep(0.05)
    report = tmp_path / "results.jsonl"
    resumed = await medialib_import(stack, token, "images", manifest, "--quiet", "--report", report)

    assert resumed.returncode == 1, resumed.stderr  # the missing picture
    summary, last = resumed.stderr.strip().splitlines()[-2:]
    assert summary == (
        "images: 4/4 done, 3 created, 0 updated, 0 skipped, 1 failed, 0/s, nothing left"
    )
    assert last == f"report written to {report}"


async def test_an_unreachable_server_is_named_in_words(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    manifest = tmp_path / "archive.jsonl"
    manifest.write_text('{"url": "http://127.0.0.1:9/a.jpg", "id": "a", "fileName": "a.jpg"}\n')
    server = f"http://127.0.0.1:{port}"

    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "medialib.cli", "import", "images", str(manifest)],
        *["--server", server, "--token", "t"],
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        _, err = await process.communicate()
    said = err.decode()

    assert process.returncode == 1, said
    assert f"cannot connect to {server}/api/2026-05/projectConfig: Connection refused" in said
    assert "ClientConnectorError" not in said
    assert "ConnectionKey" not in said
