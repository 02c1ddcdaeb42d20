"""How entries, import results and job statuses look on the wire, per API version."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from medialib.api.versions import ApiVersion
from medialib.events.store import DeliveryRecord
from medialib.imports.records import Item, Job, Progress
from medialib.imports.status import JobStatus, JobSummary
from medialib.library.metadata import MetadataProperty
from medialib.library.models import Entry, Failure, FailureKind, ImportOutcome
from medialib.library.projects import MediaType, Project
from medialib.library.references import IncomingPage
from medialib.library.usage_log import ReferencePage, UsageLogEntry
from medialib.media.urls import AssetUrls

# A refused entry's status and error name in an import's per-entry results.
_FAILURES: dict[FailureKind, tuple[int, str]] = {
    FailureKind.INVALID: (400, "ValidationError"),
    FailureKind.ID_TAKEN: (409, "UniqueIdViolation"),
}


@functools.lru_cache(maxsize=4096)  # a batch of entries shares its timestamps
def timestamp(value: dt.datetime) -> str:
    """`2020-12-27T09:19:00.928Z`, the original API's format."""
    return (
        value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{value.microsecond // 1000:03d}Z"
    )


def asset_json(asset: dict[str, Any], urls: AssetUrls) -> dict[str, Any]:
    key = asset["key"]
    out = {"key": key, "url": urls.asset(key)}
    if urls.renders and str(asset.get("mimeType", "")).startswith("image/"):
        out |= {"url": urls.display(key), "originalUrl": urls.asset(key)}
    out |= {name: value for name, value in asset.items() if name not in out}
    if asset.get("poster"):
        out["poster"] = asset_json(asset["poster"], urls)
    return out


def entry_json(entry: Entry, urls: AssetUrls) -> dict[str, Any]:
    out: dict[str, Any] = {"id": entry.id, "version": entry.version}
    if entry.system_name is not None:
        out["systemName"] = entry.system_name
    if entry.external_id is not None:
        out["externalId"] = entry.external_id
    out["mediaType"] = entry.media_type
    out["asset"] = asset_json(entry.asset, urls)
    out["metadata"] = entry.metadata
    out["translations"] = [
        {
            "locale": t["locale"],
            "metadata": t["metadata"],
            **({"asset": asset_json(t["asset"], urls)} if t.get("asset") else {}),
        }
        for t in entry.translations
    ]
    out["archived"] = entry.archived
    out["revoked"] = entry.revoked
    if entry.revoke_note is not None:
        out["revokeNote"] = entry.revoke_note
    out["createdAt"] = timestamp(entry.created_at)
    out["updatedAt"] = timestamp(entry.updated_at)
    return out


def similar_json(entry: Entry, distance: int, urls: AssetUrls) -> dict[str, Any]:
    """A near-duplicate in `?similarTo=`: the entry, and how many bits its hash differs in."""
    return entry_json(entry, urls) | {"similarity": {"distance": distance}}


def failure_json(failure: Failure, version: ApiVersion) -> tuple[str, dict[str, Any]]:
    """The (error, error_details) of a failed entry."""
    if failure.metadata_issues:
        if version.metadata_errors == "v1":
            return "MetadataValidationErrors", {
                "message": failure.message,
                "invalidMetadata": [i.as_dict("should") for i in failure.metadata_issues],
            }
        return _FAILURES[failure.kind][1], {
            "message": failure.message,
            "errors": [i.as_dict("must") for i in failure.metadata_issues],
        }
    details: dict[str, Any] = {"message": failure.message}
    if failure.errors:
        details["errors"] = failure.errors
    return _FAILURES[failure.kind][1], details


def outcome_json(outcome: ImportOutcome, version: ApiVersion, urls: AssetUrls) -> dict[str, Any]:
    if outcome.entry is not None:
        return {
            "ok": True,
            "status": 200,
            "id": outcome.entry.id,
            "record": entry_json(outcome.entry, urls),
        }
    assert outcome.failure is not None
    error, details = failure_json(outcome.failure, version)
    return {
        "ok": False,
        "correlation": outcome.correlation,
        "status": _FAILURES[outcome.failure.kind][0],
        "error": error,
        "error_details": details,
    }


def status_json(status: JobStatus, urls: AssetUrls) -> dict[str, Any]:
    """An import job's status, in the seeds' shape (and with `progress` and `webhook`)."""
    job = status.job
    out = _job_head(job, status.progress)
    if job.webhook:
        webhook = status.webhook
        out["webhook"] = {
            "state": webhook.state if webhook else "none",
            "attempts": webhook.attempts if webhook else 0,
            "lastStatusCode": webhook.last_status_code if webhook else None,
        }
    out[status.kind.plural] = [item_json(status, item, urls) for item in status.items]
    return out


def progress_json(progress: Progress) -> dict[str, int]:
    return {
        "total": progress.total,
        "done": progress.done,
        "success": progress.success,
        "skipped": progress.skipped,
        "failed": progress.failed,
    }


def job_summary_json(summary: JobSummary) -> dict[str, Any]:
    """A job in the project's job list: what it is and how far it got, without its items."""
    job = summary.job
    head = _job_head(job, summary.progress)
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state,
        "finished": head["finished"],
        "systemName": job.system_name,
        "context": job.context,
    } | head


