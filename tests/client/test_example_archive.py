"""The README's example round: examples/archive/serve.py makes and serves a small archive on
127.0.0.1, and `medialib import` moves it into the library."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.client.test_import_command import medialib_import, read_report
from tests.support.process import free_port
from tests.support.stack import Stack

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "archive" / "serve.py"


async def test_the_example_archive_imports(stack: Stack, project: str, tmp_path: Path) -> None:
    port = free_port()
    archive = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        "--port",
        str(port),
        "--photos",
        "6",
        "--folder",
        str(tmp_path / "archive"),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert archive.stdout is not None
        async with asyncio.timeout(60):
            said = (await archive.stdout.readline()).decode()
        assert said.startswith(f"serving 6 photos on http://127.0.0.1:{port}/")
        manifest = tmp_path / "archive" / "manifest.csv"
        report = tmp_path / "results.csv"
        token = await stack.token(project)

        done = await medialib_import(stack, token, "images", manifest, "--report", report)

        assert done.returncode == 0, done.stderr
        rows = read_report(report)
        assert [(r["id"], r["state"], r["action"]) for r in rows] == [
            (f"legacy-{n:04d}", "success", "created") for n in range(1, 7)
        ]
    finally:
        archive.terminate()
        await archive.wait()
