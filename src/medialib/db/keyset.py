"""Keyset pagination: a walk newest first by (timestamp, id), continued by an opaque cursor.

A cursor is the last row's position, so rows added during a walk never shift the pages (an
offset would repeat or skip rows) and every page is an index range scan however deep the walk.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Any

import sqlalchemy as sa

from medialib.errors import BadRequest
from medialib.parsing import in_utc

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def encode(when: dt.datetime, row_id: str) -> str:
    raw = f"{when.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[dt.datetime, str]:
    """The (timestamp, id) a cursor continues after; a cursor medialib did not make is a 400."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        started, row_id = raw.split("|")
        when = dt.datetime.fromisoformat(started)
    except ValueError:
        raise _bad() from None
    # The time is compared in UTC: one that leaves the calendar there (year 1 at +14:00) is no
    # position medialib gave.
    in_calendar = in_utc(when) if when.tzinfo is not None else None
    if in_calendar is None or not _ID.fullmatch(row_id):
        raise _bad()
    return in_calendar, row_id


def _bad() -> BadRequest:
    return BadRequest("bad cursor", details={"cursor": "is not a cursor this API gave"})


def newest_first(
    query: sa.Select[Any],
    when: sa.ColumnElement[Any],
    row_id: sa.ColumnElement[Any],
    cursor: str | None,
    limit: int,
) -> sa.Select[Any]:
    """`query` ordered newest first, after `cursor`, one row more than `limit` (so the caller
    knows whether there is a next page)."""
    if cursor is not None:
        after, last_id = decode(cursor)
        # A row value comparison, which both databases turn into an index range (the spelled
        # out OR is a filter: every page would scan from the newest row).
        query = query.where(sa.tuple_(when, row_id) < sa.tuple_(after, last_id))
    return query.order_by(when.desc(), row_id.desc()).limit(limit + 1)
