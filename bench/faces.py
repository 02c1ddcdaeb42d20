"""The face detector's precision, recall and CPU per picture, on photos labelled by hand.

    python bench/faces.py [--data DIR] [--sweep]

The photos are third-party pictures that ship inside public packages, fetched once into DIR
(default ~/.cache/medialib-bench/faces) with the ordinary clients and never committed:
face_recognition 1.3.0's test images and insightface 2.1's sample pictures (`pip download` of
their source archives), @vladmandic/face-api 1.7.15's demo photos and tracking 1.1.3's example
(`npm pack`), plus scikit-image's astronaut. Their faces are labelled below by hand (boxes as
fractions of the picture, looked at one by one); a face turned to profile, bowed or cut by the
edge is labelled `hard`. Negatives: scikit-image's photos without a person, and crops of the
face photos below every face.

Each photo also comes as variants: mirrored, turned 5 degrees either way, cropped around its
first face (faces larger), and shrunk onto a wider canvas (faces smaller). Every picture goes
to the analysis process as an RGB copy whose long side is 320 px (it looks at 160 px of it).

Figures: precision (detections that are a labelled face, hard ones included), recall on the
frontal faces of at least a tenth of the picture's short side (the target), recall on smaller
and on hard faces (reported, not targeted), false positives per negative picture, and the CPU
per picture of the analysis process (the rest of the analysis included) and of the caller.
`--sweep` measures the settings the detector could use (side, cascade, scale step,
neighbours), in this process.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
import skimage.data
from PIL import Image, ImageOps

from medialib.media.analysis import faces_child
from medialib.media.analysis.copies import grey_copy
from medialib.media.analysis.processes import AnalysisProcesses, ProcessLimits
from medialib.media.analysis.records import Box

INPUT_SIDE = 320
SMALL_FACE = 0.10  # of the picture's short side: the faces the recall target is about
LARGE_FACE = 0.20  # faces the cascade sees in a 160 px copy too (its window is 20 to 24 px)


@dataclass(frozen=True)
class Face:
    x: float
    y: float
    width: float
    height: float
    hard: bool = False  # profile, bowed, or cut by the edge


def f(x: float, y: float, w: float, h: float, hard: bool = False) -> Face:
    return Face(x, y, w, h, hard)


# Boxes as fractions of each picture (EXIF orientation applied), labelled by looking.
LABELS: dict[str, list[Face]] = {
    "astronaut": [f(0.345, 0.129, 0.186, 0.186)],
    "obama.jpg": [f(0.383, 0.084, 0.326, 0.261)],
    "obama2.jpg": [f(0.225, 0.203, 0.533, 0.278)],
    "obama3.jpg": [f(0.448, 0.112, 0.214, 0.131)],
    "biden.jpg": [f(0.44, 0.094, 0.333, 0.147)],
    "obama_partial_face.jpg": [f(0.0, 0.03, 0.55, 0.24, hard=True)],
    "obama_partial_face2.jpg": [f(0.55, 0.02, 0.45, 0.23, hard=True)],
    "Tom_Hanks_54745.png": [f(0.103, 0.128, 0.791, 0.791)],
    "t1.jpg": [
        f(0.034, 0.296, 0.105, 0.151),
        f(0.215, 0.14, 0.09, 0.17, hard=True),  # looking down, turned
        f(0.35, 0.309, 0.105, 0.151),
        f(0.569, 0.402, 0.089, 0.129),
        f(0.681, 0.077, 0.1, 0.144),
        f(0.87, 0.312, 0.094, 0.135),
    ],
    "sample1.jpg": [
        f(0.191, 0.283, 0.127, 0.19),
        f(0.42, 0.36, 0.11, 0.15, hard=True),  # bowed
        f(0.76, 0.16, 0.12, 0.17, hard=True),  # tilted
    ],
    "sample2.jpg": [
        f(0.19, 0.10, 0.08, 0.18, hard=True),  # profile
        f(0.464, 0.189, 0.106, 0.149),
        f(0.733, 0.123, 0.123, 0.173),
    ],
    "sample3.jpg": [
        f(0.291, 0.253, 0.123, 0.176),
        f(0.533, 0.167, 0.145, 0.207),
        f(0.772, 0.233, 0.13, 0.184),
    ],
    "sample4.jpg": [
        f(0.131, 0.149, 0.122, 0.161),
        f(0.35, 0.05, 0.11, 0.17, hard=True),  # three-quarter
        f(0.488, 0.139, 0.116, 0.153),
        f(0.66, 0.10, 0.12, 0.17, hard=True),  # three-quarter
    ],
    "sample5.jpg": [
        f(0.406, 0.088, 0.105, 0.144),
        f(0.333, 0.322, 0.088, 0.12),
        f(0.566, 0.155, 0.1, 0.137),
        f(0.705, 0.292, 0.13, 0.178),
        f(0.184, 0.637, 0.127, 0.174),
    ],
    "sample6.jpg": [
        f(0.13, 0.332, 0.131, 0.164),
        f(0.327, 0.23, 0.128, 0.16),
        f(0.60, 0.219, 0.123, 0.154),
        f(0.753, 0.184, 0.139, 0.174),
    ],
    "tracking_faces.jpg": [
        f(0.067, 0.228, 0.178, 0.309),
        f(0.367, 0.366, 0.188, 0.325),
        f(0.745, 0.149, 0.181, 0.314),
    ],
}
SKIMAGE = Path(skimage.data.__file__).parent  # scikit-image's photos, as files
NEGATIVES = (
    "coffee.png",
    "rocket.jpg",
    "chelsea.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "retina.jpg",
    "brick.png",
    "grass.png",
    "gravel.png",
    "coins.png",
    "moon.png",
    "page.png",
    "text.png",
    "motorcycle_left.png",
)
PACKAGES = {
    "pip": ["face_recognition==1.3.0", "insightface==2.1"],
    "npm": ["@vladmandic/face-api@1.7.15", "tracking@1.1.3"],
}
WANTED = (  # archive members, by their ending
    "tests/test_images/obama.jpg",
    "tests/test_images/obama2.jpg",
    "tests/test_images/obama3.jpg",
    "tests/test_images/biden.jpg",
    "tests/test_images/obama_partial_face.jpg",
    "tests/test_images/obama_partial_face2.jpg",
    "data/images/t1.jpg",
    "data/images/Tom_Hanks_54745.png",
    *(f"demo/sample{number}.jpg" for number in range(1, 7)),
    "examples/assets/faces.jpg",
)


@dataclass(frozen=True)
class Picture:
    name: str
    image: Image.Image  # RGB, long side INPUT_SIDE
    faces: tuple[Face, ...]


# --- The photos ---------------------------------------------------------------------------------


def fetch(folder: Path) -> None:
    """The packages' archives, downloaded once; their photos extracted into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    if all((folder / _stored_name(member)).exists() for member in WANTED):
        return
    with tempfile.TemporaryDirectory() as scratch:
        for package in PACKAGES["pip"]:
            pip = ["python", "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
            subprocess.run([*pip, "-q", "-d", scratch, package], check=True)
        for package in PACKAGES["npm"]:
            subprocess.run(["npm", "pack", "--silent", package], cwd=scratch, check=True)
        for archive in Path(scratch).glob("*.t*gz"):
            _extract(archive, folder)


def _stored_name(member: str) -> str:
    return (
        "tracking_faces.jpg" if member.endswith("examples/assets/faces.jpg") else Path(member).name
    )


def _extract(archive: Path, folder: Path) -> None:
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if member.isfile() and any(member.name.endswith(wanted) for wanted in WANTED):
                source = tar.extractfile(member)
                assert source is not None
                (folder / _stored_name(member.name)).write_bytes(source.read())


def originals(folder: Path) -> Iterator[tuple[str, Image.Image, tuple[Face, ...]]]:
    for name, faces in LABELS.items():
        path = SKIMAGE / "astronaut.png" if name == "astronaut" else folder / name
        image = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        yield name, image, tuple(faces)


def negatives(folder: Path) -> Iterator[tuple[str, Image.Image]]:
    for name in NEGATIVES:
        yield name, Image.open(SKIMAGE / name).convert("RGB")
    for name, image, faces in originals(folder):
        below = max(face.y + face.height for face in faces) + 0.02
        if below <= 0.6:  # at least 40% of the picture holds no face: a negative of its own
            top = round(image.height * below)
            yield f"{name} below the faces", image.crop((0, top, image.width, image.height))


# --- Variants -----------------------------------------------------------------------------------


def variants(name: str, image: Image.Image, faces: tuple[Face, ...]) -> Iterator[Picture]:
    yield Picture(name, image, faces)
    yield Picture(f"{name} mirrored", ImageOps.mirror(image), tuple(_mirrored(f) for f in faces))
    for degrees in (-5, 5):
        turned = image.rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=(128, 128, 128))
        moved = tuple(_rotated(face, degrees, image.width, image.height) for face in faces)
        yield Picture(f"{name} turned {degrees}", turned, moved)
    yield _around_first_face(name, image, faces)
    yield _on_wider_canvas(name, image, faces)


