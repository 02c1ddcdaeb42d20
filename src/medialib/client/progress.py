"""Showing an import's progress: a live rich display on a terminal, a plain line every few
seconds elsewhere (CI, a log file), or nothing (`--quiet`)."""

from __future__ import annotations

import time
from typing import IO, Protocol

from medialib.client.run import Snapshot

PLAIN_EVERY = 5.0


class Display(Protocol):
    def show(self, snapshot: Snapshot) -> None: ...

    def close(self, snapshot: Snapshot) -> None: ...


def rate_and_left(snapshot: Snapshot) -> tuple[float, float | None]:
    """Rows a second in this run (rows finished before it, or in jobs it took over from a killed
    run, do not count), and the seconds left at that rate (None before any)."""
    elapsed = max(time.monotonic() - snapshot.started, 1e-6)
    rate = (snapshot.done - snapshot.done_at_start) / elapsed
    left = (snapshot.total - snapshot.done) / rate if rate > 0 else None
    return rate, left


def left_in_words(snapshot: Snapshot, left: float | None) -> str:
    if snapshot.done >= snapshot.total:
        return "nothing left"
    return f"{left:.0f} s left" if left is not None else "time left unknown"


def line_of(snapshot: Snapshot, label: str) -> str:
    counts = snapshot.counts
    rate, left = rate_and_left(snapshot)
    open_jobs = snapshot.succeeded_in_open_jobs
    succeeded = f"{open_jobs} succeeded in open jobs, " if open_jobs else ""
    pace = f"{rate_in_words(rate)}/s, {left_in_words(snapshot, left)}"
    return (
        f"{label}: {snapshot.done}/{snapshot.total} done, {counts.get('created', 0)} created, "
        f"{counts.get('updated', 0)} updated, {succeeded}{snapshot.count('skipped')} skipped, "
        f"{snapshot.count('failed')} failed, {pace}"
    )


def rate_in_words(rate: float) -> str:
    """Slow imports (an origin of big files) show tenths: 0.4/s is not 0/s."""
    return f"{rate:.1f}" if 0 < rate < 10 else f"{rate:.0f}"


class Quiet:
    def show(self, snapshot: Snapshot) -> None:
        pass

    def close(self, snapshot: Snapshot) -> None:
        pass


class Plain:
    def __init__(self, out: IO[str], label: str, every: float = PLAIN_EVERY) -> None:
        self.out, self.label, self.every = out, label, every
        self.last = 0.0

    def show(self, snapshot: Snapshot) -> None:
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            print(line_of(snapshot, self.label), file=self.out, flush=True)

    def close(self, snapshot: Snapshot) -> None:
        print(line_of(snapshot, self.label), file=self.out, flush=True)
