"""A pytest plugin for issue 31's check that bench/curl_fetcher.py keeps the fetch guard whole:
every fetcher the tests make (the worker's, through `Runtime.load_fetcher`, and the ones the
hostile-fetch tests make themselves) is a `CurlFetcher`, and the run says how many requests
libcurl made. Not part of the suite:

    .venv/bin/python -m pytest -p bench.curl_swap -p no:xdist \
        tests/security/test_hostile_fetching.py tests/imports/test_images.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import medialib.media.http_fetcher as http_fetcher
from bench.curl_fetcher import CurlFetcher
from medialib.media.fetch import Download, LimitFor

requests: list[str] = []


class CountedCurlFetcher(CurlFetcher):
    async def _get(self, url: str, path: Path, limit_for: LimitFor) -> Download | str:
        requests.append(url)
        return await super()._get(url, path, limit_for)


def pytest_configure(config: pytest.Config) -> None:
    # `Runtime.load_fetcher` imports the class when it first makes a fetcher: it finds this one.
    http_fetcher.HttpFetcher = CountedCurlFetcher  # type: ignore[misc]
    # Imported here, once pytest rewrites the asserts of the test modules it imports.
    import tests.security.test_hostile_fetching as hostile

    hostile.HttpFetcher = CountedCurlFetcher  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_line(f"bench.curl_swap: {len(requests)} requests made by libcurl")
