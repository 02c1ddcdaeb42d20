"""The face detector on real photos (scikit-image's), and its process: killed, hung, out of
memory, asked from many threads at once; what it answers, checked."""

from __future__ import annotations

import logging
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import skimage.data
from PIL import Image

from medialib.media.analysis import faces_child
from medialib.media.analysis.faces import (
    DetectorFailed,
    FaceLimits,
    FaceProcesses,
    boxes,
    face_detector,
    grey_copy,
)
from medialib.media.analysis.records import Box

LIMITS = FaceLimits(memory=512 * 1024**2, timeout=5.0, processes=1)


PHOTOS = Path(skimage.data.__file__).parent  # scikit-image's photos, as files


def as_input(photo: str) -> Image.Image:
    """A picture as analyze.py hands it over: RGB, its long side 320 px."""
    picture = Image.open(PHOTOS / photo).convert("RGB")
    picture.thumbnail((320, 320))
    return picture


ASTRONAUT = as_input("astronaut.png")


@pytest.fixture
def detector() -> Iterator[FaceProcesses]:
    processes = FaceProcesses(LIMITS)
    yield processes
    processes.close()


def assert_on_collins_face(faces: tuple[Box, ...]) -> None:
    """Eileen Collins' face lies at x 0.35..0.53, y 0.13..0.31 of the picture (looked at)."""
    assert len(faces) == 1
    face = faces[0]
    centre_x, centre_y = face.x + face.width / 2, face.y + face.height / 2
    assert 0.33 <= centre_x <= 0.50
    assert 0.10 <= centre_y <= 0.30
    assert 0.10 <= face.width <= 0.35


def test_the_astronaut_has_one_face_on_her_face(detector: FaceProcesses) -> None:
    assert_on_collins_face(detector(ASTRONAUT))


@pytest.mark.parametrize(
    "photo",
    ["coffee.png", "rocket.jpg", "chelsea.png", "ihc.png", "brick.png", "motorcycle_left.png"],
)
def test_photos_without_a_person_have_no_faces(detector: FaceProcesses, photo: str) -> None:
    assert detector(as_input(photo)) == ()


def test_a_mirrored_portrait_has_its_face_mirrored(detector: FaceProcesses) -> None:
    [face] = detector(ASTRONAUT.transpose(Image.Transpose.FLIP_LEFT_RIGHT))

    assert 0.50 <= face.x + face.width / 2 <= 0.67  # the mirror of 0.33..0.50


@pytest.mark.parametrize("size", [(1, 1), (3000, 2), (2, 3000), (40, 40)])
def test_pictures_too_small_for_a_face_have_none(
    detector: FaceProcesses, size: tuple[int, int]
) -> None:
    assert detector(Image.new("RGB", size, (200, 150, 120))) == ()


