"""What the library can store: values that come back exactly as they went in, on both databases.

That is JSON that orjson writes again (nesting at most 254 deep, integers within 64 bits) and
text without NUL characters (PostgreSQL holds none in `text` or `jsonb`). The models every
caller fills (entries, patches, imports) are `StorableIn`s and check their values here, so the
API, the web view and the command line refuse the same values with the same words; the HTTP
layer's early check of a whole body (`loads`) says them too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import orjson
from pydantic import BaseModel, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from medialib.errors import BadRequest

MAX_DEPTH = 254  # orjson's writer nests no deeper
NUL = "NUL characters (\\u0000) are not accepted."
BIG_INTEGER = "Integers beyond 64 bits are not accepted."
TOO_DEEP = f"Nesting deeper than {MAX_DEPTH} levels is not accepted."
INT64 = (-(2**63), 2**64 - 1)  # what orjson reads and writes as an integer

# An integer beyond 64 bits has at least 19 digits (-9223372036854775809); with every digit
# mapped to "0", looking for such a run is a plain substring search.
_DIGITS = bytes.maketrans(b"0123456789", b"0" * 10)
_NINETEEN_DIGITS = b"0" * 19


def problem(value: Any) -> str | None:
    """Why `value` cannot be stored as it is, or None when it can: one pass of orjson (in C),
    whatever its size. Values that are not JSON's own (a model already checked, say) are left
    to the model's types to judge."""
    if isinstance(value, str):
        return NUL if "\x00" in value else None
    try:
        written = orjson.dumps(value, default=_not_judged)
    except orjson.JSONEncodeError as error:
        return _unwritable(error)
    # orjson writes NUL as \u0000; a backslash before "u0000" looks the same, so look closer.
    if b"\\u0000" in written and _has_nul(value):
        return NUL
    return None


def _not_judged(_: Any) -> None:
    return None


def _unwritable(error: orjson.JSONEncodeError) -> str:
    text = str(error)
    if "64-bit" in text:
        return BIG_INTEGER
    if "Recursion" in text:
        return TOO_DEEP
    return f"The value cannot be stored as JSON: {text}"


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


Path = tuple[int | str, ...]
_STEPS_SHOWN = 3  # "patches.0.value", "images.2.metadata"


def _located(value: Any, at: Path, depth: int = 0) -> Iterator[tuple[Path, str]]:
    """Where each value that cannot be stored is (the slow path: once `problem` found one)."""
    if isinstance(value, str):
        if "\x00" in value:
            yield at, NUL
    elif isinstance(value, int) and not isinstance(value, bool):
        if not INT64[0] <= value <= INT64[1]:
            yield at, BIG_INTEGER
    elif isinstance(value, dict | list) and depth >= MAX_DEPTH:
        # Named by its first steps (the field it is in), not by a path of hundreds; and the
        # walk goes no deeper, far from Python's recursion limit.
        yield at[:_STEPS_SHOWN], TOO_DEEP
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and "\x00" in key:
                yield (*at, key), NUL
            yield from _located(item, (*at, key), depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _located(item, (*at, i), depth + 1)


def refuse_unstorable(value: Any, title: str) -> None:
    """A ValidationError naming each place in `value` that holds what cannot be stored."""
    found = problem(value)
    if found is None:
        return
    located = list(_located(value, ())) or [((), found)]
    raise ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(type=PydanticCustomError("unstorable", message), loc=at, input=value)
            for at, message in located
        ],
    )


class StorableIn(BaseModel):
    """A shape a caller sends to be stored (an entry, a patch, an import): what cannot be stored
    is refused by the model itself, with the field it is in, whoever validates it."""

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        refuse_unstorable(data, cls.__name__)
        return data


def loads(text: bytes | bytearray) -> Any:
    """A JSON body as the value to store, or BadRequest saying (under `body`) why it is none."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(details={"body": f"Invalid JSON: {exc}"}) from exc
    found = problem(data) or (BIG_INTEGER if has_big_integer(text) else None)
    if found is not None:
        raise BadRequest(details={"body": found})
    return data


class _BeyondInt64(ValueError):
    pass


def _int64(literal: str) -> int:
    number = int(literal)
    if not INT64[0] <= number <= INT64[1]:
        raise _BeyondInt64(literal)
    return number


def has_big_integer(text: bytes | bytearray) -> bool:
    """Whether JSON text (valid, and at most MAX_DEPTH deep) has an integer beyond 64 bits.

    orjson reads one as a float, rounded, with no error. Only a run of 19 digits can be one,
    and that is rare: then, and only then, the text is read again by the standard library,
    whose integers are exact (a digit run inside a string is not an integer to it)."""
    if _NINETEEN_DIGITS not in text.translate(_DIGITS):
        return False
    try:
        json.loads(text, parse_int=_int64)
    except _BeyondInt64:
        return True
    return False
