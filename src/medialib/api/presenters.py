"""How entries and import results look on the wire, per API version."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from medialib.api.versions import ApiVersion
from medialib.library.models import Entry, Failure, ImportOutcome


@functools.lru_cache(maxsize=4096)  # a batch of entries shares its timestamps
def timestamp(value: dt.datetime) -> str:
    """`2020-12-27T09:19:00.928Z`, the original API's format."""
    return (
        value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{value.microsecond // 1000:03d}Z"
    )


def asset_json(asset: dict[str, Any], media_base_url: str) -> dict[str, Any]:
    out = {"key": asset["key"], "url": f"{media_base_url}/{asset['key']}"}
    out |= {name: value for name, value in asset.items() if name not in out}
    return out


def entry_json(entry: Entry, media_base_url: str) -> dict[str, Any]:
    out: dict[str, Any] = {"id": entry.id, "version": entry.version}
    if entry.system_name is not None:
        out["systemName"] = entry.system_name
    if entry.external_id is not None:
        out["externalId"] = entry.external_id
    out["mediaType"] = entry.media_type
    out["asset"] = asset_json(entry.asset, media_base_url)
    out["metadata"] = entry.metadata
    out["translations"] = [
        {
            "locale": t["locale"],
            "metadata": t["metadata"],
            **({"asset": asset_json(t["asset"], media_base_url)} if t.get("asset") else {}),
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


def failure_json(failure: Failure, version: ApiVersion) -> tuple[str, dict[str, Any]]:
    """The (error, error_details) of a failed entry."""
    if failure.metadata_issues:
        if version.metadata_errors == "v1":
            return "MetadataValidationErrors", {
                "message": failure.message,
                "invalidMetadata": [i.as_dict("should") for i in failure.metadata_issues],
            }
        return failure.error, {
            "message": failure.message,
            "errors": [i.as_dict("must") for i in failure.metadata_issues],
        }
    details: dict[str, Any] = {"message": failure.message}
    if failure.errors:
        details["errors"] = failure.errors
    return failure.error, details


def outcome_json(
    outcome: ImportOutcome, version: ApiVersion, media_base_url: str
) -> dict[str, Any]:
    if outcome.entry is not None:
        return {
            "ok": True,
            "status": 200,
            "id": outcome.entry.id,
            "record": entry_json(outcome.entry, media_base_url),
        }
    assert outcome.failure is not None
    error, details = failure_json(outcome.failure, version)
    return {
        "ok": False,
        "correlation": outcome.correlation,
        "status": outcome.failure.status,
        "error": error,
        "error_details": details,
    }
