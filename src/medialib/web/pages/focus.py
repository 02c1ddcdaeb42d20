"""Moving a focal point: a click on the entry page's picture.

The picture is an `<input type=image>` in a form, so a browser without JavaScript sends the
click itself: `focus.x` and `focus.y`, in CSS pixels of the picture's box. Turning those into
fractions of the picture needs the box's size as shown: the form carries the size the page
gives the picture (`shownWidth`, `shownHeight`), which medialib.js replaces at the click with
the size the browser really shows it at (a narrow window shrinks it). The picture is shown
whole (`object-fit: contain`): a box of another shape than the picture has bands beside it,
which are no part of the picture, and a click there is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from medialib.bootstrap import Runtime
from medialib.errors import BadRequest
from medialib.library.entries import get_entry
from medialib.library.focal_points import editor_point, picture_of, place_focal_point
from medialib.library.models import Entry
from medialib.parsing import whole_number
from medialib.web.deps import project_of, runtime, writer
from medialib.web.pictures import Marker, Paint, marker, paint, size_of
from medialib.web.session import Viewer

router = APIRouter()
PICTURE = {"w": "960", "auto": "format"}  # the rendition the page shows (the entry's preview)
SHOWN_WIDTH = 640  # CSS pixels the page shows a picture at, at most (40rem of medialib.css)
LARGEST_BOX = 100_000  # CSS pixels: no screen shows a picture larger


@dataclass(frozen=True)
class FocusView:
    """The picture whose focal point the entry page shows and moves: a video's poster, or the
    image itself."""

    src: str
    width: int  # as the page shows it, in CSS pixels (the form's default `shownWidth`)
    height: int
    view_width: int  # the picture's own size: the marker's coordinates
    view_height: int
    marker: Marker | None
    paint: Paint | None
    is_poster: bool


def focus_view(rt: Runtime, entry: Entry) -> FocusView | None:
    """What the entry page shows to place a focal point on; None when there is no picture to
    show (a file, a video without a poster, a revoked or invalid entry whose URLs answer 403,
    a store without renditions)."""
    picture = picture_of(entry.asset)
    if picture is None or entry.revoked or entry.invalid or not rt.urls.renders:
        return None
    width, height = size_of(picture)
    scale = min(1.0, SHOWN_WIDTH / width)
    return FocusView(
        src=rt.urls.rendition(str(picture["key"]), PICTURE),
        width=max(1, round(width * scale)),
        height=max(1, round(height * scale)),
        view_width=width,
        view_height=height,
        marker=marker(picture),
        paint=paint(entry.asset),
        is_poster=picture is not entry.asset,
    )


@router.post("/entries/{entry_id}/focus")
async def move_focal_point(
    request: Request, entry_id: str, who: Viewer = Depends(writer), rt: Runtime = Depends(runtime)
) -> Response:
    form = await request.form()
    entry = await get_entry(rt.db, who.principal.project, entry_id)
    picture = picture_of(entry.asset)
    if picture is None:
        raise BadRequest(details={"focalPoint": "this entry has no picture to place it on"})
    x, y = _fractions(form, size_of(picture))
    version = whole_number(_text(form, "version"))
    if version is None:
        raise BadRequest(details={"version": "must be a whole number"})
    await place_focal_point(
        rt.db, project_of(rt, who), entry_id, editor_point(x, y), who.actor, version
    )
    return RedirectResponse(f"/ui/entries/{entry_id}?focused=1", status_code=303)


def _fractions(form: FormData, picture: tuple[int, int]) -> tuple[float, float]:
    """The click as fractions of the picture (0..1 from its left and top edges)."""
    numbers = {
        name: _number(form, name) for name in ("focus.x", "focus.y", "shownWidth", "shownHeight")
    }
    problems = {name: "must be a number" for name, value in numbers.items() if value is None}
    for name in ("shownWidth", "shownHeight"):
        value = numbers[name]
        if value is not None and not 0 < value <= LARGEST_BOX:
            problems[name] = f"must be more than 0 and at most {LARGEST_BOX}"
    if problems:
        raise BadRequest(details=problems)
    click_x, click_y, box_w, box_h = (float(numbers[n] or 0) for n in numbers)
    # The picture inside its box as `object-fit: contain` shows it: as large as fits, centred.
    scale = min(box_w / picture[0], box_h / picture[1])
    shown_w, shown_h = picture[0] * scale, picture[1] * scale
    x = (click_x - (box_w - shown_w) / 2) / shown_w
    y = (click_y - (box_h - shown_h) / 2) / shown_h
    return x, y


def _number(form: FormData, name: str) -> float | None:
    """A finite number the form sent (a browser sends whole numbers; JavaScript's sizes have
    fractions); None for anything else, NaN and infinities too."""
    text = _text(form, name).strip()
    if not text or len(text) > 32:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""
