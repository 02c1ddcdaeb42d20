"""One entry: its rendition, the original's facts, its metadata as a form checked by the media
type (each problem shown at its field, in the API's words), and revoke, unrevoke, archive and
delete.

The form follows the original's property config as its editor does: `hideFromForm` leaves a
property out, `ui.config.readOnly` shows it unchangeable (both keep its value as it is, whatever
a form sends), `requiredErrorMessage` is what a required field left empty says,
`allowNewlines` and `ui.config.rows` make a text one line or several, `ui.config.placeholder`
is the empty field's text, and `recommendedMinLength`/`recommendedMaxLength` a hint with a
count of the characters."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from medialib.bootstrap import Runtime
from medialib.errors import BadRequest
from medialib.library.assets import shared_objects
from medialib.library.crops import crops_outside
from medialib.library.entries import get_entry
from medialib.library.metadata import (
    INTEGER_TYPES,
    STRUCTURED_TYPES,
    MetadataIssue,
    MetadataProperty,
)
from medialib.library.models import Entry, PatchRequestIn
from medialib.library.patches import (
    MAX_NOTE_LENGTH,
    EntryPatcher,
    PatchRules,
    parse_patch_request,
)
from medialib.library.projects import MediaType, Project
from medialib.library.removal import delete_entry
from medialib.library.renditions import keys_of_entry
from medialib.library.similar import similar_entries
from medialib.library.validity import standing
from medialib.web.deps import project_of, render, runtime, viewer, writer
from medialib.web.pages.focus import focus_view
from medialib.web.pages.library import thumbnail
from medialib.web.session import Viewer

router = APIRouter()
PREVIEW = {"w": "960", "auto": "format"}
NEAR_SHOWN = 24  # near-duplicates the entry page shows
# The web view speaks the newest API version's patch rules.
RULES = PatchRules(
    operations=frozenset(
        {"setMetadataProperty", "archive", "revokeAsset", "unrevokeAsset", "replaceAsset"}
    ),
    revoke_conflicts=True,
    preserve_updated_at=True,
)


def _properties(project: Project, entry: Entry) -> list[MetadataProperty]:
    """The properties the form shows: all but those the config hides from it."""
    media_type = project.media_types.get(entry.media_type)
    if media_type is None:
        return []
    return [p for p in media_type.schema.properties.values() if not p.config.hideFromForm]


def _editable(prop: MetadataProperty) -> bool:
    return not (prop.ui and prop.ui.config and prop.ui.config.readOnly)


Control = Literal["input", "textarea", "select"]
TEXT_TYPES = frozenset({"li-text", "li-string"})


@dataclass(frozen=True)
class Field:
    """How the form shows one property."""

    prop: MetadataProperty
    control: Control
    rows: int
    placeholder: str | None
    read_only: bool
    hint: str | None  # the recommended length, for a counter of characters beside it


def _field(prop: MetadataProperty) -> Field:
    ui = prop.ui.config if prop.ui and prop.ui.config else None
    rows = ui.rows if ui and ui.rows else None
    return Field(
        prop=prop,
        control=_control(prop, rows),
        rows=rows or 3,
        placeholder=ui.placeholder if ui else None,
        read_only=not _editable(prop),
        hint=_recommended(prop),
    )


def _control(prop: MetadataProperty, rows: int | None) -> Control:
    if prop.type in ("li-boolean", "li-invalid") or (
        prop.type == "li-enum" and prop.config.choices
    ):
        return "select"
    if prop.type in STRUCTURED_TYPES or prop.type.endswith("-list"):
        return "textarea"
    if prop.type in TEXT_TYPES:
        # The original's li-text is several lines unless line breaks are refused; medialib's
        # li-string one line unless they are allowed (or rows asked for).
        lines = prop.config.allowNewlines
        if lines is None:
            lines = prop.type == "li-text" or rows is not None
        return "textarea" if lines else "input"
    return "input"


def _about(media_type: MediaType | None) -> str | None:
    """What the config's `info` says of a media type: its label (English, of several) and its
    description."""
    info = media_type.info if media_type else None
    if info is None:
        return None
    label = info.label
    if isinstance(label, dict):
        label = label.get("en") or next(iter(label.values()), None)
    said = [part for part in (label, info.description) if part]
    return ": ".join(said) or None


def _recommended(prop: MetadataProperty) -> str | None:
    low, high = prop.config.recommendedMinLength, prop.config.recommendedMaxLength
    if low is not None and high is not None:
        return f"Recommended: {low} to {high} characters."
    if low is not None:
        return f"Recommended: at least {low} characters."
    if high is not None:
        return f"Recommended: at most {high} characters."
    return None


def _shown(prop: MetadataProperty, value: Any) -> str:
    """A stored value as its form field shows it."""
    if value is None:
        return ""
    if prop.type in STRUCTURED_TYPES:
        return json.dumps(value, ensure_ascii=False, indent=2)
    if prop.type in ("li-string-list", "li-numeric-list") and isinstance(value, list):
        return "\n".join(str(v) for v in value)
    if prop.type in ("li-boolean", "li-invalid"):
        return "true" if value else "false"
    return str(value)


def _read(prop: MetadataProperty, text: str) -> Any:
    """A form field's text as the value to set, the value a JSON client would send: empty is
    unset; a number field's text that is no number is sent as it is, so the media type's check
    names the problem. A browser sends a textarea's line breaks as CRLF: they are read as the
    line feeds a JSON client sends."""
    text = text.strip().replace("\r\n", "\n")
    if text == "":
        return None
    try:
        if prop.type in STRUCTURED_TYPES:
            return json.loads(text)
        if prop.type in INTEGER_TYPES:
            return int(text)
        if prop.type == "li-numeric":
            return _number(text)
        if prop.type in ("li-boolean", "li-invalid"):
            return {"true": True, "false": False}.get(text, text)
        if prop.type == "li-string-list":
            return [line.strip() for line in text.splitlines() if line.strip()]
        if prop.type == "li-numeric-list":
            return [_number(part) for part in text.replace(",", "\n").split()]
        if prop.type == "li-enum":
            options = prop.config.choices
            return next((o.value for o in options if str(o.value) == text), text)
    except (ValueError, RecursionError):  # RecursionError: JSON nested too deep to read
        return text
    return text


def _same(value: Any, stored: Any) -> bool:
    """Whether a form's value leaves the stored one as it is (a text stored with CRLF line
    breaks comes back from the form with line feeds)."""
    if isinstance(value, str) and isinstance(stored, str):
        return value == stored.replace("\r\n", "\n")
    return bool(value == stored)


def _number(text: str) -> int | float:
    """An integer exactly as written (so one beyond 64 bits is refused as the API refuses it,
    not rounded), else a float."""
    try:
        return int(text)
    except ValueError:
        return float(text)


async def _page(
    request: Request,
    rt: Runtime,
    who: Viewer,
    entry: Entry,
    *,
    values: dict[str, str] | None = None,
    problems: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    project = project_of(rt, who)
    props = _properties(project, entry)
    shown = {p.handle: _shown(p, entry.metadata.get(p.handle)) for p in props} | (values or {})
    keys = await keys_of_entry(rt.db, rt.storage, who.principal.project, entry.id)
    shared = await shared_objects(rt.db, who.principal.project, entry.id)
    key = entry.asset["key"]
    is_image = str(entry.asset.get("mimeType", "")).startswith("image/")
    withheld = entry.revoked or entry.invalid  # its URLs answer 403: no picture to show
    renders = is_image and rt.urls.renders and not withheld
    preview = rt.urls.rendition(key, PREVIEW) if renders else None
    states = ["revoked"] if entry.revoked else []
    if entry.invalid:
        states.append(_invalid(project, entry))
    return render(
        "entry.html",
        status,
        request=request,
        who=who,
        entry=entry,
        fields=[_field(p) for p in props],
        about_type=_about(project.media_types.get(entry.media_type)),
        values=shown,
        problems=problems or {},
        keys=keys,
        shared=shared,
        thumbnail=preview or thumbnail(rt, entry),
        focus=focus_view(rt, entry),
        original=f"/ui/entries/{entry.id}/original",
        video=_playable(rt, entry),
        max_note=MAX_NOTE_LENGTH,
        state=", ".join(states) or "live",
        near=[
            (near, thumbnail(rt, near), apart)
            for near, apart in await similar_entries(rt.db, project, entry.id, NEAR_SHOWN)
        ],
    )


def _playable(rt: Runtime, entry: Entry) -> str | None:
    """Where the browser's player reads a video from; None for other entries and for one whose
    URLs answer 403 (revoked, invalid)."""
    is_video = str(entry.asset.get("mimeType", "")).startswith("video/")
    if not is_video or entry.revoked or entry.invalid:
        return None
    return rt.urls.asset(entry.asset["key"])


def _invalid(project: Project, entry: Entry) -> str:
    """An invalid entry's state, and why, as its metadata says now."""
    media_type = project.media_types.get(entry.media_type)
    because = standing(media_type, entry.metadata, dt.datetime.now(dt.UTC)).reason
    return f"invalid ({because}): not served" if because else "invalid: not served"


