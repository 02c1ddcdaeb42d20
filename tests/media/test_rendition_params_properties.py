"""imgix's parameters as properties (hypothesis): any query is a spec or a BadRequest naming
parameters it was given, never another exception; a spec can always be named (its digest), folded
(`normalised`) and planned for any source; and what imgix's clients send is read."""

from __future__ import annotations

import math

from hypothesis import example, given
from hypothesis import strategies as st

from medialib.errors import BadRequest
from medialib.media.renditions.geometry import plan
from medialib.media.renditions.params import (
    FORMATS,
    MAX_DPR,
    MAX_PIXELS,
    RENDITION_PARAMS,
    Spec,
    parse_spec,
    variant_of,
)
from tests.support.strategies import number_texts

NAMES = sorted(RENDITION_PARAMS | {"s", "ixlib", "W", "w "})
words = st.sampled_from(
    (
        *("clip", "crop", "max", "min", "scale", "fill", "top,left", "focalpoint", "faces,edges"),
        *FORMATS,
        *("format", "format,compress", "fff", "#80ff0000", "", " ", ",", "0,0,10,10", "1,2,3"),
    )
)
values = (
    number_texts
    | words
    | st.lists(number_texts, min_size=3, max_size=5).map(",".join)
    | st.text(max_size=12)
)
queries = st.lists(st.tuples(st.sampled_from(NAMES), values), max_size=6)


def _parsed(query: list[tuple[str, str]]) -> Spec | BadRequest:
    try:
        return parse_spec(query)
    except BadRequest as error:
        return error


@given(queries)
@example([("w", "1e308"), ("dpr", "2")])
@example([("h", "9" * 400), ("dpr", "5")])
@example([("q", "\u00b2")])
@example([("rect", "0,0,1e308,1e308")])
@example([("w", "1e-320")])
def test_a_query_is_a_spec_that_can_be_named_or_a_400_naming_its_parameters(
    query: list[tuple[str, str]],
) -> None:
    spec = _parsed(query)

    if isinstance(spec, BadRequest):
        assert spec.details
        assert set(spec.details) <= {name for name, _ in query}
        assert all(isinstance(message, str) for message in spec.details.values())
        return
    folded = spec.normalised()
    for size in (folded.w, folded.h):
        assert size is None or (math.isfinite(size) and 0 < size <= MAX_PIXELS * MAX_DPR)
    assert 1 <= folded.dpr <= MAX_DPR
    assert spec.q is None or 1 <= spec.q <= 100
    for output in FORMATS:
        assert len(variant_of(spec, output, 4096, alpha=True)[1]) == 32


@given(queries, st.integers(1, 100_000), st.integers(1, 100_000))
@example([("w", "1e308"), ("dpr", "2")], 640, 480)
@example([("w", "0.5"), ("h", "1e308"), ("fit", "fill")], 640, 480)
def test_a_spec_is_planned_for_any_source_within_the_cap(
    query: list[tuple[str, str]], width: int, height: int
) -> None:
    spec = _parsed(query)
    if isinstance(spec, BadRequest):
        return
    try:
        made = plan(width, height, spec, max_side=4096)
    except BadRequest as error:  # a rect that starts outside the picture
        refused = error
    else:
        assert all(1 <= side <= 4096 for side in made.size)
        return

    assert set(refused.details) == {"rect"}


sizes = st.integers(1, MAX_PIXELS).map(str) | st.floats(0.01, 0.99).map(repr)


@given(
    sizes,
    sizes,
    st.sampled_from(("1", "2", "1.5", "5")),
    st.integers(1, 100).map(str),
    st.sampled_from(FORMATS),
)
def test_what_imgix_clients_send_is_read(w: str, h: str, dpr: str, q: str, fm: str) -> None:
    # The other side of the properties above, so that they cannot pass by refusing everything.
    spec = parse_spec([("w", w), ("h", h), ("dpr", dpr), ("q", q), ("fm", fm), ("fit", "crop")])

    assert spec.w == (float(w) if float(w) < 1 else float(round(float(w))))
    assert spec.q == int(q)
    assert variant_of(spec, fm, 4096, alpha=True)[1]


@given(
    queries,
    st.integers(1, 20_000),
    st.integers(1, 20_000),
    st.sampled_from(FORMATS),
    st.booleans(),
)
@example([("w", "5000"), ("h", "4999"), ("fit", "crop")], 640, 480, "png", True)
@example([("w", "3000"), ("h", "9000"), ("fit", "clip")], 640, 4800, "jpg", False)
@example([("w", "400"), ("dpr", "2"), ("crop", "left,right,entropy")], 640, 480, "jpg", True)
def test_a_variant_is_named_by_a_spec_that_plans_the_same_picture(
    query: list[tuple[str, str]], width: int, height: int, output: str, alpha: bool
) -> None:
    spec = _parsed(query)
    if isinstance(spec, BadRequest):
        return
    made, name = variant_of(spec, output, 1024, alpha)
    try:
        asked = plan(width, height, spec, max_side=1024)
    except BadRequest:  # a rect that starts outside the picture: the same for both
        return
    kept = plan(width, height, made, max_side=1024)

    assert variant_of(made, output, 1024, alpha) == (made, name)  # nothing left to take out
    # The same picture: the same box cut from the same place, the same canvas; a size the
    # clamp to max_side made may round by a pixel the other way.
    assert (kept.keep is None, kept.canvas is None) == (asked.keep is None, asked.canvas is None)
    assert kept.entropy == asked.entropy
    assert all(abs(a - b) <= 1 for a, b in zip(kept.size, asked.size, strict=True))
    if max(asked.size) < 1024:
        assert kept == asked
