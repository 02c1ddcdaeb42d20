"""API versions side by side: what differs between them is data in this module, not code.

Each dated release starts from the one before it and applies its changes; `v1` and `beta` are
the names `2025-03` had before dated versions, `v1` keeping its older metadata error wording.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from medialib.errors import ConfigError, Gone, NotFound
from medialib.library import usage_log

# `unrevokeAsset` (and `note` on `revokeAsset`) came with a server release, not an API version:
# every version has them. Only what revoking twice answers changed with 2026-01.
PATCH_OPERATIONS_2025 = frozenset(
    {
        "setMetadataProperty",
        "archive",
        "replaceAsset",
        "removeAsset",
        "revokeAsset",
        "unrevokeAsset",
    }
)


@dataclass(frozen=True)
class ApiVersion:
    name: str
    # `MetadataValidationErrors` + "should be" (v1) or `ValidationError` + "must be".
    metadata_errors: Literal["v1", "current"] = "current"
    # Key of the array in list responses (GET /mediaLibrary, POST /import/mediaLibrary).
    list_key: Literal["mediaLibraryEntries", "results"] = "mediaLibraryEntries"
    patch_operations: frozenset[str] = PATCH_OPERATIONS_2025
    # Revoking a revoked entry (or unrevoking a live one) is a 409 rather than a no-op.
    revoke_conflicts: bool = False
    # `preserveUpdatedAt` on PATCH.
    preserve_updated_at: bool = False
    # GET /mediaLibrary/{id}/keys.
    entry_keys: bool = False
    # GET /mediaLibrary/{id}/usageLog (the PATCH operations are in `patch_operations`).
    usage_log: bool = False
    # GET /mediaLibrary/{id}/incomingDocumentReferences and …/incomingMediaReferences answer
    # `{total, cursor, results}` rather than a bare array.
    reference_pages: bool = False


BASE = ApiVersion(name="2025-03")

# release -> what changed in it, applied on top of the release before.
CHANGES: dict[str, dict[str, Any]] = {
    "2025-03": {},
    "2025-05": {},
    "2025-07": {},
    "2025-09": {},
    "2025-11": {},
    "2026-01": {"list_key": "results", "revoke_conflicts": True, "reference_pages": True},
    "2026-03": {"preserve_updated_at": True, "entry_keys": True},
    "2026-05": {
        "patch_operations": PATCH_OPERATIONS_2025 | usage_log.OPERATIONS,
        "usage_log": True,
    },
    "2026-07": {},
}

ALIASES: dict[str, tuple[str, dict[str, Any]]] = {
    "v1": ("2025-03", {"metadata_errors": "v1"}),
    "beta": ("2025-03", {}),
}


def _build() -> dict[str, ApiVersion]:
    versions: dict[str, ApiVersion] = {}
    current = BASE
    for release, change in CHANGES.items():
        current = dataclasses.replace(current, name=release, **change)
        versions[release] = current
    for alias, (release, change) in ALIASES.items():
        versions[alias] = dataclasses.replace(versions[release], name=alias, **change)
    return versions


VERSIONS = _build()
VERSION_NAMES = tuple(VERSIONS)


class VersionTable:
    """The versions this server answers; retired ones (a setting) answer 410 Gone."""

    def __init__(self, retired: list[str]) -> None:
        unknown = sorted(set(retired) - set(VERSIONS))
        if unknown:
            raise ConfigError(f"MEDIALIB_RETIRED_VERSIONS: unknown API versions {unknown}")
        self.retired = frozenset(retired)

    def resolve(self, name: str) -> ApiVersion:
        version = VERSIONS.get(name)
        if version is None:
            raise NotFound(
                f"unknown API version {name!r}",
                details={"version": f"Unknown API version '{name}'", "supported": self.live()},
            )
        if name in self.retired:
            raise Gone(
                f"API version {name!r} is retired",
                details={"version": f"API version '{name}' is retired", "supported": self.live()},
            )
        return version

    def live(self) -> list[str]:
        return [name for name in VERSION_NAMES if name not in self.retired]

    def newest_first(self) -> list[str]:
        """The live versions: dated releases newest first, then the older names."""
        live = self.live()
        return [name for name in reversed(live) if name in CHANGES] + [
            name for name in live if name in ALIASES
        ]