def _job_head(job: Job, progress: Progress) -> dict[str, Any]:
    """What a job's status and its line in the job list both say, in the status's order."""
    out: dict[str, Any] = {
        "finished": job.finished_at is not None,
        "state": job.state,
        "id": job.id,
        "startedAt": timestamp(job.started_at),
    }
    if job.finished_at is not None:
        out["finishedAt"] = timestamp(job.finished_at)
    if job.cancelled_at is not None:  # a cancelled job reads `failed`: this says why
        out["cancelledAt"] = timestamp(job.cancelled_at)
    out["progress"] = progress_json(progress)
    return out


def item_json(status: JobStatus, item: Item, urls: AssetUrls) -> dict[str, Any]:
    out: dict[str, Any] = {"state": item.state, "status": item.state}
    if item.action:
        out["action"] = item.action
    if item.reason:
        out["reason"] = item.reason
    if item.reason_code:
        out["reasonCode"] = item.reason_code
    if item.result and item.result.get("duplicateOf"):
        out["duplicateOf"] = item.result["duplicateOf"]
    out["systemName"] = status.job.system_name
    out["externalId"] = item.external_id
    return out | status.kind.describe(item.file_name, item.result, urls)


def delivery_json(delivery: DeliveryRecord) -> dict[str, Any]:
    """A delivery as `GET /events/deliveries` shows it: the last error up front."""
    attempts = [
        {
            "attempt": a.attempt,
            "at": timestamp(a.at),
            "statusCode": a.status_code,
            "error": a.error,
            "durationMs": a.duration_ms,
        }
        for a in delivery.attempts
    ]
    return {
        "id": delivery.id,
        "event": delivery.event,
        "subject": delivery.subject,
        "url": delivery.url,
        "state": delivery.state,
        "createdAt": timestamp(delivery.created_at),
        "lastError": attempts[-1]["error"] if attempts else None,
        "attempts": attempts,
    }


def project_config_json(project: Project) -> dict[str, Any]:
    """The original API's project config, as far as medialib has one: the handle and the media
    types as configured (`info`, `asset`, `exifExtraction`), each metadata property with the
    keys its config file gave it (`config`, `ui`, `id`)."""
    return {
        "v": 2,
        "settings": {"handle": project.handle},
        "mediaTypes": [_media_type_json(m) for m in project.media_types.values()],
        **_media_center(project),
    }


