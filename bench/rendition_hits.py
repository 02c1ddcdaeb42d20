"""Cached renditions beside the same server's `/healthz`, interleaved, in one `medialib serve`.

    python bench/rendition_hits.py [--images 20] [--rounds 3] [--seconds 5]   # needs wrk

`--images` JPEGs of 2400x1600 (renditions.py's) are registered in a fresh `medialib serve`
(make serve's settings: SQLite, a local folder, the worker in the process) and each is asked
once for `?w=800&auto=format` with `Accept: image/webp`, which renders and stores its variant.
Then, in each round, wrk (2 threads, 8 connections) asks for `/healthz` and then for the
rendition URLs, `--seconds` each: the hits beside the HTTP layer's own ceiling on this machine,
measured seconds apart, so that a machine whose speed swings still gives a fair ratio.

Target (issue 31): hits at no less than half of `/healthz`'s requests/s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.renditions import ACCEPT, CACHE, QUERY, Medialib, fetch_all_seconds, photos, wrk_rate

TARGET = 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    paths = photos(CACHE / "renditions-photos", args.images)
    with tempfile.TemporaryDirectory(prefix="medialib-bench-hits-") as home:
        medialib = Medialib(Path(home), paths)
        medialib.start()
        try:
            medialib.register()
            urls = [f"/media/{key}?{QUERY}" for key in medialib.keys]
            # Every variant made and stored before a hit is counted.
            fetch_all_seconds([medialib.server.url + u for u in urls], 2, "image/webp")
            rounds = [one_round(medialib, urls, args.seconds) for _ in range(args.rounds)]
        finally:
            medialib.stop()
    for number, (healthz, hits) in enumerate(rounds, 1):
        print(f"round {number}: /healthz {healthz:.0f}/s, hits {hits:.0f}/s ({hits / healthz:.2f})")
    ratios = [hits / healthz for healthz, hits in rounds]
    print(
        f"hits / /healthz: median {statistics.median(ratios):.2f} "
        f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)}; target {TARGET}); "
        f"Accept: {ACCEPT}"
    )


def one_round(medialib: Medialib, urls: list[str], seconds: float) -> tuple[float, float]:
    healthz = wrk_rate(medialib.server.url, ["/healthz"], seconds)
    hits = wrk_rate(medialib.server.url, urls, seconds)
    return healthz, hits


if __name__ == "__main__":
    main()