@router.get("/entries/{entry_id}")
async def entry_page(
    request: Request, entry_id: str, who: Viewer = Depends(viewer), rt: Runtime = Depends(runtime)
) -> Response:
    entry = await get_entry(rt.db, who.principal.project, entry_id)
    return await _page(request, rt, who, entry)


@router.get("/entries/{entry_id}/original")
async def original(
    entry_id: str, who: Viewer = Depends(viewer), rt: Runtime = Depends(runtime)
) -> Response:
    """The stored original, where the store serves it."""
    entry = await get_entry(rt.db, who.principal.project, entry_id)
    return RedirectResponse(rt.urls.asset(entry.asset["key"]), status_code=303)


@router.post("/entries/{entry_id}/metadata")
async def save_metadata(
    request: Request, entry_id: str, who: Viewer = Depends(writer), rt: Runtime = Depends(runtime)
) -> Response:
    form = await request.form()
    entry = await get_entry(rt.db, who.principal.project, entry_id)
    project = project_of(rt, who)
    # What the form may change: a hidden or read-only property keeps its value, whatever is sent.
    props = [p for p in _properties(project, entry) if _editable(p)]
    values = {p.handle: _text(form, p.handle) for p in props}
    changed = {
        p.handle: value
        for p in props
        if not _same(value := _read(p, values[p.handle]), entry.metadata.get(p.handle))
    }
    request_in, problems = _metadata_patch(project, entry, _text(form, "version"), changed)
    if problems:
        return await _page(request, rt, who, entry, values=values, problems=problems, status=400)
    if request_in is not None:
        patcher = EntryPatcher(rt.db, rt.storage, project, RULES, who.actor)
        try:
            await patcher.apply(entry_id, request_in)
        except BadRequest as refused:  # what only the library can tell: a reference's entry
            problems = _by_property(refused, list(changed))
            return await _page(
                request, rt, who, entry, values=values, problems=problems, status=400
            )
    return RedirectResponse(f"/ui/entries/{entry_id}?saved=1", status_code=303)


