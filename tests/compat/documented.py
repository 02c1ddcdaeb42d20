"""The original API's documented examples, and what medialib answers to them, as data.

`documented.json` beside this module holds every request and response example of the original's
endpoint pages for the media library, the imports, the project config and the health check, as
its documentation (livingdocsIO/documentation, the commit in the file's `commit`) writes them in
`data/endpoints/<page>.yaml`: the page's `endpoint` (method and path), `apiVersionConstraints`,
`example_request` (`request`), `responses` (code, endpoint, body) and the examples of its
`openapi` block (`openapi_examples`). The bodies were transcribed from the pages' JavaScript-ish
text into JSON once (comments and trailing commas dropped, single quotes made double); nothing is
read from the network when the tests run. The pages, and the endpoint each documents:

- `get-media-library-entries-2025-11.yaml` (<= 2025-11), `get-media-library-entries.yaml`
  (>= 2026-01): GET mediaLibrary, by `ids` and by `externalId` + `systemName`
- `get-media-library-entry.yaml`: GET mediaLibrary/{id}
- `patch-media-library-entry-2026-01.yaml` (<= 2026-01), `patch-media-library-entry.yaml`
  (>= 2026-03): PATCH mediaLibrary/{id}, its request, 200, 400, 404 and 409
- `get-media-library-entry-usage-log.yaml`: GET mediaLibrary/{id}/usageLog
- `get-media-library-entry-keys.yaml` (>= 2026-03): GET mediaLibrary/{id}/keys
- `media-library-serve-image.yaml` (>= 2025-03): GET mediaLibrary/serve-image/{key}, 200, and
  403 and 404 from its openapi block
- `incoming-media-references-for-media{-2025-11,}.yaml`,
  `incoming-publication-references-for-media{-2025-11,}.yaml`: GET
  mediaLibrary/{mediaId}/incomingMediaReferences and …/incomingDocumentReferences
- `import-media-library-entries-2025-11.yaml` (<= 2025-11), `import-media-library-entries.yaml`
  (>= 2026-01): POST import/mediaLibrary, its request, a success and four failed results
- `import-images.yaml`, `import-files.yaml`, `import-videos.yaml` and their `-status.yaml`
  pages: POST import/{kind} (request, `{"id"}`) and GET import/{kind}/status (a finished job with
  a success, a skipped and a failed item; a started job; a failed job)
- `get-project-config.yaml`: GET projectConfig
- `health-check.yaml`: GET health

Versions: a page without `apiVersionConstraints` is in every version (the spec's table, issue 28
section 4.2, puts `v1` and `beta` with them); `v1` and `beta` come before `2025-03` (so `lte:
2025-11` includes them and `gte: 2025-03` does not). The usage log page has no constraint, but
its feature is dated 2026-05: the spec's table has it from 2026-05 on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATA = json.loads((Path(__file__).parent / "documented.json").read_text())
PAGES: dict[str, dict[str, Any]] = {
    p["page"].removeprefix("data/endpoints/").removesuffix(".yaml"): p for p in DATA["pages"]
}

# The versions of the original's docs site, oldest first (v1 and beta are what 2025-03 was).
VERSIONS = (
    "v1",
    "beta",
    "2025-03",
    "2025-05",
    "2025-07",
    "2025-09",
    "2025-11",
    "2026-01",
    "2026-03",
    "2026-05",
    "2026-07",
)


def rank(version: str) -> int:
    return 0 if version in ("v1", "beta") else VERSIONS.index(version) - 1


def in_version(constraints: dict[str, str] | None, version: str) -> bool:
    if not constraints:
        return True
    if "lte" in constraints and rank(version) > rank(constraints["lte"]):
        return False
    return not ("gte" in constraints and rank(version) < rank(constraints["gte"]))


@dataclass(frozen=True)
class Endpoint:
    label: str
    pages: tuple[str, ...]  # per-version variants, by their apiVersionConstraints
    since: str | None = None  # where the spec's table starts it later than its pages say

    def page(self, version: str) -> str | None:
        if self.since and rank(version) < rank(self.since):
            return None
        for name in self.pages:
            if in_version(PAGES[name].get("apiVersionConstraints"), version):
                return name
        return None

    def versions(self) -> list[str]:
        return [v for v in VERSIONS if self.page(v)]


ENDPOINTS = [
    Endpoint(
        "GET mediaLibrary",
        ("get-media-library-entries-2025-11", "get-media-library-entries"),
    ),
    Endpoint("GET mediaLibrary/{id}", ("get-media-library-entry",)),
    Endpoint(
        "PATCH mediaLibrary/{id}",
        ("patch-media-library-entry-2026-01", "patch-media-library-entry"),
    ),
    Endpoint(
        "GET mediaLibrary/{id}/usageLog", ("get-media-library-entry-usage-log",), since="2026-05"
    ),
    Endpoint("GET mediaLibrary/{id}/keys", ("get-media-library-entry-keys",)),
    Endpoint("GET mediaLibrary/serve-image/{key}", ("media-library-serve-image",)),
    Endpoint(
        "GET mediaLibrary/{mediaId}/incomingDocumentReferences",
        (
            "incoming-publication-references-for-media-2025-11",
            "incoming-publication-references-for-media",
        ),
    ),
    Endpoint(
        "GET mediaLibrary/{mediaId}/incomingMediaReferences",
        ("incoming-media-references-for-media-2025-11", "incoming-media-references-for-media"),
    ),
    Endpoint(
        "POST import/mediaLibrary",
        ("import-media-library-entries-2025-11", "import-media-library-entries"),
    ),
    Endpoint("POST import/images, GET import/images/status", ("import-images",)),
    Endpoint("POST import/files, GET import/files/status", ("import-files",)),
    Endpoint("POST import/videos, GET import/videos/status", ("import-videos",)),
    Endpoint("GET projectConfig", ("get-project-config",)),
    Endpoint("GET health", ("health-check",)),
]
BY_LABEL = {e.label: e for e in ENDPOINTS}

# What medialib does not serve yet: a documented request that answers 404 (no such route) or 400
# (an operation it refuses). Empty since incomingMediaReferences is served; an endpoint the docs
# add later is either exercised (EXERCISES) or listed here, never neither
# (`test_every_endpoint_is_exercised_or_not_served_yet`), and the table says "missing" for it.
# The value: the status it answers today, and the first version the docs have it in.
NOT_SERVED_YET: dict[str, tuple[int, str]] = {}


def not_served(label: str, version: str) -> list[str]:
    """What of `label` medialib does not serve in `version` (the whole endpoint: `label`)."""
    return [
        k
        for k, (_, since) in NOT_SERVED_YET.items()
        if (k == label or k.startswith(label + " ")) and rank(version) >= rank(since)
    ]


# Keys whose values are the same on any server (not ids, times, URLs or sizes): their values are
# compared, the others only by their JSON type.
VALUE_KEYS = frozenset(
    {
        "status",
        "error",
        "ok",
        "state",
        "finished",
        "reason",
        "mediaType",
        "mimeType",
        "name",
        "message",
        "correlation",
        "metadataProperty",
        "patches.0.operation",
        "location",
        "type",
    }
)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


@dataclass
class Comparison:
    """Where an answer differs from a documented body: `differences` (a documented key missing,
    another JSON type, another value) and `added` (keys the docs do not show)."""

    differences: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)

    def note(self, kind: list[str], text: str) -> None:
        if text not in kind:
            kind.append(text)


def compare(
    documented: Any, ours: Any, subs: dict[str, str] | None = None, path: str = ""
) -> Comparison:
    """`ours` against `documented`: the same keys (ours may add some), the same JSON types, and
    the same values under VALUE_KEYS (in documented strings, `subs` replaces instance-specific
    parts, such as an id, by ours)."""
    result = Comparison()
    _compare(documented, ours, subs or {}, path, result)
    return result


def _compare(doc: Any, ours: Any, subs: dict[str, str], path: str, out: Comparison) -> None:
    shown = path or "(body)"
    if json_type(doc) != json_type(ours):
        out.note(out.differences, f"{shown}: documented {json_type(doc)}, ours {json_type(ours)}")
        return
    if isinstance(doc, dict):
        for key, value in doc.items():
            where = f"{path}.{key}" if path else key
            if key not in ours:
                out.note(out.differences, f"{where}: documented, ours missing")
                continue
            if key in VALUE_KEYS and not isinstance(value, dict | list):
                expected = value
                if isinstance(value, str):
                    for old, new in subs.items():
                        expected = expected.replace(old, new)
                if expected != ours[key]:
                    out.note(
                        out.differences,
                        f"{where}: documented {json.dumps(value)}, ours {json.dumps(ours[key])}",
                    )
                    continue
            _compare(value, ours[key], subs, where, out)
        for key in ours:
            if key not in doc:
                out.note(out.added, f"{path}.{key}" if path else key)
    elif isinstance(doc, list) and doc and ours:
        indexed = len(doc) > 1 and len(doc) == len(ours)
        for i, item in enumerate(ours):
            _compare(
                doc[i] if indexed else doc[0], item, subs, f"{path}[{i if indexed else ''}]", out
            )


# What medialib answers differently from the documented examples, per endpoint and example (the
# example's name in the test: its documented status and what it shows). A version listed under
# `ONLY_IN` has the difference in those versions only. The tests assert these exactly.
KNOWN_DIFFERENCES: dict[tuple[str, str], list[str]] = {
    ("POST import/mediaLibrary", "200 failed entries"): [
        'mediaLibraryEntries[3].error: documented "ValidationError", ours "MetadataValidationErrors"',  # noqa: E501
        "mediaLibraryEntries[3].error_details.errors: documented, ours missing",
    ],
    (
        "POST import/images, GET import/images/status",
        "200 status: finished, success, skipped, failed",
    ): [
        'images[2].reason: documented "Could not upload image", ours "Could not download: the server answered HTTP 404"',  # noqa: E501
    ],
    (
        "POST import/files, GET import/files/status",
        "200 status: finished, success, skipped, failed",
    ): [
        'files[2].reason: documented "Could not upload file", ours "Could not download: the server answered HTTP 404"',  # noqa: E501
    ],
    (
        "POST import/videos, GET import/videos/status",
        "200 status: finished, success, skipped, failed",
    ): [
        'videos[2].reason: documented "Could not upload video", ours "Could not download: the server answered HTTP 404"',  # noqa: E501
    ],
    # medialib knows of documents only from usage log entries (docs/api/entries.md): a reference
    # says where it was recorded (`usage-log`, with `usageLogEntryId`), not where in a document.
    ("GET mediaLibrary/{mediaId}/incomingDocumentReferences", "200 (array)"): [
        '[0].references[].location: documented "image-directive", ours "usage-log"',
        "[0].references[].componentId: documented, ours missing",
        "[0].references[].componentName: documented, ours missing",
        "[0].references[].directiveName: documented, ours missing",
        '[1].references[].location: documented "image-directive", ours "usage-log"',
        "[1].references[].componentId: documented, ours missing",
        "[1].references[].componentName: documented, ours missing",
        "[1].references[].directiveName: documented, ours missing",
    ],
    # medialib knows of documents only from usage log entries (docs/api/entries.md): a reference
    # says where it was recorded (`usage-log`, with `usageLogEntryId`), not where in a document.
    ("GET mediaLibrary/{mediaId}/incomingDocumentReferences", "200 (total, cursor, results)"): [
        "cursor: documented string, ours null",
        'results[0].references[].location: documented "image-directive", ours "usage-log"',
        "results[0].references[].componentId: documented, ours missing",
        "results[0].references[].componentName: documented, ours missing",
        "results[0].references[].directiveName: documented, ours missing",
        'results[1].references[].location: documented "image-directive", ours "usage-log"',
        "results[1].references[].componentId: documented, ours missing",
        "results[1].references[].componentName: documented, ours missing",
        "results[1].references[].directiveName: documented, ours missing",
    ],
    # The last page's cursor is null, as incomingDocumentReferences' is (docs/api/entries.md).
    ("GET mediaLibrary/{mediaId}/incomingMediaReferences", "200 (total, cursor, results)"): [
        "cursor: documented string, ours null",
    ],
    ("GET projectConfig", "200 (top level)"): [
        "$baseRevision: documented, ours missing",
        "editorSettings: documented, ours missing",
        "contentTypes: documented, ours missing",
        "designSettings: documented, ours missing",
        "components: documented, ours missing",
        "categories: documented, ours missing",
        "deliveries: documented, ours missing",
        "notifications: documented, ours missing",
        "import: documented, ours missing",
        "export: documented, ours missing",
        "externalSystems: documented, ours missing",
    ],
}
ONLY_IN: dict[tuple[str, str, str], tuple[str, ...]] = {
    (
        "GET mediaLibrary/{mediaId}/incomingMediaReferences",
        "200 (total, cursor, results)",
        "cursor: documented string, ours null",
    ): ("2026-01", "2026-03", "2026-05", "2026-07"),
    (
        "POST import/mediaLibrary",
        "200 failed entries",
        'mediaLibraryEntries[3].error: documented "ValidationError", ours "MetadataValidationErrors"',  # noqa: E501
    ): ("v1",),
    (
        "POST import/mediaLibrary",
        "200 failed entries",
        "mediaLibraryEntries[3].error_details.errors: documented, ours missing",
    ): ("v1",),
}

# Keys medialib adds to the documented bodies, per endpoint and example (asserted exactly too),
# and where one version adds others (`ADDED_IN`, per endpoint, example and version).
ADDED_KEYS: dict[tuple[str, str], list[str]] = {
    ("GET mediaLibrary/{mediaId}/incomingDocumentReferences", "200 (array)"): [
        "[0].references[].usageLogEntryId",
        "[1].references[].usageLogEntryId",
    ],
    ("GET mediaLibrary/{mediaId}/incomingDocumentReferences", "200 (total, cursor, results)"): [
        "<list>[0].references[].usageLogEntryId",
        "<list>[1].references[].usageLogEntryId",
    ],
    ("GET mediaLibrary", "200 by ids"): [
        "<list>[0].archived",
        "<list>[0].asset.filename",
        "<list>[0].asset.key",
        "<list>[0].asset.originalUrl",
        "<list>[0].revoked",
        "<list>[0].translations",
        "<list>[1].archived",
        "<list>[1].asset.filename",
        "<list>[1].asset.key",
        "<list>[1].asset.originalUrl",
        "<list>[1].revoked",
        "<list>[1].translations",
    ],
    ("GET mediaLibrary", "200 by externalId"): [
        "<list>[].archived",
        "<list>[].asset.filename",
        "<list>[].asset.key",
        "<list>[].asset.originalUrl",
        "<list>[].revoked",
        "<list>[].translations",
    ],
    ("GET mediaLibrary", "200 by externalIds (openapi)"): [
        "<list>[].archived",
        "<list>[].asset.filename",
        "<list>[].asset.key",
        "<list>[].asset.originalUrl",
        "<list>[].revoked",
        "<list>[].translations",
    ],
    ("GET mediaLibrary/{id}", "200"): [
        "archived",
        "asset.filename",
        "asset.key",
        "asset.originalUrl",
        "revoked",
        "translations",
    ],
    ("POST import/mediaLibrary", "200 created"): [
        "<list>[].record.archived",
        "<list>[].record.asset",
        "<list>[].record.createdAt",
        "<list>[].record.externalId",
        "<list>[].record.id",
        "<list>[].record.mediaType",
        "<list>[].record.metadata",
        "<list>[].record.revoked",
        "<list>[].record.systemName",
        "<list>[].record.translations",
        "<list>[].record.updatedAt",
        "<list>[].record.version",
    ],
    (
        "POST import/images, GET import/images/status",
        "200 status: finished, success, skipped, failed",
    ): [
        "finishedAt",
        "images[0].action",
        "images[0].duplicateOf",
        "images[0].status",
        "images[0].title",
        "images[1].action",
        "images[1].status",
        "images[1].title",
        "images[2].reasonCode",
        "images[2].status",
        "images[2].title",
        "progress",
        "startedAt",
        "webhook",
    ],
    ("POST import/images, GET import/images/status", "200 status: failed"): [
        "finishedAt",
        "images",
        "progress",
        "startedAt",
        "webhook",
    ],
    ("POST import/images, GET import/images/status", "200 status: started"): [
        "images",
        "progress",
        "webhook",
    ],
    (
        "POST import/files, GET import/files/status",
        "200 status: finished, success, skipped, failed",
    ): [
        "files[0].action",
        "files[0].duplicateOf",
        "files[0].fileName",
        "files[0].status",
        "files[1].action",
        "files[1].fileName",
        "files[1].status",
        "files[2].fileName",
        "files[2].reasonCode",
        "files[2].status",
        "finishedAt",
        "progress",
        "startedAt",
        "webhook",
    ],
    ("POST import/files, GET import/files/status", "200 status: failed"): [
        "files",
        "finishedAt",
        "progress",
        "startedAt",
        "webhook",
    ],
    ("POST import/files, GET import/files/status", "200 status: started"): [
        "files",
        "progress",
        "webhook",
    ],
    (
        "POST import/videos, GET import/videos/status",
        "200 status: finished, success, skipped, failed",
    ): [
        "finishedAt",
        "progress",
        "startedAt",
        "videos[0].action",
        "videos[0].duplicateOf",
        "videos[0].status",
        "videos[0].video.duration",
        "videos[0].video.height",
        "videos[0].video.poster",
        "videos[0].video.url",
        "videos[0].video.width",
        "videos[1].action",
        "videos[1].status",
        "videos[1].video.duration",
        "videos[1].video.height",
        "videos[1].video.poster",
        "videos[1].video.url",
        "videos[1].video.width",
        "videos[2].reasonCode",
        "videos[2].status",
        "webhook",
    ],
    ("POST import/videos, GET import/videos/status", "200 status: failed"): [
        "finishedAt",
        "progress",
        "startedAt",
        "videos",
        "webhook",
    ],
    ("POST import/videos, GET import/videos/status", "200 status: started"): [
        "progress",
        "videos",
        "webhook",
    ],
}
ADDED_IN: dict[tuple[str, str, str], list[str]] = {
    ("POST import/mediaLibrary", "200 failed entries", "v1"): [
        "<list>[3].error_details.invalidMetadata"
    ],
}


def added_keys(label: str, example: str, version: str) -> list[str]:
    """The keys medialib adds, list paths under `<list>` (mediaLibraryEntries or results)."""
    return sorted(ADDED_IN.get((label, example, version), ADDED_KEYS.get((label, example), [])))


def expected_differences(label: str, example: str, version: str) -> list[str]:
    return [
        d
        for d in KNOWN_DIFFERENCES.get((label, example), [])
        if version in ONLY_IN.get((label, example, d), (version,))
    ]


def cell(label: str, version: str) -> str:
    endpoint = BY_LABEL[label]
    if endpoint.page(version) is None:
        return "-"
    missing = not_served(label, version)
    if label in missing:
        return "missing"
    partly = bool(missing)
    differs = any(
        expected_differences(lbl, example, version)
        for (lbl, example) in KNOWN_DIFFERENCES
        if lbl == label
    )
    if partly or differs:
        return "differs"
    return "matches"


def table() -> str:
    """The endpoint x version table of docs/compatibility.md, in Markdown."""
    head = "| endpoint | " + " | ".join(VERSIONS) + " |"
    rule = "| --- | " + " | ".join("---" for _ in VERSIONS) + " |"
    rows = [
        f"| `{e.label}` | " + " | ".join(cell(e.label, v) for v in VERSIONS) + " |"
        for e in ENDPOINTS
    ]
    return "\n".join([head, rule, *rows])


def differences_text() -> str:
    """Every known difference, one line each, for docs/compatibility.md."""
    lines = []
    for (label, example), diffs in KNOWN_DIFFERENCES.items():
        for d in diffs:
            only = ONLY_IN.get((label, example, d))
            versions = ", ".join(only) if only else "every version it exists in"
            lines.append(f"- `{label}`, {example} ({versions}): `{d}`")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
    print()
    print(differences_text())
