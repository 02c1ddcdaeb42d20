"""The body of POST /import/{images,files,…}, checked completely before a job exists.

Everything wrong with the request as a whole (or with an item's form) is a 400 naming every bad
field path; what can only be learnt by fetching an item fails that item later.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Annotated

import orjson
import pydantic
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from medialib.errors import BadRequest, field_problems
from medialib.imports.kinds import ImportKind
from medialib.library.models import JsonObject
from medialib.library.projects import Project
from medialib.library.storable import StorableIn
from medialib.media.fetch import FetchError, check_url

MAX_CONTEXT_BYTES = 8192


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: StrictStr = Field(description="http(s) URL of the item's bytes; no data URLs.")
    id: Annotated[StrictStr, Field(min_length=1, max_length=500)] = Field(
        description="Your id for it, stored as externalId."
    )
    fileName: Annotated[StrictStr, Field(min_length=1, max_length=255)]
    metadata: JsonObject
    mediaType: StrictStr | None = Field(
        default=None, description="Default: the media type named like the kind (image, file)."
    )


# A StorableIn: what cannot be stored is refused for the whole request, its items with it, in
# one pass.
class ImportIn(StorableIn):
    model_config = ConfigDict(extra="forbid")

    systemName: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    webhook: StrictStr | None = None
    context: JsonObject | None = Field(default=None, description="At most 8192 bytes.")


@functools.cache
def request_model(kind: ImportKind) -> type[ImportIn]:
    """`{systemName, webhook, context, <plural>: [items]}`: `ImagesIn`, `FilesIn`, …"""
    model: type[ImportIn] = pydantic.create_model(
        f"{kind.plural.capitalize()}In",
        __base__=ImportIn,
        **{kind.plural: (list[ItemIn], ...)},  # type: ignore[call-overload]
    )
    return model


@dataclass(frozen=True)
class ImportRequest:
    kind: ImportKind
    system_name: str
    webhook: str | None
    context: JsonObject | None
    items: list[ItemIn]


def parse_import(raw: object, kind: ImportKind, project: Project, max_items: int) -> ImportRequest:
    key = kind.plural
    try:
        parsed = request_model(kind).model_validate(raw)
    except pydantic.ValidationError as exc:
        raise BadRequest(details=field_problems(exc)) from exc
    items: list[ItemIn] = getattr(parsed, key)
    problems: dict[str, str] = {}
    if not items:
        problems[key] = "at least 1 item is needed"
    if len(items) > max_items:
        problems[key] = f"at most {max_items} items per job; got {len(items)}"
    problems |= _webhook_problems(parsed.webhook)
    problems |= _context_problems(parsed.context)
    problems |= _item_problems(items, key, kind, project)
    if problems:
        raise BadRequest(details=problems)
    return ImportRequest(kind, parsed.systemName, parsed.webhook, parsed.context, items)


def _context_problems(context: JsonObject | None) -> dict[str, str]:
    """The context is stored and sent back in the webhook as JSON: it must be writable as JSON
    (a body's parser makes sure of that; any other caller may hand integers past 64 bits or
    nesting deeper than 254) and small."""
    if context is None:
        return {}
    try:
        size = len(orjson.dumps(context))
    except orjson.JSONEncodeError as exc:
        return {"context": f"must be JSON medialib can store: {exc}"}
    if size > MAX_CONTEXT_BYTES:
        return {"context": f"must be at most {MAX_CONTEXT_BYTES} bytes of JSON"}
    return {}


def _webhook_problems(webhook: str | None) -> dict[str, str]:
    if webhook is None:
        return {}
    try:
        check_url(webhook, credentials=True)  # the receiver's own, for Basic auth
    except FetchError as error:
        return {"webhook": error.message}
    return {}


def _item_problems(
    items: list[ItemIn], key: str, kind: ImportKind, project: Project
) -> dict[str, str]:
    problems: dict[str, str] = {}
    first_of: dict[str, int] = {}
    for i, item in enumerate(items):
        at = f"{key}.{i}"
        if item.url.strip().lower().startswith("data:"):
            problems[f"{at}.url"] = "data URLs are not imported; give an http(s) URL"
        else:
            try:
                check_url(item.url)
            except FetchError as error:
                problems[f"{at}.url"] = error.message
        if item.id in first_of:
            problems[f"{at}.id"] = f"'{item.id}' is also the id of {key}.{first_of[item.id]}"
        first_of.setdefault(item.id, i)
        media_problem = media_type_problem(item.mediaType or kind.name, kind, project)
        if media_problem:
            problems[f"{at}.mediaType"] = media_problem
    return problems


def media_type_problem(handle: str, kind: ImportKind, project: Project) -> str | None:
    media_type = project.media_types.get(handle)
    wanted = kind.media_kind
    if media_type is None:
        fitting = [m.handle for m in project.media_types.values() if m.kind == wanted]
        return f"this project has no media type '{handle}' (its {wanted} types: {fitting})"
    if media_type.kind != wanted:
        return f"media type '{handle}' is a {media_type.kind}, not a {wanted}"
    return None
