"""An editor's focal point as the library checks it (library/focal_points.py): fractions of the
picture, and only of a picture (the web view's use is in tests/web/test_focal_points.py)."""

from __future__ import annotations

import pytest

from medialib.errors import BadRequest
from medialib.library.focal_points import editor_point, picture_of
from medialib.media.analysis.records import FocusSource

IMAGE = {"key": "a.jpeg", "mimeType": "image/jpeg", "width": 640, "height": 480}
POSTER = {"key": "p.jpeg", "width": 640, "height": 480}


@pytest.mark.parametrize(
    ("x", "y"),
    [(-0.0001, 0.5), (1.0001, 0.5), (0.5, float("nan")), (float("inf"), 0.5), (-1e308, 1e308)],
)
def test_a_point_outside_the_picture_is_refused(x: float, y: float) -> None:
    with pytest.raises(BadRequest) as refused:
        editor_point(x, y)
    assert set(refused.value.details) <= {"focalPoint.x", "focalPoint.y"}
    assert refused.value.details


@pytest.mark.parametrize(("x", "y"), [(0.0, 0.0), (1.0, 1.0), (0.3333, 0.6667)])
def test_a_point_on_the_picture_is_the_editors(x: float, y: float) -> None:
    point = editor_point(x, y)
    assert (point.x, point.y, point.source) == (x, y, FocusSource.EDITOR)


def test_only_an_image_or_a_videos_poster_has_a_picture() -> None:
    assert picture_of(IMAGE) is IMAGE
    video = {"key": "v.mp4", "mimeType": "video/mp4", "poster": POSTER}
    assert picture_of(video) is POSTER
    assert picture_of({"key": "v.mp4", "mimeType": "video/mp4"}) is None
    assert picture_of({"key": "v.mp4", "mimeType": "video/mp4", "poster": "p.jpeg"}) is None
    assert picture_of({"key": "v.mp4", "mimeType": "video/mp4", "poster": {"width": 1}}) is None
    assert picture_of({"key": "d.pdf", "mimeType": "application/pdf", "poster": POSTER}) is None
    assert picture_of({"key": "x"}) is None
