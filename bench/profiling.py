"""Where a benchmark's time and memory go: a process's CPU time and peak memory from /proc, and
py-spy sampling of medialib processes while the timed part runs, counted by step of the work
(`--profile`; py-spy comes with `pip install -e '.[bench]'`)."""

from __future__ import annotations

import collections
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROFILE_RATE = 250  # samples a second
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> tuple[float, float]:
    """The user and the system CPU time of a process, with its children it has waited for."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
    return (utime + cutime) / TICKS, (stime + cstime) / TICKS


def peak_mb(pid: int) -> float | None:
    """A process's peak resident memory (VmHWM) so far; None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# A step's name and the marks that name it in a frame ("function (file)").
Steps = tuple[tuple[str, tuple[str, ...]], ...]


def step_of(stack: str, steps: Steps) -> str:
    """The step of a sampled stack: the first of its frames (innermost first) that names one."""
    frames = stack.split(";")
    if frames[-1].startswith(("Runner.run ", "BaseEventLoop.run_")):
        return "event loop (uvloop: sockets, timers)"  # its C code, below any Python frame
    if frames[-1].startswith("ThreadPoolExecutor.submit "):
        return "thread hops"
    for frame in reversed(frames):
        for step, marks in steps:
            if any(mark in frame for mark in marks):
                return step
    return "other (event loop, Python)"


@contextmanager
def profiled(
    pids: list[int],
    out: Path | None,
    samples: collections.Counter[str],
    steps: Steps,
    *,
    gil: bool = True,
) -> Iterator[None]:
    """py-spy sampling `pids` while the block runs; the samples per step are added to `samples`,
    the raw stacks kept beside `out`. With `gil`, only the thread holding the GIL is sampled
    (threads waiting on a queue are not work); without it, every thread py-spy finds running,
    which also counts C code that lets the GIL go (SQLite's, under the Python frame calling it)."""
    if out is None:
        yield
        return
    spy = shutil.which("py-spy", path=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    if spy is None:
        raise SystemExit("--profile needs py-spy: pip install -e '.[bench]'")
    command = [spy, "record", "--rate", str(PROFILE_RATE), "--format", "raw", "--nonblocking"]
    command += ["--gil"] if gil else []
    spies = [
        subprocess.Popen(
            [*command, "--pid", str(pid), "--output", str(out.with_suffix(f".{pid}.txt"))],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in pids
    ]
    try:
        yield
    finally:
        for process in spies:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
        for pid in pids:
            raw = out.with_suffix(f".{pid}.txt")
            for line in raw.read_text().splitlines() if raw.exists() else []:
                stack, _, count = line.rpartition(" ")
                samples[step_of(stack, steps)] += int(count)


def print_steps(samples: collections.Counter[str], units: int, unit: str, out: Path) -> None:
    """The CPU microseconds per unit (image, entry) of each step."""
    total = sum(samples.values())
    print(f"\nCPU per {unit} by step (py-spy, {PROFILE_RATE} samples/s, every medialib process):")
    for step, count in samples.most_common():
        share = count / total
        print(f"  {step:28} {count / PROFILE_RATE / units * 1e6:8,.1f} us  ({share:.0%})")
    print(f"  {'all':28} {total / PROFILE_RATE / units * 1e6:8,.1f} us; raw stacks in {out}")
