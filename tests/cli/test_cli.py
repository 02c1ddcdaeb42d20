"""The `medialib` command, run as a user runs it: a subprocess with MEDIALIB_* variables."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

TOKEN = re.compile(r"^mlt_[A-Za-z0-9_-]{43}$")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def medialib(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MEDIALIB_HOME": str(home)}
    env.pop("MEDIALIB_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "medialib.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=60,
    )


def test_token_create_prints_only_the_token(home: Path) -> None:
    made = medialib(home, "token", "create", "--project", "demo", "--scope", "public-api:read")

    assert TOKEN.match(made.stdout.strip())
    assert made.stdout.count("\n") == 1


def test_tokens_are_listed_and_revoked_by_id(home: Path) -> None:
    token = medialib(
        home,
        "token",
        "create",
        "--project",
        "demo",
        "--scope",
        "public-api:write",
        "--scope",
        "public-api:read",
        "--expires-in",
        "30d",
        "--name",
        "importer",
    ).stdout.strip()

    listed = medialib(home, "token", "list").stdout
    [row] = [line for line in listed.splitlines() if "importer" in line]
    token_id = row.split()[0]
    assert token not in listed
    assert "active" in row
    assert "public-api:read,public-api:write" in row

    medialib(home, "token", "revoke", token_id)

    assert "revoked" in medialib(home, "token", "list", "--project", "demo").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--project", "nope", "--scope", "public-api:read"), "no project 'nope'"),
        (
            ("--project", "demo", "--scope", "public-api:read", "--expires-in", "soon"),
            "not a duration",
        ),
    ],
)
def test_token_create_fails_in_one_line(home: Path, args: tuple[str, ...], message: str) -> None:
    failed = medialib(home, "token", "create", *args, check=False)

    assert failed.returncode == 2
    assert failed.stdout == ""
    assert (
        failed.stderr.strip() == f"medialib: error: {failed.stderr.strip().split('error: ', 1)[1]}"
    )
    assert message in failed.stderr


def test_revoking_an_unknown_token_fails(home: Path) -> None:
    failed = medialib(home, "token", "revoke", "deadbeef", check=False)

    assert failed.returncode == 2
    assert "no token 'deadbeef'" in failed.stderr


def test_project_show_gives_the_webhook_secret(home: Path) -> None:
    shown = medialib(home, "project", "show", "demo").stdout

    assert re.search(r"webhook secret: whsec_[A-Za-z0-9+/=]{44}", shown)
    assert "image" in shown
    assert "mediaImage" in shown
    assert shown == medialib(home, "project", "show", "demo").stdout


def test_project_show_lists_enum_labels_and_untranslatable_properties(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "medialib.yaml").write_text(
        "projects: [{handle: p, mediaTypes: [{handle: image, type: mediaImage, metadata: ["
        "{handle: license, type: li-enum, config: {options: [{value: cc-by, label: CC BY}, "
        "{value: rm}]}}, {handle: credit, type: li-text, config: {translatable: false}}]}]}]\n"
    )

    shown = medialib(home, "project", "show", "p").stdout

    assert "license (li-enum: cc-by 'CC BY', rm)" in shown
    assert "credit (li-text, not translatable)" in shown


def test_a_worker_never_loads_the_http_layer(home: Path) -> None:
    env = {**os.environ, "MEDIALIB_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env.pop("MEDIALIB_DATABASE_URL", None)
    worker = subprocess.Popen(
        [sys.executable, "-X", "importtime", "-m", "medialib.cli", "worker"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert worker.stderr is not None
    loaded: set[str] = set()
    for line in worker.stderr:  # ends at the worker's ready line (or its exit)
        if line.startswith("import time:"):
            loaded.add(line.rsplit("|", 1)[1].strip())
        if "ready" in line:
            break
    worker.terminate()
    worker.wait(timeout=30)

    assert "medialib.tasks.local" in loaded  # it did start a task worker ...
    http = {m for m in loaded if m.split(".")[0] in ("fastapi", "starlette", "uvicorn")}
    assert not http | {m for m in loaded if m.startswith("medialib.api")}  # ... and nothing else


def test_a_broken_config_stops_the_start_with_one_message(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "medialib.yaml").write_text("projects: [{handle: p, mediaTypes: []}]\n")

    failed = medialib(home, "serve", check=False)

    assert failed.returncode == 2
    assert failed.stderr.strip() == (
        f"medialib: error: {home / 'medialib.yaml'}: projects[0].mediaTypes: "
        "List should have at least 1 item after validation, not 0"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served(home: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = _free_port()
    env = {**os.environ, "MEDIALIB_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env.pop("MEDIALIB_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "medialib.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process, port
    process.terminate()
    process.wait(timeout=30)


def test_serve_on_a_first_start_prints_a_token_that_writes_and_reads(
    served: tuple[subprocess.Popen[str], int], home: Path
) -> None:
    process, port = served
    assert process.stdout is not None
    token = None
    for line in process.stdout:
        if TOKEN.match(line.strip()):
            token = line.strip()
        if "Application startup complete" in line:
            break
    assert token is not None

    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        headers = {"Authorization": f"Bearer {token}"}
        wrote = client.post(
            "/api/2026-05/import/mediaLibrary", json={"mediaLibraryEntries": []}, headers=headers
        )
        read = client.get("/api/2026-05/mediaLibrary", params={"ids": "x"}, headers=headers)

    assert wrote.json() == {"results": []}
    assert read.json() == {"results": []}
    assert (home / "medialib.db").exists()
    assert (home / "storage").is_dir()
