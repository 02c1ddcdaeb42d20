"""The state file: what a run of `medialib import` has sent and learnt, in SQLite beside the
manifest, so that running the same command again goes on where the last run stopped.

A batch is `planned` (rows chosen, nothing sent), `sending` (a POST may have reached the server:
its token is in the job's `context`, so the job can be found by it), `running` (the job id is
known) or `done` (every row's result is recorded). Each row records its batch and, once known,
its result.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    token TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    job_id TEXT,
    sent_at REAL
);
CREATE TABLE IF NOT EXISTS rows (
    line INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL,
    batch INTEGER REFERENCES batches (id),
    state TEXT,
    action TEXT,
    media_id TEXT,
    reason_code TEXT,
    reason TEXT,
    duplicate_of TEXT,
    upload_key TEXT  -- where an uploaded file was put (the --upload mode)
);
CREATE INDEX IF NOT EXISTS rows_batch ON rows (batch);
"""

PLANNED, SENDING, RUNNING, DONE = "planned", "sending", "running", "done"


class StateError(Exception):
    """The state file belongs to another import (another kind, server or manifest)."""


@dataclass(frozen=True)
class Batch:
    id: int
    token: str
    state: str
    job_id: str | None
    sent_at: float | None


@dataclass(frozen=True)
class Result:
    line: int
    external_id: str
    state: str | None
    action: str | None
    media_id: str | None
    reason_code: str | None
    reason: str | None
    duplicate_of: str | None


def state_path(manifest: Path) -> Path:
    return manifest.with_name(manifest.name + ".medialib-import.sqlite")


class State:
    def __init__(self, path: Path) -> None:
        self.path = path
        # Every change is committed at once: a killed client loses nothing it had learnt.
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def bind(self, identity: dict[str, str]) -> None:
        """Tie the file to one import (kind, server, project's system name); another is refused."""
        known = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        if not known:
            self.db.executemany("INSERT INTO meta VALUES (?, ?)", identity.items())
            return
        for key, value in identity.items():
            if known.get(key, value) != value:
                raise StateError(
                    f"{self.path} records an import with {key} '{known[key]}', not '{value}': "
                    "run that import, or remove the state file to start anew"
                )

    def add_rows(self, rows: Iterable[tuple[int, str]]) -> None:
        """Record the manifest's rows (line, id); a line that now holds another id means the
        manifest changed under the state file."""
        with _transaction(self.db):
            known = dict(self.db.execute("SELECT line, external_id FROM rows").fetchall())
            new = []
            for line, external_id in rows:
                was = known.get(line)
                if was is None:
                    new.append((line, external_id))
                elif was != external_id:
                    raise StateError(
                        f"line {line} of the manifest was id '{was}' and is now "
                        f"'{external_id}': the manifest changed; remove {self.path} to start anew"
                    )
            self.db.executemany("INSERT INTO rows (line, external_id) VALUES (?, ?)", new)

    def retry_failed(self, codes: set[str] | None) -> int:
        """Make failed rows (with one of `codes`, or any) unsent again; how many."""
        # Codes as one JSON parameter; NULL (no list) means every failure. 5xx are transient.
        wanted = json.dumps(sorted(codes)) if codes is not None else None
        return self.db.execute(
            "UPDATE rows SET batch = NULL, state = NULL, reason_code = NULL, reason = NULL"
            " WHERE state = 'failed' AND (:codes IS NULL OR reason_code LIKE 'http_5%'"
            " OR reason_code IN (SELECT value FROM json_each(:codes)))",
            {"codes": wanted},
        ).rowcount

    def plan(self, size: int) -> None:
        """Put the rows no batch holds into new batches of at most `size`, in manifest order."""
        with _transaction(self.db):
            free = [
                line
                for (line,) in self.db.execute(
                    "SELECT line FROM rows WHERE batch IS NULL ORDER BY line"
                )
            ]
            for start in range(0, len(free), size):
                batch = self.db.execute(
                    "INSERT INTO batches (token, state) VALUES (?, ?)", (uuid.uuid4().hex, PLANNED)
                ).lastrowid
                self.db.execute(
                    "UPDATE rows SET batch = ? WHERE line IN (SELECT value FROM json_each(?))",
                    (batch, json.dumps(free[start : start + size])),
                )

    def batches(self, *states: str) -> list[Batch]:
        return [
            Batch(*row)
            for row in self.db.execute(
                "SELECT id, token, state, job_id, sent_at FROM batches"
                " WHERE state IN (SELECT value FROM json_each(?)) ORDER BY id",
                (json.dumps(states),),
            )
        ]

    def lines_of(self, batch: int) -> list[int]:
        return [
            line
            for (line,) in self.db.execute(
                "SELECT line FROM rows WHERE batch = ? ORDER BY line", (batch,)
            )
        ]

    def mark(
        self, batch: int, state: str, *, job_id: str | None = None, sent_at: float | None = None
    ) -> None:
        self.db.execute(
            "UPDATE batches SET state = ?, job_id = coalesce(?, job_id),"
            " sent_at = coalesce(?, sent_at) WHERE id = ?",
            (state, job_id, sent_at, batch),
        )

    def finish(self, batch: int, results: dict[str, dict[str, Any]]) -> dict[str, int]:
        """Record each row's result (by external id) and close the batch, in one transaction;
        the batch's rows by state and action, as `counts` tells them."""
        missing = {"reasonCode": "missing", "reason": "The job's status did not list this item."}
        lines = self.db.execute(
            "SELECT line, external_id FROM rows WHERE batch = ?", (batch,)
        ).fetchall()
        updates = []
        for line, external_id in lines:
            got = results.get(external_id) or missing
            updates.append(
                (
                    got.get("state") or "failed",
                    got.get("action"),
                    got.get("mediaId"),
                    got.get("reasonCode"),
                    got.get("reason"),
                    got.get("duplicateOf"),
                    line,
                )
            )
        with _transaction(self.db):
            self.db.executemany(
                "UPDATE rows SET state = ?, action = ?, media_id = ?, reason_code = ?,"
                " reason = ?, duplicate_of = ? WHERE line = ?",
                updates,
            )
            self.mark(batch, DONE)
        tally = {"open": -len(updates)}  # they were open until now
        for state, action, *_ in updates:
            tally[state] = tally.get(state, 0) + 1
            if action:
                tally[action] = tally.get(action, 0) + 1
        return tally

    def upload_keys(self, batch: int) -> dict[int, str]:
        """The keys of the batch's rows whose files were uploaded already."""
        rows = self.db.execute(
            "SELECT line, upload_key FROM rows WHERE batch = ? AND upload_key IS NOT NULL",
            (batch,),
        )
        return dict(rows.fetchall())

    def set_upload_key(self, line: int, key: str) -> None:
        self.db.execute("UPDATE rows SET upload_key = ? WHERE line = ?", (key, line))

    def results(self) -> list[Result]:
        return [
            Result(*row)
            for row in self.db.execute(
                "SELECT line, external_id, state, action, media_id, reason_code, reason,"
                " duplicate_of FROM rows ORDER BY line"
            )
        ]

    def counts(self) -> dict[str, int]:
        """Rows by state, and actions of the finished ones."""
        counted: dict[str, int] = {}
        for state, action, count in self.db.execute(
            "SELECT state, action, count(*) FROM rows WHERE batch IS NOT NULL"
            " GROUP BY state, action"
        ):
            counted[state or "open"] = counted.get(state or "open", 0) + count
            if action:
                counted[action] = counted.get(action, 0) + count
        return counted


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
