"""The catalogue of events: every event medialib tells webhooks of, with its name, the payload it
carries and who may receive it. Each is written to the outbox (db/outbox.py) in the transaction
that made it happen, so it is never lost and never sent for a change that was rolled back; the
`events` package delivers them (the signed POST, retries, every attempt recorded) and knows
nothing else about them.

- `mediaLibraryEntry.create|update|archive|revoke|unrevoke|delete` (`EntryEvent`): written by the
  library (entries, patches, removal) and by the URL imports' pipeline, one event per entry.
  `mediaLibraryEntry.invalid|active`: an entry stopped or started being served for what its
  metadata says (`li-invalid`, `li-datetime-validity`: library/validity.py), written beside the
  write that did it, or without an actor by the task that finds a validity window opened or
  closed.
  Payload `{event, deliveryId, projectId, mediaId, occurredAt}`. Sent to every webhook of the
  project's config that subscribes to it (`webhooks[].events`); nothing is written when none does.
- `import.finished` (`IMPORT_FINISHED`): written by imports when a job finishes (or is
  cancelled). Payload `{source, id, state, overview, context}`. Sent to the job's own `webhook`
  only, with the delivery id `msg_<jobId>`; a config cannot subscribe to it.

The catalogue lives in the library because both of its writers must reach it: the library writes
entry events in its own transactions, imports writes the job's, and imports and events are
siblings that may not import each other while the library may import neither.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from medialib.db import outbox
from medialib.db.engine import Tx
from medialib.db.tables import utcnow
from medialib.library.projects import Project, Subscription


class EntryEvent(enum.StrEnum):
    CREATE = "mediaLibraryEntry.create"
    UPDATE = "mediaLibraryEntry.update"
    ARCHIVE = "mediaLibraryEntry.archive"
    REVOKE = "mediaLibraryEntry.revoke"
    UNREVOKE = "mediaLibraryEntry.unrevoke"
    DELETE = "mediaLibraryEntry.delete"
    ACTIVE = "mediaLibraryEntry.active"
    INVALID = "mediaLibraryEntry.invalid"


IMPORT_FINISHED = "import.finished"


@dataclass(frozen=True)
class Actor:
    """Who made a change, as the original API's events say: a `user` of the web view, an
    `api-client` (a token, by its name) or an `importer` (a URL import, by its systemName)."""

    type: Literal["user", "api-client", "importer"]
    name: str | None = None

    def as_json(self) -> dict[str, str]:
        return {"type": self.type} | ({"name": self.name} if self.name else {})


# What a project's config may subscribe its webhooks to: the entry events. (Plain strings: the
# config's schema takes them as its `Literal`, and its error messages quote them.)
SUBSCRIBABLE: tuple[str, ...] = tuple(event.value for event in EntryEvent)


# --- Entry events -----------------------------------------------------------------------------


# State changes: the original API emits an update beside each (its webhooks know no unrevoke).
STATE_EVENTS = frozenset(
    {
        EntryEvent.ARCHIVE,
        EntryEvent.REVOKE,
        EntryEvent.UNREVOKE,
        EntryEvent.ACTIVE,
        EntryEvent.INVALID,
    }
)


def record_entry_events(
    tx: Tx,
    project: Project,
    event: EntryEvent,
    entry_ids: Iterable[str],
    actor: Actor | None = None,
) -> None:
    """One event per entry, each with a delivery per subscribed webhook."""
    _record(tx, project, event, entry_ids, project.subscribers(event), actor)


def record_entry_changes(
    tx: Tx,
    project: Project,
    events: Iterable[EntryEvent],
    entry_ids: Iterable[str],
    actor: Actor | None = None,
) -> None:
    """What one change did (archive, revoke, update, …). Webhooks configured the original's
    way also hear an update beside a state change, as the original tells them."""
    events, entry_ids = list(events), list(entry_ids)
    for event in events:
        record_entry_events(tx, project, event, entry_ids, actor)
    if EntryEvent.UPDATE not in events and STATE_EVENTS.intersection(events):
        originals = [hook for hook in project.subscribers(EntryEvent.UPDATE) if hook.handle]
        _record(tx, project, EntryEvent.UPDATE, entry_ids, originals, actor)


def _record(
    tx: Tx,
    project: Project,
    event: EntryEvent,
    entry_ids: Iterable[str],
    hooks: list[Subscription],
    actor: Actor | None = None,
) -> None:
    if not hooks:
        return
    occurred = utcnow().isoformat(timespec="milliseconds").replace("+00:00", "Z")
    for entry_id in entry_ids:
        outbox.append(
            tx,
            project=project.handle,
            type=event,
            subject=entry_id,
            payload=entry_payload(project.handle, event, entry_id, occurred, actor),
            destinations=[
                outbox.Destination(f"msg_{uuid.uuid4().hex}", hook.url, hook.handle)
                for hook in hooks
            ],
        )


def entry_payload(
    project: str, event: EntryEvent, entry_id: str, occurred: str, actor: Actor | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "event": str(event),
        "deliveryId": None,  # each delivery's own, filled in when it is sent (`as_sent`)
        "projectId": project,
        "mediaId": entry_id,
        "occurredAt": occurred,
    }
    if actor is not None:
        payload["actor"] = actor.as_json()
    return payload


# --- The job's webhook ------------------------------------------------------------------------


@dataclass(frozen=True)
class FailedItem:
    external_id: str
    reason: str | None
    reason_code: str | None


@dataclass(frozen=True)
class FinishedJob:
    """What a finished job's webhook tells, read by imports from the job's rows."""

    id: str
    project: str
    kind: str  # the import kind's name: the payload's `source` is `livingdocs-<kind>-import`
    state: str  # success | failed
    webhook: str
    context: dict[str, Any] | None
    total: int
    success: int
    skipped: int
    failed: int
    failed_items: tuple[FailedItem, ...]
    hold: float = 0.0  # seconds its webhook waits before the first attempt


def record_job_finished(tx: Tx, job: FinishedJob) -> None:
    """The job's event, with one delivery to its webhook; its id is the job's, so a receiver
    can tell which job it is about from the headers alone."""
    outbox.append(
        tx,
        project=job.project,
        type=IMPORT_FINISHED,
        subject=job.id,
        payload=job_finished_payload(job),
        destinations=[outbox.Destination(f"msg_{job.id}", job.webhook, hold=job.hold)],
    )


def job_finished_payload(job: FinishedJob) -> dict[str, Any]:
    """As the original API sends it: its clients check `source` and decide with
    `overview.details.failed > 0`, a number (a list there compares false in JavaScript, so a
    batch with failed items passed for a success). Which items failed is a list of its own."""
    counts = {"success": job.success, "skipped": job.skipped, "failed": job.failed}
    failed = [
        {"externalId": item.external_id, "reason": item.reason, "reasonCode": item.reason_code}
        for item in job.failed_items
    ]
    return {
        "source": f"livingdocs-{job.kind}-import",
        "id": job.id,
        "state": job.state,
        "overview": {"total": job.total, **counts, "details": counts, "failedItems": failed},
        "context": job.context,
    }


# --- Sending ----------------------------------------------------------------------------------


def as_sent(
    payload: dict[str, Any],
    delivery_id: str,
    project: Project | None = None,
    hook: Subscription | None = None,
) -> dict[str, Any]:
    """An event's payload as one of its deliveries sends it: an entry event names the delivery
    it goes out in (`deliveryId`, also its `webhook-id`), which differs per webhook. To a
    `hook` configured the original API's way (it has a handle), an entry event goes in the
    original's shape: `projectId` its number, `projectHandle`, `webhookHandle`."""
    if "deliveryId" not in payload:
        return payload
    if project is None or hook is None or hook.handle is None:
        return payload | {"deliveryId": delivery_id}
    sent = {
        "event": payload["event"],
        "deliveryId": delivery_id,
        "projectId": project.number,
        "projectHandle": project.handle,
        "webhookHandle": hook.handle,
        "mediaId": payload["mediaId"],
    }
    actor = payload.get("actor")
    if actor is not None:
        # A person's name only where the configuration asks for it (`exposeUserActor`).
        if actor.get("type") == "user" and not hook.expose_user_actor:
            actor = {"type": "user"}
        sent["actor"] = actor
    return sent | {"occurredAt": payload["occurredAt"]}
