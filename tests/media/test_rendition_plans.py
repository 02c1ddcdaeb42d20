"""imgix's parameters read into specs, and the geometry planned from them: pure functions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medialib.errors import BadRequest
from medialib.media.renditions.geometry import check_work, plan
from medialib.media.renditions.params import Spec, output_format, parse_spec, variant_of
from medialib.media.urls import is_signed, signature


def spec(query: str) -> Spec:
    return parse_spec(tuple(part.split("=", 1)) for part in query.split("&") if part)  # type: ignore[misc]


def name(query: str, output: str, alpha: bool = True) -> str:
    return variant_of(spec(query), output, 4096, alpha)[1]


def test_equal_requests_share_a_digest() -> None:
    assert name("w=400&dpr=2", "webp") == name("w=800", "webp")
    assert name("w=400&dpr=2", "webp") != name("w=400", "webp")
    assert name("w=800&fit=clip", "jpg") == name("fit=clip&w=800.0&x=1", "jpg")
    assert name("w=800", "jpg") != name("w=800", "webp")
    # auto=format names no variant of its own: the output format it settles on does
    assert name("w=8&auto=format", "webp") == name("w=8&auto=format,compress", "webp")
    assert name("w=8&auto=format", "webp") == name("w=8", "webp")
    assert name("w=8&fm=webp", "webp") == name("w=8", "webp")


@pytest.mark.parametrize(
    ("one", "other", "output"),
    [
        ("w=64&h=64&fit=scale&q=1", "w=64&h=64&fit=scale&q=2", "png"),  # q: lossy outputs only
        ("w=64&q=1", "w=64", "gif"),
        ("w=64&q=75", "w=64", "jpg"),  # imgix's default
        ("w=64&fp-x=0.123&fp-y=0.9", "w=64", "jpg"),  # no focal point crop
        ("w=64&h=64&fit=crop&fp-x=0.1", "w=64&h=64&fit=crop", "jpg"),
        ("w=64&h=64&fit=crop&crop=focalpoint&fp-x=0.5", "w=64&h=64&fit=crop", "jpg"),
        ("w=64&h=64&fit=crop&crop=left,focalpoint&fp-x=0.1", "w=64&h=64&fit=crop&crop=left", "jpg"),
        ("w=64&h=64&fit=crop&crop=left,right", "w=64&h=64&fit=crop", "jpg"),
        ("w=64&h=64&fit=crop&crop=top,left", "w=64&h=64&fit=crop&crop=left,top,faces", "jpg"),
        (
            "w=64&h=64&fit=crop&crop=entropy,focalpoint&fp-x=0.2",
            "w=64&h=64&fit=crop&crop=entropy",
            "jpg",
        ),
        ("w=64&crop=top", "w=64", "jpg"),  # one side: nothing is cut
        ("w=64&h=64&crop=top", "w=64&h=64", "jpg"),  # fit=clip cuts nothing
        ("w=64&fit=crop", "w=64", "jpg"),  # one side: every fit but max and min is clip
        ("w=64&fit=min", "w=64&fit=max", "jpg"),
        ("fit=crop&dpr=3&q=40", "fit=max", "png"),  # no size: the source's
        ("w=64&bg=800000ff", "w=64", "png"),  # a translucent bg shows under nothing
        ("w=64&bg=fff", "w=64", "jpg"),  # white is a JPEG's own background
        ("w=64&fill-color=f00", "w=64", "jpg"),  # no fit=fill
        ("w=64&h=64&fit=fill&fill-color=fff", "w=64&h=64&fit=fill", "jpg"),
        ("w=64&h=64&fit=fill&fill-color=00f&bg=00f", "w=64&h=64&fit=fill&bg=00f", "png"),
        ("w=5000", "w=6000", "jpg"),  # both clamped to 4096 wide
        ("w=5000&h=100", "w=4096&h=100", "jpg"),
        ("w=2500&dpr=2&h=10&fit=crop", "w=8192&h=32&fit=crop", "jpg"),  # the box shrunk whole
        ("w=4096&h=4096&fit=scale&fm=png&q=1", "w=5000&h=5000&fit=scale&q=2", "png"),
    ],
)
def test_what_cannot_change_the_bytes_names_no_variant(one: str, other: str, output: str) -> None:
    assert name(one, output) == name(other, output)


def test_a_background_names_no_variant_of_a_source_that_cannot_be_transparent() -> None:
    assert name("w=64&bg=00f", "png", alpha=False) == name("w=64", "png", alpha=False)
    assert name("w=64&bg=00f", "png", alpha=True) != name("w=64", "png", alpha=True)


@pytest.mark.parametrize(
    ("one", "other", "output"),
    [
        ("w=64&q=1", "w=64&q=2", "jpg"),
        ("w=64&q=1", "w=64&q=2", "webp"),
        ("w=64&h=64&fit=crop&crop=focalpoint&fp-x=0.1", "w=64&h=64&fit=crop", "jpg"),
        ("w=64&h=64&fit=min&crop=left", "w=64&h=64&fit=min", "jpg"),
        ("w=64&h=64&fit=crop&crop=entropy,left", "w=64&h=64&fit=crop&crop=entropy", "jpg"),
        ("w=64&h=32&fit=crop", "w=64&h=32", "jpg"),
        ("w=64&fit=max", "w=64", "jpg"),  # max never grows
        ("w=64&bg=00f", "w=64", "png"),  # an opaque bg under a transparent PNG
        ("w=64&bg=800000ff", "w=64", "jpg"),  # a JPEG lays it under, whatever its alpha
        ("w=64&h=64&fit=fill&bg=00f", "w=64&h=64&fit=fill", "png"),
        ("w=64&h=64&fit=fill&fill-color=f00&bg=00f", "w=64&h=64&fit=fill&bg=00f", "png"),
        ("w=4000", "w=4096", "jpg"),  # below the clamp, each width is its own
        ("w=5000&h=100&fit=crop", "w=4096&h=100&fit=crop", "jpg"),  # the box keeps its shape
        ("w=0.5&dpr=2", "w=0.5", "jpg"),
        ("rect=0,0,10,10", "rect=0,0,10,11", "jpg"),
        ("w=64", "w=64", "pjpg"),
    ],
)
def test_what_changes_the_bytes_names_a_variant_of_its_own(
    one: str, other: str, output: str
) -> None:
    assert name(one, "jpg" if output == "pjpg" else output) != name(other, output)


def test_a_repeated_parameter_counts_once_and_the_last_wins() -> None:
    assert spec("w=10&w=20").w == 20


@pytest.mark.parametrize(
    ("fm", "auto", "accept", "source", "expected"),
    [
        ("png", True, "image/avif", "image/jpeg", "png"),
        (None, True, "image/avif,image/webp", "image/jpeg", "avif"),
        (None, True, "image/webp", "image/png", "webp"),
        (None, True, "text/html", "image/webp", "png"),
        (None, False, "image/avif", "image/webp", "webp"),
        (None, False, None, "image/tiff", "jpg"),
    ],
)
def test_output_formats(
    fm: str | None, auto: bool, accept: str | None, source: str, expected: str
) -> None:
    assert output_format(Spec(fm=fm, auto_format=auto), source, accept) == expected


def test_colours_are_imgix_hex() -> None:
    assert spec("bg=f00").bg == (255, 0, 0, 255)
    assert spec("bg=8000ff00").bg == (0, 255, 0, 128)  # AARRGGBB
    assert spec("bg=%23abc".replace("%23", "#")).bg == (170, 187, 204, 255)


@given(
    st.integers(1, 20_000),
    st.integers(1, 20_000),
    st.sampled_from(["clip", "crop", "max", "min", "scale", "fill"]),
    st.one_of(st.none(), st.integers(1, 10_000)),
    st.one_of(st.none(), st.integers(1, 10_000)),
    st.sampled_from([1.0, 2.0, 5.0]),
)
def test_no_plan_exceeds_the_cap_or_leaves_the_picture(
    width: int, height: int, fit: str, w: int | None, h: int | None, dpr: float
) -> None:
    made = plan(width, height, Spec(w=w, h=h, fit=fit, dpr=dpr), max_side=4096)
    out_w, out_h = made.size
    assert 1 <= out_w <= 4096
    assert 1 <= out_h <= 4096
    if made.keep is not None:
        x, y, kw, kh = made.keep
        assert x >= 0
        assert x + kw <= made.resized[0]
        assert y >= 0
        assert y + kh <= made.resized[1]


def test_a_rect_outside_the_picture_is_refused() -> None:
    with pytest.raises(BadRequest):
        plan(100, 100, Spec(rect=(100, 0, 10, 10)), 4096)


def test_signatures_are_imgixs() -> None:
    # imgix's documented scheme: md5(token + path + "?" + query)
    assert signature("tok", "/a.jpg", "w=1") == "e9a8d61a21765150eaf2f1bbf061fa2f"
    good = signature("tok", "/media/a.jpg", "w=1")
    assert is_signed("tok", ("/media/a.jpg",), f"w=1&s={good}")
    assert not is_signed("tok", ("/media/a.jpg",), f"s={good}&w=1")  # s comes last
    assert not is_signed("tok", ("/media/a.jpg",), "w=1")
    assert not is_signed("other", ("/media/a.jpg",), f"w=1&s={good}")


def test_an_entropy_crop_counts_the_whole_region_it_searches() -> None:
    # A 6000 x 100 strip cropped to a 4096 square: grown 41 times, to 245,760 x 4,096.
    centred = plan(6000, 100, spec("w=4096&h=4096&fit=crop"), 4096)
    busiest = plan(6000, 100, spec("w=4096&h=4096&fit=crop&crop=entropy"), 4096)
    check_work(centred, 1, 24_000_000, 96_000_000)  # makes only the kept 4096 x 4096
    with pytest.raises(BadRequest) as refused:
        check_work(busiest, 1, 24_000_000, 96_000_000)  # searches all of it
    assert "245760x4096 = 1,006,632,960 pixels, more than 24,000,000" in str(refused.value.details)
