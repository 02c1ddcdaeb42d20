"""A small legacy archive on 127.0.0.1, to try `medialib import` on.

    python examples/archive/serve.py [--port 8765] [--photos 24] [--folder examples/archive/out]

Makes the photos (coloured JPEGs with a caption in their EXIF), a manifest of them
(`manifest.csv`, with typed metadata columns), and serves the folder over HTTP until stopped.
Then, in another shell, with a server that may fetch from 127.0.0.1
(`MEDIALIB_FETCH_ALLOW=127.0.0.1/32 make serve`):

    .venv/bin/medialib import images examples/archive/out/manifest.csv --report results.csv
"""

from __future__ import annotations

import argparse
import csv
import functools
import http.server
import random
from pathlib import Path

from PIL import Image

SUBJECTS = ["Harbour", "Market", "Lighthouse", "Festival", "Station", "Bridge", "Storm", "Parade"]
TIMES = ["at dawn", "at noon", "in the rain", "at dusk", "in winter", "by night"]


def make_archive(folder: Path, photos: int, port: int) -> Path:
    """The photos and their manifest in `folder`; the manifest's path."""
    pictures = folder / "photos"
    pictures.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(7)
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["url", "id", "fileName", "metadata.title", "metadata.caption", "metadata.source"]
        )
        for number in range(1, photos + 1):
            colour = tuple(rnd.randrange(40, 220) for _ in range(3))
            name = f"{number:04d}.jpg"
            title = f"{rnd.choice(SUBJECTS)} {rnd.choice(TIMES)}"
            Image.new("RGB", (640, 427), colour).save(pictures / name, quality=85)
            url = f"http://127.0.0.1:{port}/photos/{name}"
            writer.writerow(
                [
                    url,
                    f"legacy-{number:04d}",
                    name,
                    title,
                    f"Archive photo {number}",
                    "Example archive",
                ]
            )
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--folder", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()
    manifest = make_archive(args.folder, args.photos, args.port)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(args.folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler) as server:
        print(
            f"serving {args.photos} photos on http://127.0.0.1:{args.port}/; manifest: {manifest}",
            flush=True,
        )
        server.serve_forever()


if __name__ == "__main__":
    main()
