"""medialib/parsing.py as properties (hypothesis): for any text, each reader answers a value that
keeps its promise or None, and never raises; what obeys its rule is always read."""

from __future__ import annotations

import datetime as dt
import re

import pydantic
from hypothesis import example, given
from hypothesis import strategies as st

from medialib.library.models import AssetIn
from medialib.library.uploads import UploadIn
from medialib.parsing import in_utc, is_media_type, whole_number
from tests.support.strategies import any_times, number_texts

# RFC 9110: a header field value is visible ASCII and spaces; a media type is token/token.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


@given(number_texts | st.text(max_size=30))
@example("\u00b2")  # '²': str.isdigit is True, int refuses it
@example("\u0661\u0662")  # Arabic-Indic 12: int reads it
@example("1_000")
@example(" 7")
@example("9" * 5000)  # past int's 4300 digits
def test_a_whole_number_is_ascii_digits_or_none(text: str) -> None:
    number = whole_number(text)

    if number is None:
        return
    assert text.isascii()
    assert text.isdigit()
    assert len(text) <= 20
    assert number == int(text)


@given(st.integers(min_value=0, max_value=10**20 - 1), st.integers(min_value=0, max_value=3))
def test_every_whole_number_written_in_ascii_is_read(number: int, zeros: int) -> None:
    text = "0" * zeros + str(number)

    assert whole_number(text, max_digits=len(text)) == number


@given(st.integers(min_value=1, max_value=30), st.text(max_size=40))
def test_a_whole_number_never_has_more_digits_than_allowed(most: int, text: str) -> None:
    if whole_number(text, max_digits=most) is not None:
        assert len(text) <= most


media_names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,30}", fullmatch=True)
registered_types = st.builds(lambda top, sub: f"{top}/{sub}", media_names, media_names)
typeish = st.builds(
    lambda top, sep, sub: f"{top}{sep}{sub}",
    media_names | st.text(max_size=8),
    st.sampled_from(("/", "/", "//", "", ";", " / ")),
    media_names | st.text(max_size=8),
)


def _is_header_value(text: str) -> bool:
    return all(" " <= c <= "~" for c in text)


@given(registered_types | typeish | st.text(max_size=20))
@example("application/x\u4e00")
@example("application/x\u00e9")
@example("text/plain\n")
@example("*/*")
def test_a_media_type_can_always_be_a_header_value(text: str) -> None:
    if not is_media_type(text):
        return
    top, sub = text.split("/")
    assert _TOKEN.fullmatch(top)
    assert _TOKEN.fullmatch(sub)
    assert _is_header_value(text)
    text.encode("latin-1")  # what a response header is written in


@given(registered_types)
def test_every_registered_media_type_is_one(text: str) -> None:
    assert is_media_type(text)


def _taken(model: type[pydantic.BaseModel], **fields: object) -> bool:
    try:
        model.model_validate(fields)
    except pydantic.ValidationError:
        return False
    return True


@given(registered_types | typeish | st.text(max_size=20))
@example("application/x\u4e00")
@example("a/b\n")  # pydantic's `$` is the end of the text; Python's also matches before a newline
def test_the_models_take_exactly_the_media_types_the_rule_takes(text: str) -> None:
    """pydantic reads MEDIA_TYPE_PATTERN with Rust's regular expressions, medialib with
    Python's: both must draw the same line."""
    expected = is_media_type(text) and len(text) <= 200

    assert _taken(AssetIn, key="k", mimeType=text) == expected
    assert _taken(UploadIn, fileName="a", mimeType=text, size=1) == expected


@given(any_times)
@example(dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14))))
@example(dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.timezone(-dt.timedelta(hours=14))))
def test_a_time_in_utc_is_the_same_moment_or_none(when: dt.datetime) -> None:
    found = in_utc(when)

    if found is None:
        assert when.tzinfo is not None  # a time without a zone is UTC already
        return
    assert found.utcoffset() == dt.timedelta(0)
    if when.tzinfo is None:
        assert found.replace(tzinfo=None) == when
    else:
        assert found == when


@given(st.datetimes(), st.timedeltas(dt.timedelta(hours=-14), dt.timedelta(hours=14)))
def test_a_time_whose_utc_moment_is_in_the_calendar_is_read(
    local: dt.datetime, utc_offset: dt.timedelta
) -> None:
    try:
        utc = local - utc_offset  # the same moment in UTC, if the calendar holds it
    except OverflowError:
        return

    found = in_utc(local.replace(tzinfo=dt.timezone(utc_offset)))

    assert found == utc.replace(tzinfo=dt.UTC)