def _mirrored(face: Face) -> Face:
    return replace(face, x=1 - face.x - face.width)


def _rotated(face: Face, degrees: float, width: int, height: int) -> Face:
    """The box moved with its centre (PIL turns counterclockwise about the picture's centre)."""
    cx, cy = (
        (face.x + face.width / 2) * width - width / 2,
        (face.y + face.height / 2) * height - height / 2,
    )
    angle = math.radians(degrees)
    nx = cx * math.cos(angle) + cy * math.sin(angle)
    ny = -cx * math.sin(angle) + cy * math.cos(angle)
    x, y = (nx + width / 2) / width - face.width / 2, (ny + height / 2) / height - face.height / 2
    return replace(face, x=x, y=y)


def _around_first_face(name: str, image: Image.Image, faces: tuple[Face, ...]) -> Picture:
    """A crop three faces wide around the first face: the faces larger in the picture."""
    first = faces[0]
    side = 3 * max(first.width * image.width, first.height * image.height)
    cx, cy = (first.x + first.width / 2) * image.width, (first.y + first.height / 2) * image.height
    left, top = max(0, round(cx - side / 2)), max(0, round(cy - side / 2))
    right, bottom = min(image.width, round(cx + side / 2)), min(image.height, round(cy + side / 2))
    crop = image.crop((left, top, right, bottom))
    kept = []
    for face in faces:
        x0, y0 = face.x * image.width - left, face.y * image.height - top
        x1, y1 = x0 + face.width * image.width, y0 + face.height * image.height
        inside = max(0.0, min(x1, crop.width) - max(x0, 0)) * max(
            0.0, min(y1, crop.height) - max(y0, 0)
        )
        if inside < 0.5 * (x1 - x0) * (y1 - y0):
            continue  # mostly cut away: neither a face to find nor one to blame a hit on
        box = Face(
            x0 / crop.width, y0 / crop.height, (x1 - x0) / crop.width, (y1 - y0) / crop.height
        )
        kept.append(replace(box, hard=face.hard or inside < (x1 - x0) * (y1 - y0)))
    return Picture(f"{name} around its first face", crop, tuple(kept))


