"""Every Prometheus metric medialib exposes, defined here and counted at the one place where each
thing happens; and the exposition that `GET /metrics` (and a `medialib worker`'s listener) send.

A leaf: it imports nothing of medialib, so every layer may count.

One process, many: the worker processes `medialib serve` starts get `PROMETHEUS_MULTIPROC_DIR`
(a folder of the home, emptied at each start) in their environment, so prometheus-client
writes their values to files there; the server adds its own (in memory) to what the files hold.
A worker that died leaves its file, so counters never go back. No label takes a value from
outside a small fixed set: no URL, id or host.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector
from prometheus_client.samples import Sample

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

# `_created` series cannot be summed over processes; Prometheus does not need them.
disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped upstream

# --- The metrics ------------------------------------------------------------------------------

IMPORT_ITEMS = Counter(
    "medialib_import_items",
    "Import items finished, by import kind, state and (for failures) reason code.",
    ["kind", "state", "reason"],
)
FETCH_BYTES = Counter("medialib_fetch_bytes", "Bytes downloaded from import origins.")
FETCH_DURATION = Histogram(
    "medialib_fetch_duration_seconds",
    "Seconds one download attempt took, by outcome (ok or failed).",
    ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
TASK_RETRIES = Counter(
    "medialib_task_retries", "Background task runs that failed and will run again.", ["task"]
)
WEBHOOK_DELIVERIES = Counter(
    "medialib_webhook_deliveries",
    "Webhook delivery attempts, by outcome: delivered, retrying (failed, another attempt "
    "follows) or failed (the last attempt failed).",
    ["outcome"],
)
HTTP_REQUESTS = Counter(
    "medialib_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "medialib_http_request_duration_seconds",
    "Seconds from a request's arrival to the end of its answer, by method, route template "
    "and status.",
    ["method", "route", "status"],
)
PICTURES_ANALYSED = Counter(
    "medialib_pictures_analysed",
    "Pictures analysed (perceptual hash, placeholder, colour, faces, focal point), by when: "
    "import (a URL import), registration (assets stored already) or backfill (medialib analyze).",
    ["source"],
)
ANALYSIS_SECONDS = Counter(
    "medialib_analysis_cpu_seconds",
    "CPU seconds the picture analysis took in the importing process: the decode into its small "
    "copy (the analysis process's own CPU is not included).",
)
RENDITIONS = Counter(
    "medialib_renditions",
    "Renditions asked for, by result: hit (stored already) or miss (made now).",
    ["result"],
)
RENDER_DURATION = Histogram(
    "medialib_render_duration_seconds",
    "Seconds libvips took to make one rendition.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# Gauges read from the database when scraped (by the server only: a worker's listener would
# count the same rows again).
IMPORT_JOBS = "medialib_import_jobs"
TASKS_PENDING = "medialib_tasks_pending"

# --- Label values kept to small sets ----------------------------------------------------------

_REASON = re.compile(r"[a-z0-9_]{1,40}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def reason_label(code: str | None) -> str:
    """A failure's reason code (the codes are medialib's own: `http_404`, `too_large`, …);
    anything else, which should not happen, is `other`."""
    if code is None:
        return ""
    return code if _REASON.fullmatch(code) else "other"


def method_label(method: str) -> str:
    return method if method in _METHODS else "other"


def count_items(kind: str, outcomes: Iterable[tuple[str, str | None]]) -> None:
    """Items of an import of `kind` that ended, as (state, reason code) pairs."""
    for state, code in outcomes:
        IMPORT_ITEMS.labels(kind, state, reason_label(code)).inc()


# --- Who may scrape -----------------------------------------------------------------------------

Networks = Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]


def parse_allow(values: Iterable[str]) -> Networks:
    """The networks of MEDIALIB_METRICS_ALLOW; ValueError names a bad one."""
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an address or network (CIDR)") from exc
    return networks


def may_scrape(client: str | None, allow: Networks) -> bool:
    """Whether the peer address `client` lies in one of `allow` (an IPv4 address mapped into
    IPv6 counts as itself)."""
    if client is None:
        return False
    try:
        address = ipaddress.ip_address(client.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in allow)


# --- The exposition -----------------------------------------------------------------------------


def gauge(name: str, documentation: str, label: str, values: dict[str, int]) -> Metric:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for value, count in sorted(values.items()):
        family.add_metric([value], count)
    return family


def clean_directory(directory: Path) -> None:
    """An empty folder for worker processes' values: what an earlier run left is not theirs."""
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in directory.glob("*.db"):
        leftover.unlink(missing_ok=True)


def exposition(workers: Path | None, gauges: Sequence[Metric] = ()) -> bytes:
    """This process's metrics plus those its worker processes left in `workers`, summed, and
    `gauges`, in Prometheus' text format."""
    sources: list[Collector] = [REGISTRY]
    # The server's own values are in memory, unless its operator put it in multiprocess mode
    # too: then they are in their own folder, which is not `workers`.
    if workers is not None and workers.is_dir() and not _same(workers):
        sources.append(MultiProcessCollector(None, path=str(workers)))  # type: ignore[no-untyped-call]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Merged(sources, gauges))
    return generate_latest(registry)


def _same(workers: Path) -> bool:
    own = os.environ.get(MULTIPROCESS_ENV)
    return own is not None and Path(own).resolve() == workers.resolve()


class _Merged(Collector):
    """Families of the same name from several sources as one, samples of the same series
    summed (counters and histograms: the only kinds worker processes keep)."""

    def __init__(self, sources: Sequence[Collector], gauges: Sequence[Metric]) -> None:
        self.sources = sources
        self.gauges = gauges

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        values: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
        for source in self.sources:
            for family in source.collect():
                families.setdefault(
                    family.name, Metric(family.name, family.documentation, family.type)
                )
                series = values.setdefault(family.name, {})
                for sample in family.samples:
                    key = (sample.name, tuple(sorted(sample.labels.items())))
                    series[key] = series.get(key, 0.0) + sample.value
        for name, family in families.items():
            ordered = sorted(values[name].items(), key=lambda item: _order(family, *item[0]))
            family.samples = [Sample(n, dict(labels), v) for (n, labels), v in ordered]
            yield family
        yield from self.gauges


_SUFFIXES = {"_bucket": 0, "_count": 1, "_sum": 2}


def _order(
    family: Metric, name: str, labels: tuple[tuple[str, str], ...]
) -> tuple[tuple[tuple[str, str], ...], int, float]:
    """A series' place: by labels (without `le`), then a histogram's buckets in order, its
    count and its sum."""
    series = tuple(pair for pair in labels if pair[0] != "le")
    le = dict(labels).get("le")
    suffix = _SUFFIXES.get(name[len(family.name) :], 0)
    return series, suffix, float(le) if le is not None else 0.0
