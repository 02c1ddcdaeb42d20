"""Worker processes beside `medialib serve`: one Python process runs one core, so the server
starts `medialib worker` processes for the others, keeps them running, and takes them down
with it (a worker also dies with its server, even one killed with SIGKILL)."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading

log = logging.getLogger("medialib.workers")

PARENT_ENV = "MEDIALIB_WORKER_PARENT"
_PR_SET_PDEATHSIG = 1


class WorkerProcesses:
    def __init__(self, count: int, env: dict[str, str]) -> None:
        self.count = count
        self.env = {**env, PARENT_ENV: str(os.getpid())}
        self.processes: list[subprocess.Popen[bytes]] = []
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="worker-watcher", daemon=True)

    def start(self) -> None:
        self.processes = [self._spawn() for _ in range(self.count)]
        self._watcher.start()

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "medialib.cli", "worker"], env=self.env)

    def _watch(self) -> None:
        """A worker that died (out of memory, say) is started again, a second later."""
        while not self._stopping.wait(1.0):
            for i, process in enumerate(self.processes):
                if process.poll() is not None and not self._stopping.is_set():
                    log.warning(
                        "worker %d exited with %s; starting another",
                        process.pid,
                        process.returncode,
                    )
                    self.processes[i] = self._spawn()

    def stop(self, grace: float = 15.0) -> None:
        self._stopping.set()
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def die_with_parent() -> None:
    """In a worker started by a server: have the kernel send SIGTERM when the server dies."""
    parent = os.environ.get(PARENT_ENV)
    if not parent or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != int(parent):  # the server died before the line above
        os._exit(0)