def _media_center(project: Project) -> dict[str, Any]:
    """`mediaCenter.usagePurposes`, where the original keeps them, when the project has any."""
    if project.usage_purposes is None:
        return {}
    purposes = []
    for purpose in project.usage_purposes.values():
        out: dict[str, Any] = {"handle": purpose.handle, "label": purpose.label}
        if purpose.internal:
            out["internal"] = True
        if purpose.params is not None:
            out["paramsSchema"] = [
                {
                    "handle": prop.handle,
                    "type": prop.type,
                    "config": prop.config.model_dump(exclude_defaults=True),
                }
                for prop in purpose.params.properties.values()
            ]
        purposes.append(out)
    return {"mediaCenter": {"usagePurposes": purposes}}


def usage_log_entry_json(usage: UsageLogEntry) -> dict[str, Any]:
    """The original's shape; what the entry does not have (url, documentId, publicationId,
    publicationDate) is left out rather than null."""
    out: dict[str, Any] = {"id": usage.id}
    if usage.url is not None:
        out["url"] = usage.url
    out |= {"state": usage.state, "params": usage.params, "purpose": usage.purpose}
    if usage.document_id is not None:
        out["documentId"] = usage.document_id
    if usage.publication_id is not None:
        out["publicationId"] = usage.publication_id
    out["reportingDate"] = timestamp(usage.reporting_date)
    if usage.publication_date is not None:
        out["publicationDate"] = timestamp(usage.publication_date)
    return out


def document_references_json(
    page: ReferencePage, entry_id: str, version: ApiVersion
) -> list[dict[str, Any]] | dict[str, Any]:
    """Each document the entry's usage log names, with a reference per usage log entry: an
    array up to 2025-11, `{total, cursor, results}` from 2026-01."""
    results = [
        {
            "id": document.document_id,
            "references": [
                {
                    "id": entry_id,
                    "type": page.reference_type,
                    "location": "usage-log",
                    "usageLogEntryId": usage.id,
                }
                for usage in document.usages
            ],
        }
        for document in page.documents
    ]
    if not version.reference_pages:
        return results
    return {"total": page.total, "cursor": page.cursor, "results": results}


def media_references_json(
    page: IncomingPage, version: ApiVersion
) -> list[dict[str, Any]] | dict[str, Any]:
    """Each entry whose metadata names the entry, with a reference per property (and kind) it
    names it in: an array up to 2025-11, `{total, cursor, results}` from 2026-01."""
    results = [
        {
            "id": referrer.entry_id,
            "references": [
                {
                    "id": reference.target,
                    "type": reference.kind.removeprefix("media").lower(),
                    "location": "metadata",
                    "propertyName": reference.property,
                }
                for reference in referrer.references
            ],
        }
        for referrer in page.referrers
    ]
    if not version.reference_pages:
        return results
    return {"total": page.total, "cursor": page.cursor, "results": results}


def _property_json(prop: MetadataProperty) -> dict[str, Any]:
    """A property as its config file gave it, in the original's order of keys."""
    given = prop.model_dump(exclude_unset=True)
    shown = {"id": given["id"]} if "id" in given else {}
    shown |= {"handle": prop.handle, "type": prop.type, "config": given.get("config", {})}
    if "ui" in given:
        shown["ui"] = given["ui"]
    return shown


def _media_type_json(media_type: MediaType) -> dict[str, Any]:
    shown: dict[str, Any] = {"handle": media_type.handle, "type": media_type.kind}
    info = media_type.info
    if info is not None:
        shown["info"] = {
            key: value
            for key, value in (("label", info.label), ("description", info.description))
            if value is not None
        }
    shown["metadata"] = [_property_json(p) for p in media_type.schema.properties.values()]
    if media_type.asset_config:
        shown["asset"] = dict(media_type.asset_config)
    if media_type.exif_mappings:
        shown["exifExtraction"] = {
            "mappings": [
                {"field": m.field, "metadataPropertyName": m.property}
                for m in media_type.exif_mappings
            ]
        }
    return shown