def _metadata_patch(
    project: Project, entry: Entry, version: str, changed: dict[str, Any]
) -> tuple[PatchRequestIn | None, dict[str, str]]:
    """The PATCH request that sets the changed properties, checked as the API checks one, and
    every problem by property (not just the first, as the API says it): nothing is saved until
    all are right."""
    if not changed:
        return None, {}
    handles = list(changed)
    raw = {
        "version": version or None,
        "patches": [
            {"operation": "setMetadataProperty", "propertyName": handle, "value": value}
            for handle, value in changed.items()
        ],
    }
    problems: dict[str, str] = {}
    request_in = None
    try:
        request_in = parse_patch_request(raw, RULES)
    except BadRequest as refused:
        problems = _by_property(refused, handles)
    schema = project.media_types[entry.media_type].schema
    for handle, value in changed.items():
        if handle not in problems and (issues := schema.validate_property(handle, value)):
            problems[handle] = _said(schema.properties[handle], issues[0])
    if not problems:
        after = {k: v for k, v in (entry.metadata | changed).items() if v is not None}
        for issue in crops_outside(schema, after, entry.asset):
            if issue.property in changed:  # crops stored before are not this form's to refuse
                problems.setdefault(issue.property, issue.message())
    return request_in, problems


def _said(prop: MetadataProperty, issue: MetadataIssue) -> str:
    """A problem in the form's words: the config's own for a required field left empty."""
    if issue.keyword == "required" and prop.config.requiredErrorMessage:
        return prop.config.requiredErrorMessage
    return issue.message()


def _by_property(refused: BadRequest, handles: list[str]) -> dict[str, str]:
    """A refused request's problems at the properties they are about (`patches.2.value` is the
    third changed property); a problem with the form itself (its version) is the error page."""
    problems: dict[str, str] = {}
    for where, message in refused.details.items():
        parts = where.split(".")
        if parts[0] != "patches" or len(parts) < 2 or not parts[1].isdigit():
            raise refused
        problems.setdefault(handles[int(parts[1])], str(message))
    return problems


@router.post("/entries/{entry_id}/{action}")
async def change_state(
    request: Request,
    entry_id: str,
    action: str,
    who: Viewer = Depends(writer),
    rt: Runtime = Depends(runtime),
) -> Response:
    project = project_of(rt, who)
    if action == "delete":
        await delete_entry(rt.db, project, entry_id, who.actor)
        return RedirectResponse("/ui/library", status_code=303)
    operation = {"revoke": "revokeAsset", "unrevoke": "unrevokeAsset", "archive": "archive"}
    if action not in operation:
        raise HTTPException(404)  # the web view's 404 page, as for any page not there
    patch: dict[str, Any] = {"operation": operation[action]}
    if action == "revoke" and (note := _text(await request.form(), "note")):
        patch["note"] = note
    # Checked as the API checks a PATCH: a note too long, or with NUL, is refused in its words.
    form = await request.form()
    request_in = parse_patch_request({"patches": [patch]}, RULES)
    await EntryPatcher(rt.db, rt.storage, project, RULES, who.actor).apply(entry_id, request_in)
    return RedirectResponse(_back(form) or f"/ui/entries/{entry_id}", status_code=303)


def _back(form: FormData) -> str | None:
    """Where an action asked from the near-duplicates page returns: that page (and its cursor),
    only ever a path of this site's."""
    back = _text(form, "back")
    page = "/ui/library/similar"
    if back == page or (back.startswith(page + "?cursor=") and back.isascii()):
        return back if all(ch.isalnum() or ch in "/?=-_%" for ch in back) else None
    return None


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""
