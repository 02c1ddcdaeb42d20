"""The CPU the image analysis costs per picture, step by step (time.process_time over many
runs, one process, one thread).

    python bench/analysis_steps.py [--runs 400]

Three JPEGs: (a) the import benchmark's file, 190x190 noise padded to 100 KB
(bench/origin.py jpeg_files; the whole import costs about 1,000 us of CPU per such file, and
the analysis is to add at most a quarter of that); (b) a 1600x900 photo (scikit-image's
coffee, upscaled, q 85); (c) scikit-image's astronaut, 512x512, q 85. Steps: the decode to the
small copy (64 px, and 160 px as a face detector gets it), the 32x32 copy, pHash, ThumbHash
(from a 32 px copy), the dominant colour, saliency, and `analyze_image` whole (no faces).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import skimage.data
from PIL import Image

from medialib.media.analysis import thumbhash
from medialib.media.analysis.analyze import analyze_image
from medialib.media.analysis.colour import dominant_colour
from medialib.media.analysis.copies import ANALYSIS_SIDE, FACES_SIDE, shrink
from medialib.media.analysis.measures import PLACEHOLDER_SIDE, TINY
from medialib.media.analysis.phash import phash
from medialib.media.analysis.pixels import small_copy
from medialib.media.analysis.saliency import salient_point

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.origin import jpeg_files


def cpu_us(step: Callable[[], object], runs: int) -> float:
    step()
    start = time.process_time()
    for _ in range(runs):
        step()
    return (time.process_time() - start) / runs * 1e6


def pictures(folder: Path) -> dict[str, Path]:
    noise = folder / "noise"
    files = {"(a) 190x190 noise, 100 KB": noise / jpeg_files(noise, 1)[0]}
    photos = Path(skimage.data.__file__).parent  # the photos ship in the wheel
    coffee = Image.open(photos / "coffee.png").resize((1600, 900), Image.Resampling.LANCZOS)
    coffee.save(folder / "coffee.jpg", quality=85)
    files["(b) 1600x900 photo"] = folder / "coffee.jpg"
    Image.open(photos / "astronaut.png").save(folder / "astronaut.jpg", quality=85)
    files["(c) astronaut 512x512"] = folder / "astronaut.jpg"
    return files


def steps(path: Path) -> dict[str, Callable[[], object]]:
    picture = small_copy(path, "image/jpeg", ANALYSIS_SIDE)
    placeholder = shrink(picture, PLACEHOLDER_SIDE)
    tiny = picture.resize(TINY, Image.Resampling.BOX)
    return {
        "decode to 64 px": lambda: small_copy(path, "image/jpeg", ANALYSIS_SIDE),
        f"decode to {FACES_SIDE} px": lambda: small_copy(path, "image/jpeg", FACES_SIDE),
        "32 px copies": lambda: (
            shrink(picture, PLACEHOLDER_SIDE),
            picture.resize(TINY, Image.Resampling.BOX),
        ),
        "pHash": lambda: phash(tiny),
        "ThumbHash": lambda: thumbhash.encode(placeholder),
        "colour": lambda: dominant_colour(tiny),
        "saliency": lambda: salient_point(tiny),
        "analyze_image": lambda: analyze_image(path, "image/jpeg", None),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=400)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        for name, path in pictures(Path(folder)).items():
            print(f"{name} ({path.stat().st_size / 1000:.0f} KB)")
            figures = {step: cpu_us(run, runs) for step, run in steps(path).items()}
            for step, us in figures.items():
                print(f"  {step:18} {us:7.0f} us")
            after_decode = figures["analyze_image"] - figures["decode to 64 px"]
            print(f"  {'beyond the decode':18} {after_decode:7.0f} us")


if __name__ == "__main__":
    main()
