"""Reading a Prometheus exposition as a test does: its samples by name and labels, and Debian's
`promtool check metrics` on it."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from collections.abc import Iterable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

PROMTOOL = shutil.which("promtool")

Labels = frozenset[tuple[str, str]]


class Exposition:
    def __init__(self, text: str) -> None:
        self.text = text
        self.samples: dict[tuple[str, Labels], float] = {}
        self.families: set[str] = set()
        for family in text_string_to_metric_families(text):
            self.families.add(family.name)
            for sample in family.samples:
                self.samples[(sample.name, frozenset(sample.labels.items()))] = sample.value

    def value(self, name: str, **labels: str) -> float:
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def total(self, name: str, **labels: str) -> float:
        """The sum of `name` over every series whose labels include `labels`."""
        wanted = set(labels.items())
        return sum(v for (n, ls), v in self.samples.items() if n == name and wanted <= ls)

    def items(self) -> Counter[tuple[str, str, str]]:
        """medialib_import_items_total as (kind, state, reason) -> count."""
        found: Counter[tuple[str, str, str]] = Counter()
        for (name, labels), value in self.samples.items():
            if name == "medialib_import_items_total" and value:
                got = dict(labels)
                found[(got["kind"], got["state"], got["reason"])] += int(value)
        return found

    def label_values(self) -> set[str]:
        return {value for _, labels in self.samples for _, value in labels}


def summed(expositions: Iterable[Exposition]) -> Counter[tuple[str, str, str]]:
    total: Counter[tuple[str, str, str]] = Counter()
    for one in expositions:
        total += one.items()
    return total


def promtool_check(text: str) -> None:
    """`promtool check metrics` passes on `text` (lint problems included)."""
    if PROMTOOL is None:
        pytest.skip("no promtool: install Debian's prometheus (.ci/run does)")
    done = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


async def scrape(url: str) -> Exposition:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(f"{url}/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return Exposition(response.text)
