"""How often the perceptual hash misses a near-duplicate, and how often it joins unrelated
pictures, on a set built from scikit-image's photos (they ship in its wheel: no download).

    python bench/near_duplicates.py [--pdq]

The set: every colour and grey photo of `skimage.data` (the stereo twin motorcycle_right and
chessboard_GRAY, a grey copy of chessboard_RGB, are left out: they are near-duplicates of
others), plus the four quadrants of each one of at least 400x400 pixels (more unrelated
pictures; a quadrant and the photo it is cut from are never paired as unrelated). Each picture
is stored as a JPEG at quality 92 (the "original") and gets these variants, all hashed through
the real path (`analyze_image` on a file):

- re-encodes: JPEG at quality 90, 60 and 30;
- resizes: 75, 50 and 25 % (Lanczos), as JPEG q 85;
- format changes: PNG, WebP (quality 80);
- colour changes: brightness +-10 %, saturation 0.8 and 1.2, gamma 0.8 and 1.2;
- crops: 2, 5 and 10 % off the right edge and off the top edge.

Unrelated pairs are every pair of distinct pictures. For thresholds 4..16 the script prints
the false-negative rate (a variant further than the threshold from its original) per variant
type and overall, and the false-positive rate (an unrelated pair within the threshold).
`--pdq` adds a PDQ-like 256-bit hash (64x64 grey, the 16x16 lowest DCT frequencies, median
threshold; thresholds scaled by 4) for comparison.
"""

from __future__ import annotations

import argparse
import io
import itertools
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import skimage.data
from PIL import Image, ImageEnhance

from medialib.media.analysis.analyze import analyze_image
from medialib.media.analysis.phash import distance
from medialib.media.analysis.pixels import small_copy

LEFT_OUT = {"motorcycle_right", "chessboard_GRAY", "lfw_subset"}
THRESHOLDS = range(4, 17)
MIMES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@dataclass
class Picture:
    name: str
    parent: str  # the photo a crop is cut from (itself for a whole photo)
    image: Image.Image


