"""Keyset cursors as properties (hypothesis): any text a caller sends as a cursor is a position
both databases can compare (a time in UTC, an id of the id alphabet) or a BadRequest naming the
cursor; every position medialib hands out comes back as it was."""

from __future__ import annotations

import base64
import datetime as dt

from hypothesis import example, given
from hypothesis import strategies as st

from medialib.db.keyset import decode, encode
from medialib.errors import BadRequest
from tests.support.strategies import any_times

ROW_IDS = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)


def _cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# Cursors medialib could have made, and near misses: times anywhere in the calendar with any
# offset, ids with a character too many.
forged = st.builds(
    lambda when, row_id: _cursor_of(f"{when.isoformat()}|{row_id}"),
    any_times,
    ROW_IDS | st.text(max_size=8),
)


def _decoded(cursor: str) -> tuple[dt.datetime, str] | BadRequest:
    try:
        return decode(cursor)
    except BadRequest as error:
        return error


@given(forged | st.text(max_size=80))
@example(_cursor_of("0001-01-01T00:00:00+14:00|abc"))
@example(_cursor_of("9999-12-31T23:59:59.999999-14:00|abc"))
@example(_cursor_of("2026-01-01T00:00:00+00:00|abc\n"))
@example("\u00b2")
def test_a_cursor_is_a_position_in_utc_or_a_400_naming_it(cursor: str) -> None:
    decoded = _decoded(cursor)

    if isinstance(decoded, BadRequest):
        assert decoded.details == {"cursor": "is not a cursor this API gave"}
        return
    when, row_id = decoded
    assert when.utcoffset() == dt.timedelta(0)
    assert when.tzinfo is dt.UTC
    assert row_id.isascii()
    assert row_id.strip() == row_id
    assert 1 <= len(row_id) <= 64


@given(st.datetimes(timezones=st.just(dt.UTC)), ROW_IDS)
def test_every_position_medialib_hands_out_comes_back(when: dt.datetime, row_id: str) -> None:
    assert decode(encode(when, row_id)) == (when, row_id)
