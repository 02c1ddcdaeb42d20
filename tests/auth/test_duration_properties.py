"""A token's lifetime (`medialib token create --expires-in 30d`) as a property (hypothesis): any
text is a lifetime that leaves the expiry inside the calendar, or a BadRequest saying why."""

from __future__ import annotations

import datetime as dt

from hypothesis import example, given
from hypothesis import strategies as st

from medialib.auth.tokens import LONGEST_LIFETIME, parse_duration
from medialib.errors import BadRequest
from tests.support.strategies import number_texts

durations = st.builds(lambda n, unit: f"{n}{unit}", number_texts, st.sampled_from("smhdwy"))


def _parsed(text: str) -> dt.timedelta | BadRequest:
    try:
        return parse_duration(text)
    except BadRequest as error:
        return error


@given(durations | st.text(max_size=12))
@example("999999999999w")  # past what a timedelta holds
@example("3000000d")  # a timedelta, but now + it is past year 9999
@example("\u0663\u0660d")  # Arabic-Indic 30
def test_a_lifetime_keeps_the_expiry_in_the_calendar_or_is_refused(text: str) -> None:
    lifetime = _parsed(text)

    if isinstance(lifetime, BadRequest):
        assert lifetime.message
        return
    assert dt.timedelta(0) < lifetime <= LONGEST_LIFETIME
    assert dt.datetime(9000, 1, 1, tzinfo=dt.UTC) + lifetime < dt.datetime.max.replace(
        tzinfo=dt.UTC
    )


@given(st.integers(1, 36_000), st.sampled_from(("s", "m", "h", "d")))
def test_every_lifetime_up_to_a_century_is_read(amount: int, unit: str) -> None:
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit] * amount

    assert parse_duration(f"{amount}{unit}") == dt.timedelta(seconds=seconds)