def test_the_worker_never_loads_opencv() -> None:
    script = (
        "import sys\n"
        "from PIL import Image\n"
        "from medialib.media.analysis.faces import FaceLimits, FaceProcesses\n"
        "detector = FaceProcesses(FaceLimits(memory=512 * 1024**2, timeout=5.0, processes=1))\n"
        f"assert len(detector(Image.open({str(PHOTOS / 'astronaut.png')!r}))) == 1\n"
        "assert 'cv2' not in sys.modules, 'the caller loaded OpenCV'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


def test_a_killed_detector_is_replaced(detector: FaceProcesses) -> None:
    assert_on_collins_face(detector(ASTRONAUT))
    [first] = detector.pids()

    exited = os.pidfd_open(first)
    os.kill(first, signal.SIGKILL)
    select.select([exited], [], [], 10)  # readable once the process has ended
    os.close(exited)

    assert_on_collins_face(detector(ASTRONAUT))
    [second] = detector.pids()
    assert second != first


def test_a_hung_detector_is_replaced_and_the_picture_gets_no_faces(
    caplog: pytest.LogCaptureFixture,
) -> None:
    detector = FaceProcesses(FaceLimits(memory=512 * 1024**2, timeout=1.0, processes=1))
    try:
        detector(ASTRONAUT)
        [hung] = detector.pids()
        os.kill(hung, signal.SIGSTOP)

        started = time.monotonic()
        assert detector(ASTRONAUT) == ()
        assert time.monotonic() - started < 5
        assert detector.pids() == []  # stopped, and not started again until needed
        assert "no answer within 1s" in caplog.text
        assert not os.path.exists(f"/proc/{hung}")  # killed and reaped

        assert_on_collins_face(detector(ASTRONAUT))
    finally:
        detector.close()


def test_a_detector_over_its_memory_limit_is_not_restarted_for_every_picture(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    # Less address space than OpenCV already holds: the first picture's allocations fail.
    detector = FaceProcesses(FaceLimits(memory=64 * 1024**2, timeout=5.0, processes=1))
    try:
        assert detector(ASTRONAUT) == ()
        assert "face detection failed, no faces for 60s" in caplog.text
        caplog.clear()

        started = time.monotonic()
        assert [detector(ASTRONAUT) for _ in range(20)] == [()] * 20
        assert time.monotonic() - started < 1  # no process started: it would take 0.2 s each
        assert detector.pids() == []
        assert caplog.text == ""  # said once
    finally:
        detector.close()


def test_threads_share_the_processes(caplog: pytest.LogCaptureFixture) -> None:
    detector = FaceProcesses(FaceLimits(memory=512 * 1024**2, timeout=10.0, processes=2))
    try:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(detector, [ASTRONAUT] * 40))
        for faces in answers:
            assert_on_collins_face(faces)
        assert 1 <= len(detector.pids()) <= 2
        assert "face detection failed" not in caplog.text
    finally:
        detector.close()


def test_detection_off_answers_no_faces_and_starts_nothing() -> None:
    off = face_detector(False, LIMITS)

    assert off(ASTRONAUT) == ()
    assert not isinstance(off, FaceProcesses)


def test_one_pool_per_setting() -> None:
    limits = FaceLimits(memory=300 * 1024**2, timeout=3.0, processes=1)

    assert face_detector(True, limits) is face_detector(True, limits)


@pytest.mark.parametrize(
    "answer",
    [
        b"",
        b"not json",
        b'{"x": 1}',
        b"[[0.1, 0.2, 0.3]]",
        b'[[0.1, 0.2, 0.3, "0.4"]]',
        b"[[0.1, 0.2, 0.3, NaN]]",
        b"[[0.1, 0.2, 0.3, Infinity]]",
        b"[[0.1, 0.2, 0.3, true]]",
        b"[" + b",".join([b"[0.1, 0.1, 0.1, 0.1]"] * 65) + b"]",
        b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    ],
)
def test_answers_that_are_not_faces_are_refused(answer: bytes) -> None:
    with pytest.raises(DetectorFailed):
        boxes(answer)


def test_boxes_are_kept_inside_the_picture() -> None:
    [box] = boxes(b"[[-0.5, 0.9, 3, 0.5]]")

    assert (box.x, box.y, box.width) == (0.0, 0.9, 1.0)
    assert box.height == pytest.approx(0.1)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"",
        b"\x01",
        faces_child.HEADER.pack(0, 0),
        faces_child.HEADER.pack(10, 10) + bytes(99),
        faces_child.HEADER.pack(10, 10) + bytes(101),
        faces_child.HEADER.pack(65535, 65535) + bytes(10),
    ],
)
def test_the_detector_process_answers_malformed_requests_with_no_faces(
    request_bytes: bytes,
) -> None:
    assert faces_child.answer(faces_child.load(), request_bytes) == []


@pytest.mark.parametrize(
    "mode", ["L", "LA", "RGBA", "P", "PA", "1", "I", "I;16", "F", "CMYK", "La"]
)
def test_pictures_of_any_mode_are_looked_at(detector: FaceProcesses, mode: str) -> None:
    picture = ASTRONAUT.convert(mode) if mode not in ("I;16", "La") else Image.new(mode, (320, 320))

    faces = detector(picture)

    if mode in ("I;16", "La"):
        assert faces == ()  # a blank picture (Pillow converts neither from RGB)
    else:
        assert_on_collins_face(faces)


def test_the_grey_copy_is_small_and_never_enlarged() -> None:
    assert grey_copy(ASTRONAUT).size == (160, 160)
    assert grey_copy(Image.new("RGB", (100, 50))).size == (100, 50)
    assert grey_copy(Image.new("RGBA", (640, 320))).mode == "L"
