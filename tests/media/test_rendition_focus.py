"""Crops placed by the picture's faces and focal point (crop=faces, crop=focalpoint without
fp-x/fp-y), and what its entry stores of them read whatever it holds: pure functions."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medialib.media.analysis.records import Box
from medialib.media.renditions.geometry import (
    MAX_FACES,
    Plan,
    StoredFocus,
    faces_offset,
    plan,
    read_focus,
)
from medialib.media.renditions.params import Spec, parse_spec, variant_of


def spec(query: str) -> Spec:
    return parse_spec(tuple(part.split("=", 1)) for part in query.split("&") if part)  # type: ignore[misc]


def made(query: str, focus: StoredFocus) -> tuple[Spec, str]:
    """The spec a variant is made from, and its name, as a rendition request finds them."""
    asked = spec(query)
    if asked.uses_focus:
        asked = asked.focused(focus.point, focus.faces)
    return variant_of(asked, "jpg", 4096, True)


def planned(width: int, height: int, query: str, focus: StoredFocus) -> Plan:
    return plan(width, height, made(query, focus)[0], 4096)


def faces(*boxes: tuple[float, float, float, float]) -> StoredFocus:
    return read_focus(
        {"faces": [dict(zip(("x", "y", "width", "height"), b, strict=True)) for b in boxes]}
    )


def point(x: float, y: float) -> StoredFocus:
    return read_focus({"focalPoint": {"x": x, "y": y, "source": "saliency"}})


def kept_columns(made: Plan) -> tuple[float, float]:
    """The kept box's columns, as fractions of the picture's width."""
    assert made.keep is not None
    x, _, w, _ = made.keep
    return x / made.resized[0], (x + w) / made.resized[0]


def kept_rows(made: Plan) -> tuple[float, float]:
    assert made.keep is not None
    _, y, _, h = made.keep
    return y / made.resized[1], (y + h) / made.resized[1]


def holds(span: tuple[float, float], start: float, end: float, slack: float = 0.01) -> bool:
    return span[0] <= start + slack and end <= span[1] + slack


# --- Faces ----------------------------------------------------------------------------------


def test_a_face_off_centre_is_kept_and_the_crop_is_centred_on_it() -> None:
    # 1000 x 500 at 1:2: the crop is 250 of 1000 columns (a quarter), all the rows.
    made = planned(1000, 500, "w=200&h=400&fit=crop&crop=faces", faces((0.6, 0.3, 0.1, 0.2)))
    left, right = kept_columns(made)
    assert right - left == pytest.approx(0.25, abs=0.01)
    assert (left + right) / 2 == pytest.approx(0.65, abs=0.01)  # the face's centre
    assert kept_rows(made) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("face", "expected"),
    [
        ((0.0, 0.4, 0.05, 0.1), (0.0, 0.25)),  # at the left edge: the crop stops there
        ((0.97, 0.4, 0.03, 0.1), (0.75, 1.0)),  # at the right edge
        ((0.1, 0.0, 0.05, 0.05), (0.0, 0.25)),  # in a corner
    ],
)
def test_a_face_near_an_edge_is_kept_by_a_crop_moved_within_the_picture(
    face: tuple[float, float, float, float], expected: tuple[float, float]
) -> None:
    made = planned(1000, 500, "w=200&h=400&fit=crop&crop=faces", faces(face))
    assert kept_columns(made) == pytest.approx(expected, abs=0.005)
    assert holds(kept_columns(made), face[0], face[0] + face[2])


def test_a_face_larger_than_the_crop_centres_it() -> None:
    # A face across 60% of the width, cropped to a quarter of it: its middle is what shows.
    made = planned(1000, 500, "w=200&h=400&fit=crop&crop=faces", faces((0.1, 0.1, 0.6, 0.8)))
    left, right = kept_columns(made)
    assert (left + right) / 2 == pytest.approx(0.4, abs=0.01)


def test_several_faces_that_fit_are_all_kept_centred_on_their_box() -> None:
    group = faces((0.3, 0.2, 0.05, 0.1), (0.4, 0.25, 0.06, 0.1), (0.36, 0.5, 0.04, 0.08))
    made = planned(1000, 500, "w=200&h=400&fit=crop&crop=faces", group)
    left, right = kept_columns(made)
    assert holds((left, right), 0.3, 0.46)
    assert (left + right) / 2 == pytest.approx(0.38, abs=0.01)  # the middle of 0.3 .. 0.46


def test_faces_too_far_apart_keep_the_largest_and_those_that_fit_beside_it() -> None:
    # Faces at both ends of a panorama and one near the largest: a quarter cannot hold all.
    group = faces((0.02, 0.3, 0.05, 0.1), (0.8, 0.3, 0.08, 0.16), (0.9, 0.35, 0.04, 0.08))
    made = planned(1000, 500, "w=200&h=400&fit=crop&crop=faces", group)
    left, right = kept_columns(made)
    assert holds((left, right), 0.8, 0.94)  # the largest and its neighbour
    assert left > 0.07  # the lone face far left is let go


def test_16_to_9_of_a_portrait_keeps_a_face_high_up() -> None:
    # 600 x 1000 at 16:9: all 600 columns, 337.5 of 1000 rows.
    made = planned(600, 1000, "w=1600&h=900&fit=crop&crop=faces", faces((0.4, 0.08, 0.2, 0.12)))
    top, bottom = kept_rows(made)
    assert holds((top, bottom), 0.08, 0.2)
    assert top == 0.0  # centred on the face would start above the picture
    assert kept_columns(made) == (0.0, 1.0)


def test_faces_place_a_min_crop_as_a_crop() -> None:
    made = planned(1000, 500, "w=200&h=400&fit=min&crop=faces", faces((0.8, 0.3, 0.1, 0.2)))
    assert holds(kept_columns(made), 0.8, 0.9)


@pytest.mark.parametrize(("width", "height"), [(1, 1), (2, 1), (1, 3), (3, 2)])
def test_tiny_pictures_are_cropped_within_them(width: int, height: int) -> None:
    made = planned(width, height, "w=1&h=2&fit=crop&crop=faces", faces((0.5, 0.5, 0.5, 0.5)))
    assert made.keep is not None
    x, y, w, h = made.keep
    assert x >= 0
    assert x + w <= made.resized[0]
    assert y >= 0
    assert y + h <= made.resized[1]


def test_without_faces_crop_faces_goes_by_the_focal_point_then_the_centre() -> None:
    query = "w=200&h=400&fit=crop&crop=faces"
    by_point = planned(1000, 500, query, point(0.9, 0.5))
    assert kept_columns(by_point) == pytest.approx((0.75, 1.0), abs=0.005)
    assert (
        made(query, point(0.9, 0.5))[1]
        == made("w=200&h=400&fit=crop&crop=focalpoint", point(0.9, 0.5))[1]
    )
    centred = planned(1000, 500, query, StoredFocus())
    assert kept_columns(centred) == pytest.approx((0.375, 0.625), abs=0.005)
    # ... and names the variant a plain crop has: it is the same picture
    assert made(query, StoredFocus())[1] == made("w=200&h=400&fit=crop", StoredFocus())[1]


def test_faces_win_over_edges_entropy_and_a_focal_point() -> None:
    face = faces((0.8, 0.3, 0.1, 0.2))
    for query in ("crop=faces,left", "crop=entropy,faces", "crop=faces,focalpoint&fp-x=0.1"):
        made_plan = planned(1000, 500, f"w=200&h=400&fit=crop&{query}", face)
        assert not made_plan.entropy
        assert holds(kept_columns(made_plan), 0.8, 0.9), query


def test_faces_outside_a_rect_leave_its_crop_centred() -> None:
    # rect: the left half; the face is in the right half.
    made_plan = planned(
        1000, 500, "rect=0,0,500,500&w=100&h=200&fit=crop&crop=faces", faces((0.8, 0.3, 0.1, 0.2))
    )
    assert kept_columns(made_plan) == pytest.approx((0.25, 0.75), abs=0.01)


def test_a_face_inside_a_rect_is_found_in_its_terms() -> None:
    # rect: the right half, 500 columns; the face's centre at 850 is 70% of the way in.
    query = "rect=500,0,500,500&w=100&h=200&fit=crop&crop=faces"
    made_plan = planned(1000, 500, query, faces((0.8, 0.3, 0.1, 0.2)))
    left, right = kept_columns(made_plan)
    assert (left + right) / 2 == pytest.approx(0.7, abs=0.01)


def test_faces_offset_on_one_axis() -> None:
    assert faces_offset(100, 20, [(50.0, 60.0)]) == 45
    assert faces_offset(100, 20, [(0.0, 4.0)]) == 0
    assert faces_offset(100, 20, [(96.0, 100.0)]) == 80
    assert faces_offset(100, 100, [(10.0, 20.0)]) == 0  # the whole axis: nothing to move
    assert faces_offset(100, 20, [(40.0, 46.0), (50.0, 52.0), (90.0, 95.0)]) == 36  # 40 .. 52


@given(
    st.integers(1, 5000),
    st.integers(1, 5000),
    st.sampled_from(["w=200&h=400", "w=1600&h=900", "w=100&h=100", "w=400&h=50"]),
    st.lists(
        st.tuples(*[st.floats(0, 1, allow_nan=False)] * 4).filter(
            lambda b: b[2] >= 0.01 and b[3] >= 0.01
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_the_crop_stays_in_the_picture_and_keeps_the_faces_when_it_can(
    width: int, height: int, size: str, boxes: list[tuple[float, float, float, float]]
) -> None:
    focus = faces(*boxes)
    made_plan = planned(width, height, f"{size}&fit=crop&crop=faces", focus)
    assert made_plan.keep is not None
    x, y, w, h = made_plan.keep
    rw, rh = made_plan.resized
    assert x >= 0
    assert x + w <= rw
    assert y >= 0
    assert y + h <= rh
    if not focus.faces:
        return
    # When all faces with their margins fit in the crop, all are in it (a pixel of rounding).
    left = min(f.x for f in focus.faces) * rw
    right = max(f.x + f.width for f in focus.faces) * rw
    top = min(f.y for f in focus.faces) * rh
    bottom = max(f.y + f.height for f in focus.faces) * rh
    largest = focus.faces[0]
    if right - left + 2 * largest.width * rw / 3 <= w:
        assert x - 1 <= left
        assert right <= x + w + 1
    if bottom - top + 2 * largest.height * rh / 3 <= h:
        assert y - 1 <= top
        assert bottom <= y + h + 1


# --- The stored focal point ----------------------------------------------------------------


def test_crop_focalpoint_without_fp_uses_the_stored_point() -> None:
    made_plan = planned(1000, 500, "w=200&h=400&fit=crop&crop=focalpoint", point(0.1, 0.5))
    assert kept_columns(made_plan) == pytest.approx((0.0, 0.25), abs=0.005)
    # ... on the axis not given only: fp-x given wins
    given_x = planned(1000, 500, "w=200&h=400&fit=crop&crop=focalpoint&fp-x=0.9", point(0.1, 0.5))
    assert kept_columns(given_x) == pytest.approx((0.75, 1.0), abs=0.005)
    tall = planned(500, 1000, "w=400&h=200&fit=crop&crop=focalpoint&fp-x=0.9", point(0.1, 0.9))
    assert kept_rows(tall) == pytest.approx((0.75, 1.0), abs=0.005)  # y: the stored point's


def test_the_stored_point_is_moved_into_a_rect() -> None:
    # rect: columns 400 .. 800; the stored x 0.7 (column 700) is 75% of the way in.
    query = "rect=400,0,400,500&w=100&h=500&fit=crop&crop=focalpoint"
    made_plan = planned(1000, 500, query, point(0.7, 0.5))
    left, right = kept_columns(made_plan)
    assert (left + right) / 2 == pytest.approx(0.75, abs=0.01)
    outside = planned(1000, 500, query, point(0.1, 0.5))  # left of the rect: its left edge
    assert kept_columns(outside)[0] == 0.0


# --- Variant names --------------------------------------------------------------------------


def test_the_variant_changes_with_the_focus_it_uses() -> None:
    by_faces = "w=200&h=400&fit=crop&crop=faces"
    assert (
        made(by_faces, faces((0.1, 0.1, 0.1, 0.1)))[1]
        != made(by_faces, faces((0.2, 0.1, 0.1, 0.1)))[1]
    )
    by_point = "w=200&h=400&fit=crop&crop=focalpoint"
    assert made(by_point, point(0.1, 0.5))[1] != made(by_point, point(0.2, 0.5))[1]
    assert made(by_point, point(0.1, 0.5))[1] != made(by_point, StoredFocus())[1]
    # the focal point does not name a variant placed by faces
    both = read_focus(
        {
            "faces": [{"x": 0.1, "y": 0.1, "width": 0.1, "height": 0.1}],
            "focalPoint": {"x": 0.2, "y": 0.2},
        }
    )
    other = read_focus(
        {
            "faces": [{"x": 0.1, "y": 0.1, "width": 0.1, "height": 0.1}],
            "focalPoint": {"x": 0.9, "y": 0.9},
        }
    )
    assert made(by_faces, both)[1] == made(by_faces, other)[1]


@pytest.mark.parametrize(
    "query",
    [
        "w=200",
        "w=200&h=400",  # fit=clip cuts nothing
        "w=200&h=400&fit=crop",
        "w=200&h=400&fit=crop&crop=entropy",
        "w=200&h=400&fit=crop&crop=top,left",
        "w=200&h=400&fit=crop&crop=focalpoint&fp-x=0.3&fp-y=0.6",  # both given
        "w=200&h=400&fit=crop&crop=focalpoint,left,top",  # the edges decide both axes
        "w=200&fit=crop&crop=faces",  # one side: nothing is cut
    ],
)
def test_a_variant_that_does_not_use_the_focus_keeps_its_name(query: str) -> None:
    focus = read_focus(
        {
            "focalPoint": {"x": 0.2, "y": 0.7, "source": "faces"},
            "faces": [{"x": 0.15, "y": 0.6, "width": 0.1, "height": 0.2}],
        }
    )
    focused = spec(query).focused(focus.point, focus.faces)
    assert (
        variant_of(focused, "jpg", 4096, True)[1] == variant_of(spec(query), "jpg", 4096, True)[1]
    )


@pytest.mark.parametrize(
    ("query", "output", "stored_name"),
    [
        ("w=64", "jpg", "55a07b1e8c46a57bd86888e8e8d759b4"),
        ("w=64&h=64&fit=crop&crop=focalpoint&fp-x=0.1", "jpg", "4e771f08d54441c90702b9cae13d15b3"),
        ("w=64&h=64&fit=crop&crop=focalpoint&fp-y=0.7", "png", "2060967610ee4ae20b1a145148690849"),
        ("w=200&h=400&fit=crop&crop=faces", "jpg", "1bc34e8ed458959945360e8e2440a53c"),
    ],
)
def test_variants_stored_before_pictures_had_a_focus_keep_their_names(
    query: str, output: str, stored_name: str
) -> None:
    """Names as medialib gave them before focal points and faces (a picture without them asked
    for crop=faces gets the centred crop it got then): stored variants stay found."""
    assert variant_of(spec(query), output, 4096, True)[1] == stored_name
    unfocused = spec(query).focused(None, ())
    assert variant_of(unfocused, output, 4096, True)[1] == stored_name


@given(
    st.sampled_from(
        [
            "w=200&h=400&fit=crop&crop=faces",
            "w=200&h=400&fit=min&crop=focalpoint",
            "w=200&h=400&fit=crop&crop=focalpoint&fp-y=0.2",
            "w=200&h=400&fit=crop&crop=faces,top",
            "w=200&h=400&fit=crop&crop=entropy,faces",
        ]
    ),
    st.one_of(st.none(), st.tuples(st.floats(0, 1), st.floats(0, 1))),
    st.lists(st.tuples(*[st.floats(0, 1)] * 4), max_size=3),
)
def test_a_variants_spec_names_itself(
    query: str,
    stored_point: tuple[float, float] | None,
    boxes: list[tuple[float, float, float, float]],
) -> None:
    focus = read_focus(
        {
            "focalPoint": None
            if stored_point is None
            else dict(zip("xy", stored_point, strict=True)),
            "faces": [dict(zip(("x", "y", "width", "height"), b, strict=True)) for b in boxes],
        }
    )
    variant, name = made(query, focus)
    assert variant_of(variant, "jpg", 4096, True) == (variant, name)  # nothing left to take out


# --- What the entry stores, whatever it holds -------------------------------------------------

FACE = {"x": 0.1, "y": 0.2, "width": 0.3, "height": 0.4}
HOSTILE_VALUES: list[Any] = [
    math.nan,
    math.inf,
    -math.inf,
    -0.1,
    1.5,
    10**400,
    -(10**400),
    "0.5",
    None,
    True,
    [0.5],
    {"x": 0.5},
]


def short(value: Any) -> str:
    return repr(value)[:12]


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=short)
@pytest.mark.parametrize("name", ["x", "y"])
def test_a_focal_point_with_a_bad_value_is_none(name: str, value: Any) -> None:
    stored = {"x": 0.3, "y": 0.4, "source": "faces"} | {name: value}
    assert read_focus({"focalPoint": stored}).point is None


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=short)
@pytest.mark.parametrize("name", ["x", "y", "width", "height"])
def test_a_face_with_a_bad_value_is_left_out(name: str, value: Any) -> None:
    found = read_focus({"faces": [FACE | {name: value}, FACE]})
    assert found.faces == (Box(0.1, 0.2, 0.3, 0.4),)


@pytest.mark.parametrize(
    "asset",
    [
        None,
        [],
        "faces",
        {},
        {"focalPoint": "middle", "faces": "all"},
        {"focalPoint": [0.5, 0.5], "faces": {"x": 0.1}},
        {"focalPoint": {"y": 0.5}, "faces": [{"x": 0.1, "y": 0.1, "width": 0.1}]},  # missing keys
        {"focalPoint": {}, "faces": [None, 1, "face", [], [0.1, 0.1, 0.1, 0.1]]},
        {"faces": [{"x": 0.5, "y": 0.5, "width": 0, "height": 0.1}]},  # no area
        {"faces": [{"x": 1, "y": 1, "width": 0.2, "height": 0.2}]},  # all past the edge
    ],
)
def test_what_holds_no_focus_is_none(asset: Any) -> None:
    assert read_focus(asset) == StoredFocus()


def test_a_face_past_the_edge_is_cut_to_the_picture() -> None:
    found = read_focus({"faces": [{"x": 0.9, "y": 0.8, "width": 0.5, "height": 1}]})
    assert found.faces == (Box(0.9, 0.8, pytest.approx(0.1), pytest.approx(0.2)),)  # type: ignore[arg-type]


def test_json_with_nan_stored_as_text_is_no_focus() -> None:
    # SQLite keeps JSON as text, and Python's json reads NaN and Infinity from it.
    stored = json.loads('{"focalPoint": {"x": NaN, "y": Infinity}, "faces": [{"x": NaN}]}')
    assert read_focus(stored) == StoredFocus()


def test_a_long_list_of_faces_is_bounded_largest_first() -> None:
    many = [
        {"x": i / 20_000, "y": 0.5, "width": 0.01 + i / 1_000_000, "height": 0.01}
        for i in range(10_000)
    ]
    found = read_focus({"faces": many})
    assert len(found.faces) == MAX_FACES
    areas = [face.width * face.height for face in found.faces]
    assert areas == sorted(areas, reverse=True)


def test_whole_numbers_are_fractions_too() -> None:
    found = read_focus(
        {"focalPoint": {"x": 0, "y": 1}, "faces": [{"x": 0, "y": 0, "width": 1, "height": 1}]}
    )
    assert found == StoredFocus((0.0, 1.0), (Box(0.0, 0.0, 1.0, 1.0),))
