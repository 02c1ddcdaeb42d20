"""The CPU per image the picture analysis adds to a URL image import, beside the same import with
the analysis turned off (MEDIALIB_IMAGE_ANALYSIS=false), in one sitting.

    python bench/analysis_cost.py [--images 2000] [--rounds 5] [--photos] [--no-faces] \
        [--postgres URL]

nginx serves the images on 127.0.0.1: by default the import benchmark's ~100 KB JPEGs
(bench/origin.py: 190 x 190 noise), with --photos scikit-image's photos (astronaut, coffee,
chelsea, rocket, ...) scaled to 1200 px wide, JPEG quality 85. Rounds are interleaved, the limit
first: analysis off, analysis on, off, on, ...; each import runs on a fresh `medialib serve`
that is stopped before the next one starts, so nothing of ours runs while the other is measured.
CPU is every medialib process's user + system time from /proc while the import runs (the server,
its worker processes and whatever they start, the face detector's process included), counted
from the moment all of them said they were ready; PostgreSQL's backends are counted beside.

Printed: every round's rate and CPU per image, and the median of the per-round ratios (on / off).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import skimage.data
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.process import ServerProcess

from bench.import_throughput import _import, _postgres_pids, create_database, drop_database
from bench.origin import Nginx, jpeg_comment, jpeg_files
from bench.profiling import cpu_seconds

TARGET = 1.25  # the analysis adds at most a quarter


def photo_files(folder: Path, count: int) -> list[str]:
    """`count` JPEGs of scikit-image's photos at 1200 px wide, each file's bytes its own."""
    folder.mkdir(parents=True, exist_ok=True)
    photos = ("astronaut", "coffee", "chelsea", "rocket", "camera")
    sources = [getattr(skimage.data, name)() for name in photos]  # untyped: looked up by name
    bases = []
    for source in sources:
        picture = Image.fromarray(source).convert("RGB")
        height = round(picture.height * 1200 / picture.width)
        out = io.BytesIO()
        picture.resize((1200, height), Image.Resampling.LANCZOS).save(out, "JPEG", quality=85)
        bases.append(out.getvalue())
    names = []
    for i in range(count):
        base = bases[i % len(bases)]
        comment = jpeg_comment(f"medialib bench {i}".encode())
        name = f"{i:05d}.jpg"
        (folder / name).write_bytes(base[:2] + comment + base[2:])
        names.append(name)
    return names


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for thread in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo += [int(p) for p in (thread / "children").read_text().split()]
            except OSError:
                continue
    return found


@contextmanager
def _cpu(server_pid: int, spent: dict[str, float]) -> Iterator[None]:
    """CPU seconds of the server's process tree and of PostgreSQL while the block runs (a
    process started meanwhile counts from zero)."""

    def now() -> dict[tuple[str, int], float]:
        ours = {("medialib", pid): sum(cpu_seconds(pid)) for pid in _descendants(server_pid)}
        return ours | {("PostgreSQL", pid): sum(cpu_seconds(pid)) for pid in _postgres_pids()}

    before = now()
    yield
    for (role, pid), seconds in now().items():
        spent[role] = spent.get(role, 0.0) + seconds - before.get((role, pid), 0.0)


def _run(
    urls: list[str], analysis: bool, postgres: str | None, faces: bool = True
) -> tuple[float, dict[str, float]]:
    database = create_database(postgres) if postgres else None
    spent: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="medialib-bench-") as home:
        env = {
            "MEDIALIB_FETCH_ALLOW": "127.0.0.1/32",
            "MEDIALIB_FETCH_CONCURRENCY": "32",
            "MEDIALIB_FETCH_PER_HOST": "32",
            "MEDIALIB_IMAGE_ANALYSIS": "true" if analysis else "false",
            "MEDIALIB_FACE_DETECTION": "on" if faces else "off",
        }
        if database:
            env["MEDIALIB_DATABASE_URL"] = database
        server = ServerProcess(Path(home), env=env)
        try:
            server.run("migrate")
            token = server.run(
                "token", "create", "--project", "demo", "--scope", "public-api:write"
            )
            server.serve()
            server.wait_for("ready (pid", times=os.cpu_count() or 1)
            assert server.process is not None
            with _cpu(server.process.pid, spent):
                seconds = asyncio.run(_import(server, token, urls))
        finally:
            server.stop()
            if database and postgres:
                drop_database(postgres, database)
    return seconds, spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--photos", action="store_true", help="scikit-image's photos, 1200 px")
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL (default: SQLite)")
    parser.add_argument(
        "--no-faces", action="store_true", help="the analysis with MEDIALIB_FACE_DETECTION=off"
    )
    args = parser.parse_args()

    nginx = Nginx()
    if args.photos:
        names = photo_files(nginx.files, args.images)
    else:
        names = jpeg_files(nginx.files, args.images)
    nginx.start()
    urls = [nginx.url(name) for name in names]
    mean_size = sum((nginx.files / name).stat().st_size for name in names) / len(names)
    n = args.images
    rounds: list[tuple[float, float, float, float]] = []  # off s, off cpu/img, on s, on cpu/img
    try:
        for number in range(1, args.rounds + 1):
            off_seconds, off = _run(urls, False, args.postgres)
            on_seconds, on = _run(urls, True, args.postgres, faces=not args.no_faces)
            off_cpu, on_cpu = off["medialib"] / n, on["medialib"] / n
            rounds.append((off_seconds, off_cpu, on_seconds, on_cpu))
            off_pg, on_pg = off.get("PostgreSQL", 0) / n, on.get("PostgreSQL", 0) / n
            print(
                f"round {number}: analysis off {n / off_seconds:6,.0f}/s "
                f"{off_cpu * 1e6:6,.0f} us CPU/image (PostgreSQL {off_pg * 1e6:,.0f}); "
                f"on {n / on_seconds:6,.0f}/s {on_cpu * 1e6:6,.0f} us CPU/image "
                f"(PostgreSQL {on_pg * 1e6:,.0f}); "
                f"CPU on/off {on_cpu / off_cpu:.2f}",
                flush=True,
            )
    finally:
        nginx.stop()
    cpu_ratios = [on / off for _, off, _, on in rounds]
    rate_ratios = [off_s / on_s for off_s, _, on_s, _ in rounds]
    kind = "scikit-image photos at 1200 px" if args.photos else "190 x 190 noise JPEGs"
    if args.no_faces:
        kind += ", analysis without the face detector"
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"\nURL image import of {n} {kind} (~{mean_size / 1000:.0f} KB), {backend}, "
        f"medialib serve, {os.cpu_count()} cores, {args.rounds} interleaved rounds (off first)"
    )
    off_cpu = statistics.median(r[1] for r in rounds) * 1e6
    on_cpu = statistics.median(r[3] for r in rounds) * 1e6
    print(f"  CPU per image, analysis off (the limit): {off_cpu:8,.0f} us (median)")
    print(f"  CPU per image, analysis on:              {on_cpu:8,.0f} us (median)")
    shown = ", ".join(f"{r:.2f}" for r in cpu_ratios)
    print(f"  CPU on / off, median of rounds: {statistics.median(cpu_ratios):.2f}  ({shown})")
    shown = ", ".join(f"{r:.2f}" for r in rate_ratios)
    print(f"  rate on / off, median of rounds: {statistics.median(rate_ratios):.2f}  ({shown})")
    met = "met" if statistics.median(cpu_ratios) <= TARGET else "NOT MET"
    print(f"  target: the analysis adds at most a quarter ({TARGET:.2f}): {met}")


if __name__ == "__main__":
    main()
