"""Values read from text strangers send (query strings, cookies, headers, bodies), by rules that
hold for every input: each function answers a value, or None (False) for text that is not one,
and never raises. Callers turn a None into the refusal of their place (a 400 naming the field).

Python's own readers hold no such rules: `str.isdigit` is True for '²' and '①', which `int`
refuses; `int` takes Arabic-Indic digits, '1_000' and ' 7', and refuses more than 4300 digits;
`datetime.astimezone` overflows at the calendar's edges. A leaf, like `errors` and `settings`:
it imports nothing of medialib.
"""

from __future__ import annotations

import datetime as dt
import re

_DIGITS = re.compile(r"[0-9]+")

# A media type as RFC 6838 registers them (`type/subtype`, restricted names): ASCII letters,
# digits and `!#$&^_.+-`, beginning with a letter or digit, at most 127 characters each. Every
# such name is an RFC 9110 token, so a type that passes can always be a header value. The same
# text works for pydantic's (Rust) regular expressions and Python's: no `\w`, which both read
# as Unicode.
_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
MEDIA_TYPE_PATTERN = rf"^{_NAME}/{_NAME}$"
IMAGE_TYPE_PATTERN = rf"^image/{_NAME}$"
_MEDIA_TYPE = re.compile(rf"{_NAME}/{_NAME}")


def whole_number(text: str, max_digits: int = 20) -> int | None:
    """The whole number `text` spells in ASCII digits (no sign, no space), or None. At most
    `max_digits` digits: 20 hold every 64-bit number."""
    if len(text) > max_digits or not _DIGITS.fullmatch(text):
        return None
    return int(text)


def is_media_type(text: str) -> bool:
    """Whether `text` is a media type without parameters (`image/jpeg`), by MEDIA_TYPE_PATTERN."""
    return _MEDIA_TYPE.fullmatch(text) is not None


def in_utc(when: dt.datetime) -> dt.datetime | None:
    """`when` as a time in UTC (a time without a zone is taken as UTC already), or None when its
    UTC time is outside the calendar a datetime holds: 0001-01-01T00:00:00+14:00 is in year 0."""
    if when.tzinfo is None or when.utcoffset() is None:
        return when.replace(tzinfo=dt.UTC)
    try:
        return when.astimezone(dt.UTC)
    except OverflowError:
        return None
