"""The records of an import: a job, its items, how an item ended and how far a job got. Read
from rows here and nowhere else (`job_of`, `item_of`); everything past the job store works with
these frozen values, and a changed value is a new one."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Self

from sqlalchemy.engine import Row

from medialib.library.models import JsonObject

# An item's result: what its entry is, as its status shows it (URLs are made when it is read):
# {mediaId, key, width, height, mimeType, size, duration, poster, duplicateOf}.
ItemResult = JsonObject
# A row of import_jobs or import_items, as read.
StoredRow = Row[tuple[object, ...]]


class JobState(enum.StrEnum):
    STARTED = "started"
    SUCCESS = "success"  # finished, and not every item failed
    FAILED = "failed"  # finished, and every item failed, or cancelled


class ItemState(enum.StrEnum):
    PENDING = "pending"
    SUCCESS = "success"
    SKIPPED = "skipped"
    FAILED = "failed"


FINISHED_STATES = (ItemState.SUCCESS, ItemState.SKIPPED, ItemState.FAILED)
CANCELLED = "cancelled"  # the reason code of items a cancel failed


@dataclass(frozen=True)
class Job:
    id: str
    project: str
    kind: str  # an ImportKind's name
    system_name: str
    webhook: str | None
    context: JsonObject | None
    state: JobState
    total: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    cancelled_at: dt.datetime | None = None

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


@dataclass(frozen=True)
class Item:
    """One item of a job: what was asked (`url` … `metadata`) and how it ended."""

    job_id: str
    position: int
    external_id: str
    url: str
    file_name: str
    media_type: str
    metadata: JsonObject
    state: ItemState
    action: str | None = None
    reason: str | None = None
    reason_code: str | None = None
    result: ItemResult | None = None
    finished_at: dt.datetime | None = None


@dataclass(frozen=True)
class ItemOutcome:
    """How one item ended, as its row records it."""

    position: int
    state: ItemState
    action: str | None = None
    reason: str | None = None
    reason_code: str | None = None
    result: ItemResult | None = None

    @classmethod
    def failed(cls, position: int, code: str, reason: str) -> Self:
        return cls(position, ItemState.FAILED, reason=reason, reason_code=code)


@dataclass(frozen=True)
class Progress:
    total: int
    success: int = 0
    skipped: int = 0
    failed: int = 0

    @property
    def done(self) -> int:
        return self.success + self.skipped + self.failed

    @classmethod
    def counted(cls, total: int, counts: Iterable[tuple[str, int]]) -> Progress:
        """From (item state, how many) pairs; pending items are what is left."""
        by_state = {state: count for state, count in counts if state != ItemState.PENDING}
        return cls(total, **{str(state): count for state, count in by_state.items()})


def job_of(row: StoredRow) -> Job:
    return Job(
        id=row.id,
        project=row.project,
        kind=row.kind,
        system_name=row.system_name,
        webhook=row.webhook,
        context=row.context,
        state=JobState(row.state),
        total=row.total,
        started_at=row.started_at,
        finished_at=row.finished_at,
        cancelled_at=row.cancelled_at,
    )


def item_of(row: StoredRow) -> Item:
    return Item(
        job_id=row.job_id,
        position=row.position,
        external_id=row.external_id,
        url=row.url,
        file_name=row.file_name,
        media_type=row.media_type,
        metadata=row.metadata,
        state=ItemState(row.state),
        action=row.action,
        reason=row.reason,
        reason_code=row.reason_code,
        result=row.result,
        finished_at=row.finished_at,
    )
