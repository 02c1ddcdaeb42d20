"""The progress display on a terminal: rich's live table, one row per kind being imported."""

from __future__ import annotations

from typing import IO

from rich.console import Console
from rich.live import Live
from rich.table import Table

from medialib.client.progress import left_in_words, rate_and_left, rate_in_words
from medialib.client.run import Snapshot


class LiveTable:
    """rich's live table: one row per kind being imported."""

    def __init__(self, out: IO[str], label: str) -> None:
        self.label = label
        self.live = Live(console=Console(file=out), refresh_per_second=4, transient=False)
        self.live.start()

    def show(self, snapshot: Snapshot) -> None:
        self.live.update(self._table(snapshot))

    def close(self, snapshot: Snapshot) -> None:
        self.live.update(self._table(snapshot))
        self.live.stop()

    def _table(self, snapshot: Snapshot) -> Table:
        counts = snapshot.counts
        rate, left = rate_and_left(snapshot)
        table = Table(title="medialib import", expand=False)
        headings = ("kind", "done", "created", "updated", "open jobs ok", "skipped", "failed")
        for heading in (*headings, "rate", "left"):
            table.add_column(heading, justify="left" if heading == "kind" else "right")
        table.add_row(
            self.label,
            f"{snapshot.done}/{snapshot.total}",
            str(counts.get("created", 0)),
            str(counts.get("updated", 0)),
            str(snapshot.succeeded_in_open_jobs),
            str(snapshot.count("skipped")),
            str(snapshot.count("failed")),
            f"{rate_in_words(rate)}/s",
            left_in_words(snapshot, left),
        )
        return table
