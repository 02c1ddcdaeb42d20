"""Reading a manifest: the rows of an archive to import, checked before anything is sent.

CSV: a header row with `url`, `id`, `fileName`, optionally `mediaType`, and `metadata.<property>`
columns. A metadata cell is typed by its property in the row's media type (the project config's
`li-integer`, `li-numeric`, `li-boolean`, lists as JSON, the rest text), or by the type its
column names: `metadata.rank:integer`, `:number`, `:boolean` (true/false), `:json` (any JSON
value), `:text`. Empty cells are left out.
JSON Lines: one item object per line, as the API takes it. Blank lines are skipped in both.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Each import kind and the media type its items have unless they say otherwise.

REQUIRED = ("id", "fileName")
BASE_COLUMNS = {"url", "path", "id", "fileName", "mediaType"}
MAX_ID = 255


@dataclass(frozen=True)
class Row:
    line: int  # the manifest's line number (the header is line 1 of a CSV)
    item: dict[str, Any]  # the item as the API takes it

    @property
    def external_id(self) -> str:
        return str(self.item["id"])


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class Manifest:
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class ManifestError(Exception):
    """The manifest cannot be read at all (missing, wrong format, bad header)."""


# The project config's property types and how a CSV cell of each is read.
PROPERTY_KINDS = {
    "li-integer": "integer",
    "li-system-integer": "integer",
    "li-numeric": "number",
    "li-boolean": "boolean",
    "li-invalid": "boolean",
    "li-string-list": "json",
    "li-numeric-list": "json",
    # values that are objects
    "li-datetime-validity": "json",
    "li-document-reference": "json",
    "li-document-references": "json",
    "li-google-vision": "json",
    "li-image": "json",
    "li-license-profile": "json",
    "li-media-language": "json",
    "li-metadata-translations": "json",
    "li-named-crops": "json",
    "li-poster-image": "json",
    "li-reference": "json",
    "li-reference-list": "json",
    "li-transcoding-state": "json",
    "li-video-reference": "json",
}
NO_TYPES: dict[str, dict[str, str]] = {}


def read_manifest(
    path: Path,
    *,
    uploading: bool = False,
    media_type: str | None = None,
    types: dict[str, dict[str, str]] = NO_TYPES,
) -> Manifest:
    """The rows of a manifest; with `uploading`, rows name local files (`path`, relative to the
    manifest's folder) instead of URLs. `types` (media type -> property -> `li-…` type) types
    the CSV cells of columns that name none; `media_type` is a row's when it names none."""
    if not path.is_file():
        raise ManifestError(f"{path}: no such file")
    suffix = path.suffix.lower()
    read: Callable[[Path, Typing], Read]
    if suffix == ".csv":
        read = _read_csv
    elif suffix in (".jsonl", ".ndjson"):
        read = _read_jsonl
    else:
        raise ManifestError(f"{path}: a manifest is a .csv or a .jsonl file")
    manifest = Manifest()
    seen: dict[str, int] = {}
    for line, item, problem in read(path, Typing(media_type, types)):
        if uploading and isinstance(item.get("path"), str):
            item["path"] = str((path.parent / item["path"]).resolve())
        problem = problem or _item_problem(item, uploading)
        if problem is None:
            first = seen.setdefault(str(item["id"]), line)
            if first != line:
                problem = f"id '{item['id']}' is on line {first} already"
        if problem is None:
            manifest.rows.append(Row(line, item))
        else:
            manifest.problems.append(Problem(line, problem))
    return manifest


Read = Iterator[tuple[int, dict[str, Any], str | None]]


@dataclass(frozen=True)
class Typing:
    """How a CSV row's metadata cells are read: by the type their column names, else by their
    property's type in the row's media type, else as text."""

    media_type: str | None  # of a row that names none
    types: dict[str, dict[str, str]]

    def kind(self, column: _Column, item: dict[str, Any]) -> str:
        if column.kind is not None:
            return column.kind
        of_type = self.types.get(item.get("mediaType") or self.media_type or "", {})
        return PROPERTY_KINDS.get(of_type.get(column.property or "", ""), "text")


def _read_jsonl(path: Path, _: Typing) -> Read:
    with path.open(encoding="utf-8") as lines:
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            try:
                item = json.loads(text)
            except ValueError as error:
                yield number, {}, f"not JSON: {error}"
                continue
            if not isinstance(item, dict):
                yield number, {}, "must be a JSON object"
                continue
            item.setdefault("metadata", {})
            yield number, item, None


def _text(cell: str) -> str:
    return cell


def _integer(cell: str) -> int:
    return int(cell)


def _number(cell: str) -> float:
    value = float(cell)
    return int(value) if value.is_integer() and "." not in cell else value


def _boolean(cell: str) -> bool:
    lowered = cell.strip().lower()
    if lowered not in ("true", "false"):
        raise ValueError("must be true or false")
    return lowered == "true"


def _json(cell: str) -> Any:
    return json.loads(cell)


# A metadata column's type (`metadata.rank:integer`) and how its cells are read.
_TYPES: dict[str, Callable[[str], Any]] = {
    "text": _text,
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "json": _json,
}


@dataclass(frozen=True)
class _Column:
    name: str
    property: str | None  # for metadata columns
    kind: str | None  # the type the column names, if any


def _columns(header: list[str]) -> list[_Column]:
    columns = []
    for name in header:
        if name in BASE_COLUMNS:
            columns.append(_Column(name, None, None))
            continue
        if not name.startswith("metadata.") or len(name) == len("metadata."):
            raise ManifestError(
                f"column '{name}': columns are url, id, fileName, mediaType and metadata.<property>"
            )
        prop, _, kind = name.removeprefix("metadata.").partition(":")
        if kind and kind not in _TYPES:
            raise ManifestError(f"column '{name}': a type is one of {', '.join(sorted(_TYPES))}")
        columns.append(_Column(name, prop, kind or None))
    missing = [name for name in (*REQUIRED, "url|path") if name not in header]
    if "url" in header or "path" in header:
        missing.remove("url|path")
    if missing:
        raise ManifestError(f"the header has no column {', '.join(missing)}")
    return columns


def _read_csv(path: Path, typing: Typing) -> Read:
    with path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.reader(file)
        header = next(reader, None)
        if header is None:
            raise ManifestError(f"{path}: empty")
        columns = _columns([name.strip() for name in header])
        for cells in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(columns):
                yield number, {}, f"{len(cells)} cells for {len(columns)} columns"
                continue
            yield (number, *_csv_item(columns, cells, typing))


def _csv_item(
    columns: list[_Column], cells: list[str], typing: Typing
) -> tuple[dict[str, Any], str | None]:
    item: dict[str, Any] = {"metadata": {}}
    for column, cell in zip(columns, cells, strict=True):
        if column.property is None and cell.strip():
            item[column.name] = cell.strip()
    for column, cell in zip(columns, cells, strict=True):
        if column.property is None or cell == "":
            continue
        kind = typing.kind(column, item)
        try:
            item["metadata"][column.property] = _TYPES[kind](cell)
        except ValueError as error:
            return item, f"{column.name}: '{cell}' is not {kind} ({error})"
    return item, None


def _item_problem(item: dict[str, Any], uploading: bool) -> str | None:
    source = "path" if uploading else "url"
    for name in (source, *REQUIRED):
        value = item.get(name)
        if not isinstance(value, str) or not value.strip():
            return f"{name} is missing"
    if len(item["id"]) > MAX_ID:
        return f"id is longer than {MAX_ID} characters"
    if uploading:
        return None if Path(item["path"]).is_file() else f"no file at {item['path']}"
    scheme, _, rest = item["url"].partition("://")
    if scheme.lower() not in ("http", "https") or not rest.split("/", 1)[0]:
        return f"url '{item['url'][:200]}' is not an http or https URL"
    if "metadata" in item and not isinstance(item["metadata"], dict):
        return "metadata must be an object"
    if "mediaType" in item and not isinstance(item["mediaType"], str):
        return "mediaType must be text"
    return None


def read_folder(folder: Path) -> Manifest:
    """Every file under `folder` (hidden ones and state files aside) as a row to upload: its
    path below the folder is its id, its name its file name."""
    manifest = Manifest()
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        and ".medialib-import.sqlite" not in p.name
    )
    for number, file in enumerate(files, start=1):
        relative = file.relative_to(folder).as_posix()
        item = {"path": str(file), "id": relative, "fileName": file.name, "metadata": {}}
        problem = _item_problem(item, uploading=True)
        if problem is None:
            manifest.rows.append(Row(number, item))
        else:
            manifest.problems.append(Problem(number, f"{relative}: {problem}"))
    return manifest
