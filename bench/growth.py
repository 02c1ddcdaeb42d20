"""The same registration and URL import into an empty library and into a million-entry one.

    python bench/growth.py [--entries 1000000] [--rounds 5] [--requests 20] [--batch 1000] \
        [--images 1000] [--backend sqlite|postgres|both] [--profile]

The full library is `bench/library_browse.py`'s (built with plain SQL once, cached in
~/.cache/medialib-bench and as a PostgreSQL database, and reused). Each run gets a fresh home:
the empty library is `medialib migrate`d, the full one is a copy of the cached library (the
SQLite file copied, the PostgreSQL database made from it as a template), the copy made before
the clock starts. Every registered entry's object is stored beforehand (`media_library_import.py`'s
1600x900 JPEG), and nginx serves `--images` distinct ~100 KB JPEGs for the URL import.

In each run a fresh `medialib serve` (`make serve` settings) takes one URL import of the images
(POST /import/images, to its last webhook), then `--requests` registrations of `--batch` entries
one after the other (POST /import/mediaLibrary; the workers analyse the registered pictures
meanwhile, as they do after any registration). Rounds are interleaved: empty, full, empty,
full, ...; each run's server is stopped before the next starts, so nothing else of ours runs.

Printed: every run's rates, and for each step the median of the per-round ratios full / empty
(every round shown), against the target of the issue: at least 0.9. With `--profile`, py-spy
samples the server during the registrations (`pip install -e '.[bench]'`) and prints the CPU
microseconds per entry of each step, empty and full apart.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.process import ServerProcess

from bench import library_browse
from bench.import_throughput import _import as url_import
from bench.media_library_import import STEPS, _entries, _post_all, store_pictures
from bench.origin import Nginx, jpeg_files
from bench.profiling import print_steps, profiled

TARGET_RATIO = 0.9
POSTGRES_ADMIN_URL = library_browse.POSTGRES_ADMIN_URL


@dataclass
class Run:
    """One run's rates: entries/s registered, images/s imported."""

    registration: float
    images: float


@contextmanager
def _home(library: library_browse.Library | None) -> Iterator[ServerProcess]:
    """A fresh home, empty (library None) or holding a copy of the full library."""
    database: str | None = None
    with tempfile.TemporaryDirectory(prefix="medialib-bench-growth-") as folder:
        home = Path(folder)
        env = {"MEDIALIB_FETCH_ALLOW": "127.0.0.1/32"}
        if isinstance(library, library_browse.PostgresLibrary):
            database = f"medialib_bench_growth_{os.urandom(4).hex()}"
            _copy_database(library.database if library else None, database)
            env["MEDIALIB_DATABASE_URL"] = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"
        elif isinstance(library, library_browse.SqliteLibrary):
            shutil.copyfile(library.path, home / "medialib.db")
        try:
            yield ServerProcess(home, env=env)
        finally:
            if database is not None:
                _drop_database(database)


