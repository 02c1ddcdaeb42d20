"""A `medialib` command run in a process of its own against a test stack's home, database and
storage, as an operator runs it beside the server."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.stack import Stack


def medialib(stack: Stack, *arguments: str, **env: str) -> subprocess.CompletedProcess[str]:
    settings = stack.settings
    environment = {
        **os.environ,
        "MEDIALIB_HOME": str(settings.home),
        "MEDIALIB_CONFIG": str(settings.config),
        "MEDIALIB_STORAGE_URL": settings.resolved_storage_url,
        # A native crash prints every thread's Python stack (one SIGABRT was seen at exit).
        "PYTHONFAULTHANDLER": "1",
    }
    for name, value in (
        ("MEDIALIB_DATABASE_URL", stack.database_url),
        ("MEDIALIB_S3_ENDPOINT", settings.s3_endpoint),
    ):
        if value:
            environment[name] = value
        else:
            environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "medialib.cli", *arguments],
        env=environment | env,
        capture_output=True,
        text=True,
        timeout=120,
    )
