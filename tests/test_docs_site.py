"""The docs keep up with the code. Every setting of `settings.py` is in the settings table of
docs/configuration.md, and the docs name no `MEDIALIB_*` setting that does not exist (as
datasette's test_docs holds its settings to its docs); docs/index.md is the README, its links
made relative to docs/; and the README's quick start, run as written against a fresh server,
imports a photo. (`make docs` builds the site with --strict, which checks the links.)"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from pydantic_settings import BaseSettings

from medialib.settings import Settings
from tests.support.process import ServerProcess, free_port

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
CONFIGURATION = DOCS / "configuration.md"

NAME = re.compile(r"\bMEDIALIB_[A-Z0-9_]*[A-Z0-9]\b")
# MEDIALIB_* variables that are not server settings: the bulk client's and the tests' own.
NOT_SETTINGS = {
    "MEDIALIB_SERVER": ROOT / "src/medialib/cli/importer.py",
    "MEDIALIB_TOKEN": ROOT / "src/medialib/cli/importer.py",
    "MEDIALIB_TEST_POSTGRES_URL": ROOT / "tests/support/postgres.py",
    "MEDIALIB_SCHEMATHESIS_EXAMPLES": ROOT / "tests/security/test_schemathesis.py",
    "MEDIALIB_SCHEMATHESIS_SCENARIOS": ROOT / "tests/security/test_schemathesis.py",
}


def env_names(settings: type[BaseSettings]) -> set[str]:
    """The environment variable of each field, as pydantic-settings reads it."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    return {f"{prefix}{name}".upper() for name in settings.model_fields}


def section(text: str, heading: str) -> str:
    """The text under `heading` up to the next heading of the same or a higher level (a line
    starting with `#` inside a fenced block is no heading)."""
    level = len(heading.split(" ", 1)[0])
    lines = text.splitlines(keepends=True)
    start = lines.index(heading + "\n")
    fenced = False
    for end in range(start + 1, len(lines)):
        line = lines[end]
        fenced ^= line.startswith("```")
        hashes = len(line) - len(line.lstrip("#"))
        if not fenced and 0 < hashes <= level and line[hashes : hashes + 1] == " ":
            return "".join(lines[start:end])
    return "".join(lines[start:])


def settings_table(page: str) -> set[str]:
    """The settings named in the first column of the settings table."""
    names: set[str] = set()
    for line in section(page, "## Settings").splitlines():
        if line.startswith("| `MEDIALIB_"):
            names |= set(NAME.findall(line.split("|")[1]))
    return names


def undocumented(settings: type[BaseSettings], page: str) -> set[str]:
    return env_names(settings) - settings_table(page)


def doc_files() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def test_every_setting_is_in_the_configuration_table() -> None:
    missing = undocumented(Settings, CONFIGURATION.read_text())

    assert not missing, f"settings missing from the table in docs/configuration.md: {missing}"


def test_a_setting_added_without_docs_is_caught() -> None:
    class MoreSettings(Settings):
        brand_new_limit: int = 1

    assert undocumented(MoreSettings, CONFIGURATION.read_text()) == {"MEDIALIB_BRAND_NEW_LIMIT"}


def test_the_configuration_page_names_only_settings_that_exist() -> None:
    named = set(NAME.findall(CONFIGURATION.read_text()))

    assert named - env_names(Settings) == set()


def test_the_docs_name_no_setting_that_does_not_exist() -> None:
    known = env_names(Settings) | set(NOT_SETTINGS)
    unknown = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in doc_files()
        for name in NAME.findall(path.read_text())
        if name not in known
    }

    assert not unknown, f"not a setting (nor the client's or the tests'): {sorted(unknown)}"


def test_the_variables_that_are_not_settings_are_read_where_they_say() -> None:
    for name, reader in NOT_SETTINGS.items():
        assert name in reader.read_text(), f"{name} is not read in {reader}"


def test_the_docs_home_is_the_readme() -> None:
    home = README.read_text().replace("](docs/", "](")

    assert (DOCS / "index.md").read_text() == home, (
        "docs/index.md is the README with docs/ taken out of its links: "
        "sed 's|](docs/|](|g' README.md > docs/index.md"
    )


# The quick start, as the README writes it, with this test's folders and ports in place of the
# reader's. Each replaced text must be there: a quick start that changes shape fails here.
def replaced(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert old in text, f"the README's quick start no longer has {old!r}"
        text = text.replace(old, new)
    return text


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


@pytest.mark.skipif(shutil.which("curl") is None, reason="the quick start uses curl")
def test_the_readme_quick_start_imports_a_photo(tmp_path: Path) -> None:
    quick_start = section(README.read_text(), "## Quick start: import a photo of your own")
    serve, photo, import_it, look = re.findall(r"```sh\n(.*?)```", quick_start, re.S)
    assert serve == "MEDIALIB_FETCH_ALLOW=127.0.0.1/32 make serve\n"
    copy, http_server = photo.strip().splitlines()

    own_photo = tmp_path / "Pictures" / "your-photo.jpg"
    own_photo.parent.mkdir()
    Image.new("RGB", (800, 600), "teal").save(own_photo)
    origin_port = free_port()
    server = ServerProcess(tmp_path / "home", env={"MEDIALIB_FETCH_ALLOW": "127.0.0.1/32"})
    folder = {"/tmp/my-photos": str(tmp_path / "my-photos")}
    here = {"http://127.0.0.1:8000": server.url}
    origin_and_venv = {
        "127.0.0.1:8766": f"127.0.0.1:{origin_port}",
        ".venv/bin/": f"{Path(sys.executable).parent}/",
    }
    status = (
        f'curl -s -H "Authorization: Bearer $TOKEN" '
        f'"{server.url}/api/2026-05/import/images/status?id=$JOB"'
    )
    script = "\n".join(
        [
            replaced(import_it, here | origin_and_venv),
            # A reader looks at the answer before going on; a script waits for the job.
            f"for _ in $(seq 300); do {status} | grep -q '\"finished\":true' && break; sleep 0.2;"
            " done",
            replaced(look, here),
            "echo",
            status,
        ]
    )
    copy = replaced(copy, folder | {"~/Pictures/your-photo.jpg": str(own_photo)})
    subprocess.run(["bash", "-ec", copy], cwd=tmp_path, check=True)
    origin = subprocess.Popen(
        ["bash", "-c", "exec " + replaced(http_server, folder | {" 8766 ": f" {origin_port} "})],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(origin_port)
        server.serve("--workers", "1")
        try:
            done = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", script],
                cwd=tmp_path,
                env=server.env,
                capture_output=True,
                text=True,
                timeout=120,
            )
        finally:
            server.stop()
    finally:
        origin.terminate()
        origin.wait(timeout=30)

    assert done.returncode == 0, done.stdout + done.stderr
    job = json.loads(done.stdout.strip().splitlines()[-1])
    assert job["finished"] is True
    assert job["state"] == "success"
    [item] = job["images"]
    assert (item["action"], item["externalId"]) == ("created", "photo-1")
    assert (item["image"]["width"], item["image"]["height"]) == (800, 600)
    rendition = (tmp_path / "photo-400.webp").read_bytes()
    assert rendition[:4] == b"RIFF"
    assert rendition[8:12] == b"WEBP"
    assert f"Sign in at {server.url}/ui with mlt_" in done.stdout
