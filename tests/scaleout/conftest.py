"""What the scaled-out tests share: a PostgreSQL database of each test's own (the settings that
point `medialib` processes at it are tests/support/scaled_out.py's)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support import postgres


@pytest.fixture
async def database() -> AsyncIterator[str]:
    url = postgres.create_database("medialib_scaleout")
    yield url
    postgres.drop_database(url)