def _on_wider_canvas(name: str, image: Image.Image, faces: tuple[Face, ...]) -> Picture:
    """The picture at 60% on a grey canvas of its size: the faces smaller."""
    scale = 0.6
    canvas = Image.new("RGB", image.size, (128, 128, 128))
    small = image.resize((round(image.width * scale), round(image.height * scale)))
    left, top = (image.width - small.width) // 2, (image.height - small.height) // 2
    canvas.paste(small, (left, top))
    moved = tuple(
        Face(
            left / image.width + face.x * scale,
            top / image.height + face.y * scale,
            face.width * scale,
            face.height * scale,
            face.hard,
        )
        for face in faces
    )
    return Picture(f"{name} smaller", canvas, moved)


def as_input(picture: Picture) -> Picture:
    image = picture.image.copy()
    image.thumbnail((INPUT_SIDE, INPUT_SIDE), Image.Resampling.BILINEAR)
    return replace(picture, image=image)


def pictures(folder: Path) -> tuple[list[Picture], list[Picture]]:
    positives = [
        as_input(variant)
        for name, image, faces in originals(folder)
        for variant in variants(name, image, faces)
    ]
    negative = [as_input(Picture(name, image, ())) for name, image in negatives(folder)]
    negative += [
        as_input(Picture(f"{p.name} mirrored", ImageOps.mirror(p.image), ())) for p in negative
    ]
    return positives, negative


