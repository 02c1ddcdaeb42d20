"""`medialib` as a real server process: started, killed with SIGKILL, started again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path
from typing import IO


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """`medialib <command>` in a subprocess whose output is read all along (a full pipe would
    stall the server) and kept, the last lines of it, for failure messages."""

    def __init__(
        self,
        home: Path,
        *,
        port: int | None = None,
        env: dict[str, str] | None = None,
        logs_apart: bool = False,
    ) -> None:
        self.home = home
        self.port = port or free_port()
        self.env = {
            **os.environ,
            "MEDIALIB_HOME": str(home),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.process: subprocess.Popen[str] | None = None
        self.output: deque[str] = deque(maxlen=200)
        self._lines = threading.Condition()
        self._all_lines: list[str] = []  # every line, for wait_for
        # With `logs_apart`, standard error (the log) is kept apart from standard output.
        self.logs_apart = logs_apart
        self.logs: list[str] = []
        self._drainers: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run(self, *command: str) -> str:
        """A one-shot command (`migrate`, `token create`); its standard output."""
        done = subprocess.run(
            [sys.executable, "-m", "medialib.cli", *command],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return done.stdout.strip()

    def serve(self, *options: str) -> None:
        self.start("serve", "--port", str(self.port), *options)

    def start(self, *command: str, ready: str = "Application startup complete") -> None:
        args = command or ("serve", "--port", str(self.port))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "medialib.cli", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if self.logs_apart else subprocess.STDOUT,
            text=True,
        )
        started = threading.Event()
        streams: list[tuple[IO[str] | None, list[str] | None]] = [(self.process.stdout, None)]
        if self.logs_apart:
            streams.append((self.process.stderr, self.logs))
        self._drainers = [
            threading.Thread(target=self._drain, args=(stream, ready, started, keep), daemon=True)
            for stream, keep in streams
        ]
        for drainer in self._drainers:
            drainer.start()
        if not started.wait(timeout=120) or self.process.poll() is not None:
            raise RuntimeError("medialib did not start:\n" + "".join(self.output))

    def _drain(
        self,
        stream: IO[str] | None,
        ready: str,
        started: threading.Event,
        keep: list[str] | None,
    ) -> None:
        assert stream is not None
        for line in stream:
            self.output.append(line)
            if keep is not None:
                keep.append(line)
            with self._lines:
                self._all_lines.append(line)
                self._lines.notify_all()
            if ready in line:
                started.set()
        started.set()

    def wait_for(self, text: str, times: int = 1, timeout: float = 120) -> None:
        """Until `times` lines of the output contain `text` (a process `serve` started says so
        through the same output: its worker processes' "ready")."""
        with self._lines:
            if not self._lines.wait_for(
                lambda: sum(text in line for line in self._all_lines) >= times, timeout=timeout
            ):
                raise RuntimeError(f"medialib did not say {text!r}:\n" + "".join(self.output))

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.logs_apart:  # its last lines, and its workers' (who share the pipe)
            for drainer in self._drainers:
                drainer.join(timeout=10)
