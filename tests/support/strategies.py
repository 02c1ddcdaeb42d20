"""hypothesis strategies for what callers send: any JSON a body can carry, and well-formed shapes
broken now and then (a field missing, one unknown, a value of any type in its place)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

# What a request body can carry once parsed: integers of at most 64 bits, finite floats.
body_integers = st.integers(min_value=-(2**63), max_value=2**64 - 1)
json_scalars = (
    st.none()
    | st.booleans()
    | body_integers
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


def storable_texts(min_size: int = 0, max_size: int | None = None) -> st.SearchStrategy[str]:
    """Text that any database of medialib's stores as it came: no NUL (PostgreSQL holds none)
    and no lone surrogate (not UTF-8); library/storable.py refuses both."""
    characters = st.characters(codec="utf-8", exclude_characters="\x00")
    return st.text(characters, min_size=min_size, max_size=max_size)


# 1 in 30, on a value hypothesis does not favour (it likes 0 and the bounds): rare enough that
# a shape with a dozen fields still comes through whole often.
rarely = st.integers(0, 29).map(lambda n: n == 17)


@st.composite
def maybe(draw: st.DrawFn, value: st.SearchStrategy[Any]) -> Any:
    """The field as it should be, or now and then anything at all in its place."""
    return draw(json_values if draw(rarely) else value)


@st.composite
def mangled(draw: st.DrawFn, shape: dict[str, Any]) -> dict[str, Any]:
    """Now and then without a field, or with one it does not know."""
    kept = {k: v for k, v in shape.items() if not draw(rarely)}
    if draw(rarely):
        kept[draw(st.sampled_from(("extra", "ID", "Url", "mediatype")))] = draw(json_values)
    return kept


# The text of numbers where a parser most likely trips: ASCII digits among signs, points,
# exponents, underscores and spaces; other scripts' digits (which `int` reads) and characters
# `str.isdigit` takes that `int` refuses ('²', '①'); floats' and big integers' own spellings.
odd_digits = st.characters(categories=("Nd", "No"))
number_texts = (
    st.text(st.sampled_from("0123456789+-.eE_ ") | odd_digits, max_size=25)
    | st.floats().map(repr)
    | st.integers(min_value=-(10**30), max_value=10**30).map(str)
    | st.sampled_from(("1e308", "1e309", "-0", "inf", "nan", "1" * 5000, "\u00b2", "\u0665"))
)

# Any fixed UTC offset a time can carry (ISO 8601 allows up to ±23:59), and times anywhere in the
# calendar: hypothesis tries its edges, where a shift to UTC leaves it.
utc_offsets = st.builds(
    dt.timezone,
    st.timedeltas(
        min_value=-dt.timedelta(hours=23, minutes=59), max_value=dt.timedelta(hours=23, minutes=59)
    ),
)
any_times = st.datetimes(timezones=st.none() | st.just(dt.UTC) | utc_offsets)