# --- Scoring ------------------------------------------------------------------------------------


@dataclass
class Score:
    detections: int = 0
    true: int = 0  # detections that are a labelled face
    target: int = 0  # frontal faces of at least SMALL_FACE of the short side
    target_found: int = 0
    large: int = 0  # of them, those of at least LARGE_FACE
    large_found: int = 0
    small: int = 0
    small_found: int = 0
    hard: int = 0
    hard_found: int = 0
    negative_pictures: int = 0
    negative_hits: int = 0
    seconds: float = 0.0
    pictures: int = 0
    wrong: list[str] = field(default_factory=list)  # the pictures with a detection not a face

    def report(self) -> str:
        precision = self.true / self.detections if self.detections else 1.0
        return (
            f"precision {precision:.3f} ({self.true}/{self.detections}), "
            f"recall {_ratio(self.target_found, self.target)} on frontal faces >= {SMALL_FACE:.0%} "
            f"of the short side ({_ratio(self.large_found, self.large)} on those >= "
            f"{LARGE_FACE:.0%}), {_ratio(self.small_found, self.small)} on smaller ones, "
            f"{_ratio(self.hard_found, self.hard)} on hard ones; "
            f"{self.negative_hits} false positives on {self.negative_pictures} negative pictures; "
            f"{self.seconds / max(1, self.pictures) * 1e6:.0f} us per picture"
        )


def _ratio(found: int, total: int) -> str:
    return f"{found / total:.3f} ({found}/{total})" if total else "n/a"


def matches(box: Box, face: Face) -> bool:
    """Each box's centre lies inside the other: the same face, whatever either's margins."""
    bx, by = box.x + box.width / 2, box.y + box.height / 2
    fx, fy = face.x + face.width / 2, face.y + face.height / 2
    inside_face = face.x <= bx <= face.x + face.width and face.y <= by <= face.y + face.height
    inside_box = box.x <= fx <= box.x + box.width and box.y <= fy <= box.y + box.height
    return inside_face and inside_box


def score(
    detect: Callable[[Image.Image], tuple[Box, ...]],
    positives: list[Picture],
    negative: list[Picture],
) -> Score:
    result = Score()
    for picture in positives + negative:
        started = time.process_time()
        boxes = detect(picture.image)
        result.seconds += time.process_time() - started
        result.pictures += 1
        _count(result, picture, boxes)
    return result


def _count(result: Score, picture: Picture, boxes: tuple[Box, ...]) -> None:
    result.detections += len(boxes)
    true = sum(any(matches(box, face) for face in picture.faces) for box in boxes)
    result.true += true
    if true < len(boxes):
        result.wrong.append(picture.name)
    if not picture.faces:
        result.negative_pictures += 1
        result.negative_hits += len(boxes)
    short = min(picture.image.size)
    for face in picture.faces:
        found = any(matches(box, face) for box in boxes)
        size = min(face.width * picture.image.width, face.height * picture.image.height) / short
        if face.hard:
            result.hard, result.hard_found = result.hard + 1, result.hard_found + found
        elif size >= SMALL_FACE:
            result.target, result.target_found = result.target + 1, result.target_found + found
            if size >= LARGE_FACE:
                result.large, result.large_found = result.large + 1, result.large_found + found
        else:
            result.small, result.small_found = result.small + 1, result.small_found + found


