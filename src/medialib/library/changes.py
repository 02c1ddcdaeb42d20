"""Change events: what happened to an entry, written to the outbox in the transaction that made
it happen (so never lost, and never sent for a change that was rolled back), one delivery per
webhook of the project's config that subscribes to the event.

The payload is `{event, deliveryId, projectId, mediaId, occurredAt}`; `deliveryId` is each
delivery's own (the `webhook-id` header), filled in when it is sent. Nothing is written for an
event nobody subscribes to.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable

from medialib.db import outbox
from medialib.db.engine import Tx
from medialib.db.tables import utcnow
from medialib.library.projects import Project


class EntryEvent(enum.StrEnum):
    CREATE = "mediaLibraryEntry.create"
    UPDATE = "mediaLibraryEntry.update"
    ARCHIVE = "mediaLibraryEntry.archive"
    REVOKE = "mediaLibraryEntry.revoke"
    UNREVOKE = "mediaLibraryEntry.unrevoke"
    DELETE = "mediaLibraryEntry.delete"


def record(tx: Tx, project: Project, event: EntryEvent, entry_ids: Iterable[str]) -> None:
    """One event per entry, each with a delivery per subscribed webhook."""
    urls = project.subscribers(event)
    if not urls:
        return
    occurred = utcnow().isoformat(timespec="milliseconds").replace("+00:00", "Z")
    for entry_id in entry_ids:
        outbox.append(
            tx,
            project=project.handle,
            type=event,
            subject=entry_id,
            payload={
                "event": str(event),
                "deliveryId": None,  # each delivery's id, when it is sent
                "projectId": project.handle,
                "mediaId": entry_id,
                "occurredAt": occurred,
            },
            destinations=[outbox.Destination(f"msg_{uuid.uuid4().hex}", url) for url in urls],
        )
