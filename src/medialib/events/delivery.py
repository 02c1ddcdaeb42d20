"""One attempt at a delivery of an outbox event. The request is built and signed here and
nowhere else: the body is the event's payload as this delivery sends it (library/events.py), the
headers are signed per Standard Webhooks with the project's secret (and, to a webhook configured
the original API's way that has a `secret`, `x-livingdocs-signature: sha256=<hex HMAC-SHA256
of the body>` as the original signs), and credentials in the receiver's URL become HTTP Basic
auth. It goes out through the fetcher port (media/fetch.py):
the same address guard as downloads, never following a redirect. Every attempt is recorded. The
`webhook-id` is the delivery's id on every attempt, so receivers can drop duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import orjson
from standardwebhooks.webhooks import Webhook

from medialib import metrics
from medialib.db.engine import Tx
from medialib.db.outbox import DeliveryState
from medialib.db.tables import utcnow
from medialib.events import store
from medialib.events.store import Attempt, Pending
from medialib.library.events import as_sent
from medialib.library.projects import Project
from medialib.media.fetch import Fetcher, FetchError, basic_auth, check_url, redact
from medialib.settings import Settings
from medialib.tasks.core import TaskServices

log = logging.getLogger("medialib.events")
_OUTCOMES = {
    DeliveryState.DELIVERED: "delivered",
    DeliveryState.PENDING: "retrying",
    DeliveryState.FAILED: "failed",
}


class DeliveryServices(TaskServices, Protocol):
    """What delivering needs besides the database."""

    @property
    def settings(self) -> Settings: ...

    @property
    def fetcher(self) -> Fetcher: ...

    @property
    def projects(self) -> dict[str, Project]: ...


@dataclass(frozen=True)
class SignedRequest:
    url: str  # without credentials: they are in the headers
    body: bytes
    headers: dict[str, str]


def signed_request(delivery: Pending, project: Project | None = None) -> SignedRequest:
    """The POST of `delivery`, or FetchError(invalid_url) for a URL no request can go to."""
    # A receiver's URL is the caller's own and may carry credentials for it; they never travel
    # in the URL (and the fetcher refuses a URL that has them).
    check_url(delivery.url, credentials=True)
    url, authorization = basic_auth(delivery.url)
    configured = (
        project.configured_webhook(delivery.webhook) if project and delivery.webhook else None
    )
    # Compact JSON, as JavaScript's JSON.stringify writes it: a receiver of the original checks
    # the signature against the body it parsed and wrote again.
    body = orjson.dumps(as_sent(delivery.payload, delivery.id, project, configured))
    headers = signed_headers(delivery.secret, delivery.id, body.decode())
    if configured is not None and configured.secret:
        digest = hmac.new(configured.secret.encode(), body, hashlib.sha256).hexdigest()
        headers["x-livingdocs-signature"] = f"sha256={digest}"
    if authorization is not None:
        headers["Authorization"] = authorization
    return SignedRequest(url, body, headers)


def signed_headers(secret: str, message_id: str, body: str) -> dict[str, str]:
    now = utcnow()
    return {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, body),
    }


async def send(services: DeliveryServices, delivery: Pending) -> Attempt:
    started = time.monotonic()
    try:
        request = signed_request(delivery, services.projects.get(delivery.project))
        status = await services.fetcher.post(
            request.url, request.body, request.headers, services.settings.webhook_timeout
        )
    except FetchError as failure:
        # Stored, listed and logged: a message that quotes the URL must not carry its password.
        return Attempt(None, redact(failure.message), time.monotonic() - started)
    error = None if 200 <= status < 300 else f"HTTP {status}"
    return Attempt(status, error, time.monotonic() - started)


def record(tx: Tx, delivery: Pending, number: int, attempt: Attempt, last: bool) -> None:
    """The attempt, and the delivery's state after it: delivered, failed for good after the
    `last` attempt, or pending another."""
    state = _state_after(attempt, last)
    store.record(tx, delivery.id, number, attempt, state)
    tx.on_commit(metrics.WEBHOOK_DELIVERIES.labels(_OUTCOMES[state]).inc)


def _state_after(attempt: Attempt, last: bool) -> DeliveryState:
    if attempt.delivered:
        return DeliveryState.DELIVERED
    return DeliveryState.FAILED if last else DeliveryState.PENDING


def log_attempt(delivery: Pending, number: int, attempt: Attempt, last: bool) -> None:
    """A line per attempt, once it is recorded. The receiver is named without its query or
    credentials: either may hold a key of the receiver's."""
    outcome = _state_after(attempt, last)
    log.log(
        logging.INFO if attempt.delivered else logging.WARNING,
        "webhook delivery %s to %s, attempt %d: %s",
        delivery.id,
        receiver_of(delivery.url),
        number,
        "delivered" if attempt.delivered else f"{attempt.error} ({outcome})",
        extra={
            "delivery_id": delivery.id,
            "project": delivery.project,
            "subject": delivery.subject,
            "receiver": receiver_of(delivery.url),
            "attempt": number,
            "outcome": str(outcome),
            "status": attempt.status,
            "error": attempt.error,
            "duration_ms": round(attempt.seconds * 1000, 1),
        },
    )


def receiver_of(url: str) -> str:
    """A receiver's URL without its query and with its password hidden."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(not a URL)"
    return redact(f"{parts.scheme}://{parts.netloc}{parts.path}")