# --- Runs ---------------------------------------------------------------------------------------


def in_process(side: int, tuning: faces_child.Tuning) -> Callable[[Image.Image], tuple[Box, ...]]:
    """The child's detection in this process, as the sweep needs it (the CPU of the cascade
    alone: process_time counts this process)."""
    classifier = faces_child.load(tuning)

    def detect(image: Image.Image) -> tuple[Box, ...]:
        grey = np.asarray(grey_copy(image, side))
        return tuple(Box(*face) for face in faces_child.detect(classifier, grey, tuning))

    return detect


def sweep(positives: list[Picture], negative: list[Picture]) -> None:
    cv2.setNumThreads(1)
    base = faces_child.TUNING
    for cascade in ("haarcascade_frontalface_default.xml", "haarcascade_frontalface_alt2.xml"):
        for side in (160, 224, 256, 320):
            for scale_factor in (1.1, 1.15):
                for neighbours in (2, 3):
                    tuning = replace(
                        base, cascade=cascade, scale_factor=scale_factor, min_neighbors=neighbours
                    )
                    result = score(in_process(side, tuning), positives, negative)
                    label = (
                        f"{cascade[19:-4]} side {side} scale {scale_factor} neighbours {neighbours}"
                    )
                    print(f"{label}: {result.report()}", flush=True)


def through_the_process(positives: list[Picture], negative: list[Picture]) -> None:
    processes = AnalysisProcesses(
        ProcessLimits(memory=640 * 1024**2, timeout=5.0, processes=1), faces=True
    )

    def detector(image: Image.Image) -> tuple[Box, ...]:
        return processes.analyze(image).faces

    detector(positives[0].image)  # started: its loading is not the per-picture cost
    child = processes.pids()[0]
    before = _cpu_seconds(child)
    result = score(detector, positives, negative)
    child_seconds = _cpu_seconds(child) - before
    print(f"through the analysis process: {result.report()} (the caller's CPU)")
    print(f"false positives in: {', '.join(result.wrong) or 'none'}")
    print(f"the analysis process: {child_seconds / result.pictures * 1e6:.0f} us CPU per picture")
    status = _status(child)
    print(
        f"the analysis process: {status['VmRSS']} resident, {status['VmHWM']} at its peak, "
        f"{status['VmPeak']} address space"
    )
    processes.close()
    print(f"a fresh caller: {_fresh_caller()}")


CALLER = """
import sys
from pathlib import Path
from PIL import Image
from medialib.media.analysis.processes import AnalysisProcesses, ProcessLimits

def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

picture = Image.new("RGB", (320, 240), (128, 128, 128))
before = rss()
processes = AnalysisProcesses(
    ProcessLimits(memory=640 * 1024**2, timeout=5.0, processes=1), faces=True
)
for _ in range(100):
    processes.analyze(picture)
print(f"{rss():.1f} MB resident after 100 pictures ({rss() - before:+.1f} MB), "
      f"OpenCV loaded: {'cv2' in sys.modules}, numpy loaded: {'numpy' in sys.modules}")
"""


def _fresh_caller() -> str:
    answer = subprocess.run(["python", "-c", CALLER], capture_output=True, text=True, check=True)
    return answer.stdout.strip()


def _status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {name: value.strip() for name, value in (line.split(":", 1) for line in lines)}


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path.home() / ".cache/medialib-bench/faces")
    parser.add_argument(
        "--sweep", action="store_true", help="measure the settings, in this process"
    )
    arguments = parser.parse_args()
    fetch(arguments.data)
    positives, negative = pictures(arguments.data)
    faces = sum(len(p.faces) for p in positives)
    print(
        f"{len(positives)} pictures with {faces} faces, {len(negative)} without, at {INPUT_SIDE} px"
    )
    if arguments.sweep:
        sweep(positives, negative)
    else:
        through_the_process(positives, negative)


if __name__ == "__main__":
    main()