def photos() -> list[Picture]:
    folder = Path(skimage.data.__file__).parent
    out = []
    for path in sorted(folder.glob("*")):
        if path.suffix not in (".png", ".jpg") or path.stem in LEFT_OUT:
            continue
        with Image.open(path) as opened:
            image = _flat(opened)
        out.append(Picture(path.stem, path.stem, image))
        w, h = image.size
        if w >= 400 and h >= 400:
            for i, (x, y) in enumerate(itertools.product((0, w // 2), (0, h // 2))):
                quadrant = image.crop((x, y, x + w // 2, y + h // 2))
                out.append(Picture(f"{path.stem}#{i}", path.stem, quadrant))
    return out


def _flat(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")


def _gamma(image: Image.Image, gamma: float) -> Image.Image:
    table = [round(255 * (i / 255) ** gamma) for i in range(256)] * 3
    return image.point(table)


def _crop(image: Image.Image, fraction: float, edge: str) -> Image.Image:
    w, h = image.size
    if edge == "right":
        return image.crop((0, 0, round(w * (1 - fraction)), h))
    return image.crop((0, round(h * fraction), w, h))


def _resize(image: Image.Image, scale: float) -> Image.Image:
    w, h = image.size
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


Variant = tuple[str, str, Callable[[Image.Image], Image.Image], str, dict[str, int]]
VARIANTS: list[Variant] = [
    ("re-encode", "q90", lambda im: im, "JPEG", {"quality": 90}),
    ("re-encode", "q60", lambda im: im, "JPEG", {"quality": 60}),
    ("re-encode", "q30", lambda im: im, "JPEG", {"quality": 30}),
    ("resize", "75%", lambda im: _resize(im, 0.75), "JPEG", {"quality": 85}),
    ("resize", "50%", lambda im: _resize(im, 0.5), "JPEG", {"quality": 85}),
    ("resize", "25%", lambda im: _resize(im, 0.25), "JPEG", {"quality": 85}),
    ("format", "PNG", lambda im: im, "PNG", {}),
    ("format", "WebP", lambda im: im, "WEBP", {"quality": 80}),
    ("colour", "bright+10%", lambda im: ImageEnhance.Brightness(im).enhance(1.1), "JPEG", {}),
    ("colour", "bright-10%", lambda im: ImageEnhance.Brightness(im).enhance(0.9), "JPEG", {}),
    ("colour", "sat0.8", lambda im: ImageEnhance.Color(im).enhance(0.8), "JPEG", {}),
    ("colour", "sat1.2", lambda im: ImageEnhance.Color(im).enhance(1.2), "JPEG", {}),
    ("colour", "gamma0.8", lambda im: _gamma(im, 0.8), "JPEG", {}),
    ("colour", "gamma1.2", lambda im: _gamma(im, 1.2), "JPEG", {}),
    *[
        ("crop", f"{round(f * 100)}% {edge}", lambda im, f=f, e=edge: _crop(im, f, e), "JPEG", {})
        for f in (0.02, 0.05, 0.1)
        for edge in ("right", "top")
    ],
]


class Hasher:
    """Writes a picture to a file and hashes it the way an import does."""

    def __init__(self, folder: Path, pdq: bool) -> None:
        self.path = folder / "picture"
        self.pdq = pdq

    def hashes(self, image: Image.Image, fmt: str, options: dict[str, int]) -> tuple[int, int]:
        out = io.BytesIO()
        image.save(out, fmt, **({"quality": 85} | options if fmt == "JPEG" else options))
        self.path.write_bytes(out.getvalue())
        phash = analyze_image(self.path, MIMES[fmt], None).phash
        return phash, (pdq_like(small_copy(self.path, MIMES[fmt], 128)) if self.pdq else 0)


def _dct(n: int) -> np.ndarray:
    k, i = np.arange(n)[:, None], np.arange(n)[None, :]
    return np.cos(np.pi * (2 * i + 1) * k / (2 * n))


_DCT64 = _dct(64)[:16]


def pdq_like(picture: Image.Image) -> int:
    """256 bits: the 16x16 lowest DCT frequencies of a 64x64 grey copy over their median."""
    grey = np.asarray(picture.convert("L").resize((64, 64), Image.Resampling.BOX), np.float64)
    low = (_DCT64 @ grey @ _DCT64.T).ravel()
    bits = low > np.median(low)
    return int("".join("1" if b else "0" for b in bits), 2)


def rates(
    near: dict[str, list[int]], unrelated: list[int], scale: int = 1
) -> list[tuple[int, dict[str, float], float, float]]:
    rows = []
    everything = [d for ds in near.values() for d in ds]
    for threshold in THRESHOLDS:
        t = threshold * scale
        per_type = {kind: sum(d > t for d in ds) / len(ds) for kind, ds in near.items()}
        overall = sum(d > t for d in everything) / len(everything)
        false_positive = sum(d <= t for d in unrelated) / len(unrelated)
        rows.append((threshold, per_type, overall, false_positive))
    return rows


def show(title: str, near: dict[str, list[int]], unrelated: list[int], scale: int = 1) -> None:
    kinds = list(near)
    print(f"\n{title}: false negatives per variant type, overall; false positives (unrelated)")
    print("thr  " + "  ".join(f"{k:>9}" for k in kinds) + "    overall  false-pos")
    for threshold, per_type, overall, fp in rates(near, unrelated, scale):
        cells = "  ".join(f"{per_type[k] * 100:8.1f}%" for k in kinds)
        print(f"{threshold * scale:3d}  {cells}  {overall * 100:8.1f}%  {fp * 100:8.2f}%")


INDEX_LIMIT = 11  # four 16-bit bands, each looked up with its variants within 2 bits


def recommend(near: dict[str, list[int]], unrelated: list[int]) -> None:
    """The largest threshold the index serves exactly that no unrelated pair reaches."""
    safe = [t for t in range(INDEX_LIMIT + 1) if all(d > t for d in unrelated)]
    if not safe:
        print("no threshold within the index's 11 bits keeps unrelated pairs apart")
        return
    threshold = safe[-1] - safe[-1] % 2  # distances are even: an odd threshold adds nothing
    kept = [d for kind, ds in near.items() if kind != "crop" for d in ds]
    missed = sum(d > threshold for d in kept) / len(kept)
    print(
        f"recommended threshold: {threshold} bits (within the index's {INDEX_LIMIT}; the "
        f"closest unrelated pair is {min(unrelated)} bits apart); misses {missed:.1%} of "
        "re-encodes, resizes, format and colour changes (distances are even: each hash has 32 "
        "bits set unless coefficients tie at the median)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pdq", action="store_true", help="add the PDQ-like 256-bit hash")
    args = parser.parse_args()
    pictures = photos()
    near: dict[str, list[int]] = defaultdict(list)
    near_detail: dict[str, list[int]] = defaultdict(list)
    near_pdq: dict[str, list[int]] = defaultdict(list)
    originals: dict[str, tuple[int, int]] = {}
    with tempfile.TemporaryDirectory() as folder:
        hasher = Hasher(Path(folder), args.pdq)
        for picture in pictures:
            original = hasher.hashes(picture.image, "JPEG", {"quality": 92})
            originals[picture.name] = original
            for kind, label, change, fmt, options in VARIANTS:
                variant = hasher.hashes(change(picture.image), fmt, options)
                near[kind].append(distance(original[0], variant[0]))
                near_detail[f"{kind} {label}"].append(distance(original[0], variant[0]))
                near_pdq[kind].append(distance(original[1], variant[1]))
    parent = {p.name: p.parent for p in pictures}
    unrelated, unrelated_pdq = [], []
    for a, b in itertools.combinations(originals, 2):
        if parent[a] == b or parent[b] == a or a == b:
            continue  # a quadrant and its own photo overlap: not unrelated
        unrelated.append(distance(originals[a][0], originals[b][0]))
        unrelated_pdq.append(distance(originals[a][1], originals[b][1]))
    count = sum(len(d) for d in near.values())
    print(f"{len(pictures)} pictures, {count} near-duplicate pairs, {len(unrelated)} unrelated")
    show("pHash, 64 bits", near, unrelated)
    print("\nworst cases (pHash): variant, mean and max distance, misses at 10 / 12 bits")
    for label, ds in near_detail.items():
        m10, m12 = sum(d > 10 for d in ds), sum(d > 12 for d in ds)
        print(f"  {label:16} {np.mean(ds):5.2f} {max(ds):3d}   {m10:3d} / {m12:3d} of {len(ds)}")
    closest = sorted(unrelated)[:10]
    print(f"closest unrelated pairs (bits): {closest}")
    recommend(near, unrelated)
    if args.pdq:
        show("PDQ-like, 256 bits (threshold x4)", near_pdq, unrelated_pdq, scale=4)


if __name__ == "__main__":
    main()