def _copy_database(template: str | None, name: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        admin.execute(create)


def _drop_database(name: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _run(
    library: library_browse.Library | None,
    batches: list[list[dict[str, Any]]],
    urls: list[str],
    samples: collections.Counter[str],
    profile: Path | None,
) -> Run:
    with _home(library) as server:
        server.run("migrate")
        token = server.run("token", "create", "--project", "demo", "--scope", "public-api:write")
        store_pictures(server.home, batches)
        server.serve()
        try:
            server.wait_for("ready (pid", times=os.cpu_count() or 1)
            assert server.process is not None
            # The URL import first: the registrations defer their pictures' analysis to the
            # workers, which would still be at it during the import.
            importing = asyncio.run(url_import(server, token, urls)) if urls else 0.0
            with profiled([server.process.pid], profile, samples, STEPS, gil=False):
                registering = asyncio.run(_post_all(server.url, token, batches))
        finally:
            _stop_all(server)
    entries = sum(len(batch) for batch in batches)
    return Run(entries / registering, len(urls) / importing if urls else 0.0)


def _stop_all(server: ServerProcess) -> None:
    """Stop the server, and make sure none of its processes outlives it: a worker still at the
    registered pictures' analysis would run into the next run's measurement."""
    assert server.process is not None
    family = _descendants(server.process.pid)
    server.stop()
    for pid in family:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in family:
        while Path(f"/proc/{pid}").exists() and "Z" not in _state(pid):
            time.sleep(0.05)


def _descendants(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = [int(p) for p in children.read_text().split()] if children.exists() else []
    return found + [d for child in found for d in _descendants(child)]


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return "Z"


def _median_ratio(name: str, full: list[float], empty: list[float]) -> float:
    ratios = [f / e for f, e in zip(full, empty, strict=True)]
    shown = ", ".join(f"{r:.2f}" for r in ratios)
    median = statistics.median(ratios)
    met = "met" if median >= TARGET_RATIO else "NOT MET"
    print(
        f"  {name}: empty {statistics.median(empty):8,.0f}/s, "
        f"full {statistics.median(full):8,.0f}/s"
        f" (medians); full / empty, median of rounds {median:.2f} ({shown}); "
        f"target {TARGET_RATIO}: {met}",
        flush=True,
    )
    return median


def measure(
    library: library_browse.Library, args: argparse.Namespace, urls: list[str]
) -> dict[str, Any]:
    batches = _entries(args.requests * args.batch, args.batch)
    empty: list[Run] = []
    full: list[Run] = []
    samples = {"empty": collections.Counter[str](), "full": collections.Counter[str]()}
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    for number in range(1, args.rounds + 1):
        for name, runs, of in (("empty", empty, _empty_of(library)), ("full", full, library)):
            profile = out / f"growth-{library.name}-{name}-round{number}" if args.profile else None
            runs.append(_run(of, batches, urls, samples[name], profile))
        print(
            f"round {number}: registration empty {empty[-1].registration:7,.0f}/s, full "
            f"{full[-1].registration:7,.0f}/s; URL import empty {empty[-1].images:6,.0f}/s, "
            f"full {full[-1].images:6,.0f}/s",
            flush=True,
        )
    print(f"\n{library.name}, {args.entries:,} entries, {args.rounds} interleaved rounds")
    result = {
        "registration": _median_ratio(
            "registration", [r.registration for r in full], [r.registration for r in empty]
        )
    }
    if urls:
        result["url_import"] = _median_ratio(
            "URL import", [r.images for r in full], [r.images for r in empty]
        )
    if args.profile:
        entries = args.requests * args.batch * args.rounds
        for name, counted in samples.items():
            print(f"\nprofile, {name} library:")
            print_steps(counted, entries, "entry", out)
    return result


def _empty_of(library: library_browse.Library) -> library_browse.Library | None:
    """The empty library of the same backend: None for SQLite, a blank database otherwise."""
    if isinstance(library, library_browse.PostgresLibrary):
        return library_browse.PostgresLibrary("template1", POSTGRES_ADMIN_URL, name="empty")
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--images", type=int, default=1000, help="0: no URL import")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--profile", action="store_true", help="sample the server with py-spy")
    args = parser.parse_args()
    options = argparse.Namespace(
        entries=args.entries,
        backend=args.backend,
        no_cache=False,
        postgres_admin_url=POSTGRES_ADMIN_URL,
    )
    origin = Nginx()
    results: dict[str, Any] = {}
    try:
        urls = [origin.url(name) for name in jpeg_files(origin.files, args.images)]
        origin.start()
        for library in library_browse.libraries(options):
            started = time.perf_counter()
            built = library.build(args.entries)
            library_browse.print_build(library.name, args.entries, built)
            print(f"  ready in {time.perf_counter() - started:.0f} s", flush=True)
            results[library.name] = measure(library, args, urls)
    finally:
        origin.stop()
    met = all(r >= TARGET_RATIO for found in results.values() for r in found.values())
    print(f"\ntarget, full / empty >= {TARGET_RATIO} for every step: {'met' if met else 'NOT MET'}")
    print({"benchmark": "growth", "rounds": args.rounds, "results": results, "target_met": met})


if __name__ == "__main__":
    main()
