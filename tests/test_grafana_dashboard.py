"""The Grafana dashboard in docs/grafana/ reads what the server exposes: every metric its PromQL
expressions name is in a server's /metrics, and every medialib metric is on the dashboard."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.support.stack import Stack

DASHBOARD = Path(__file__).resolve().parents[1] / "docs" / "grafana" / "medialib.json"

# What PromQL writes besides metric names: label matchers, label lists after by/without/on/
# ignoring/group_left/group_right, ranges and offsets, strings, numbers, keywords, functions.
_MATCHERS = re.compile(r"\{[^}]*\}")
_LABEL_LISTS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_RANGES = re.compile(r"\[[^\]]*\]")
_NUMBERS = re.compile(r"(?<![A-Za-z0-9_:])(?:\d[\d.e+-]*(?:ms|[smhdwy])?)+")  # 0.95, 5m, 1h30m
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"' + r"|'(?:[^'\\]|\\.)*'")
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*(?=\s*(\(?))")
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "group_left", "group_right", "inf", "nan"}
_SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_count", "_sum"),
    "gauge": ("",),
}


def expressions(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                yield value
            else:
                yield from expressions(value)
    elif isinstance(node, list):
        for value in node:
            yield from expressions(value)


def metric_names(expression: str) -> set[str]:
    text = _STRINGS.sub(" ", expression)
    for pattern in (_MATCHERS, _LABEL_LISTS, _RANGES, _NUMBERS):
        text = pattern.sub(" ", text)
    names = set()
    for found in _IDENTIFIER.finditer(text):
        name, call = found.group(0), found.group(1)
        if not call and name.lower() not in _KEYWORDS:
            names.add(name)
    return names


def test_the_parser_finds_the_metrics_of_an_expression() -> None:
    assert metric_names(
        'histogram_quantile(0.95, sum by (le, route) (rate(a_bucket{x="y(z)"}[5m])))'
        " / on (route) group_left b_total offset 1h30m > bool 0"
    ) == {"a_bucket", "b_total"}


async def test_every_expression_names_metrics_the_server_exposes(stack: Stack) -> None:
    response = await stack.client().get("/metrics")
    assert response.status_code == 200
    exposed: set[str] = set()
    families: set[str] = set()
    for family in text_string_to_metric_families(response.text):
        families.add(family.name)
        exposed |= {family.name + suffix for suffix in _SUFFIXES.get(family.type, ("",))}

    dashboard = json.loads(DASHBOARD.read_text())
    found = list(expressions(dashboard["panels"]))
    assert len(found) >= 10
    named: set[str] = set()
    for expression in found:
        names = metric_names(expression)
        assert names, f"no metric in {expression!r}"
        assert names <= exposed, f"{expression!r} names {names - exposed}, not exposed"
        named |= names
    ours = {f for f in families if f.startswith("medialib_")}
    on_dashboard = {f for f in ours if any(n.startswith(f) for n in named)}
    assert on_dashboard == ours, f"not on the dashboard: {ours - on_dashboard}"
