"""The analysis processes on real photos (scikit-image's): the face detector in them, the same
analysis as in-process, and the processes themselves: killed, hung, out of memory, asked from
many threads at once; what they answer, checked; and the worker that asks them loads neither
numpy nor OpenCV."""

from __future__ import annotations

import json
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
from typing import Any

import pytest
import skimage.data
from PIL import Image

from medialib.errors import ItemError
from medialib.media.analysis import child
from medialib.media.analysis.analyze import analyze_image
from medialib.media.analysis.copies import grey_copy
from medialib.media.analysis.processes import (
    AnalysisFailed,
    AnalysisProcesses,
    PictureRefused,
    ProcessLimits,
    analysis_processes,
    answered,
)
from medialib.media.analysis.records import Box, FocusSource

LIMITS = ProcessLimits(memory=640 * 1024**2, timeout=5.0, processes=1)


PHOTOS = Path(skimage.data.__file__).parent  # scikit-image's photos, as files


def as_input(photo: str) -> Image.Image:
    """A decoded picture, RGB, its long side 320 px (the pool makes its own copy of it)."""
    picture = Image.open(PHOTOS / photo).convert("RGB")
    picture.thumbnail((320, 320))
    return picture


ASTRONAUT = as_input("astronaut.png")


@pytest.fixture
def processes() -> Iterator[AnalysisProcesses]:
    pool = AnalysisProcesses(LIMITS, faces=True)
    yield pool
    pool.close()


def faces_of(pool: AnalysisProcesses, picture: Image.Image) -> tuple[Box, ...]:
    return pool.analyze(picture).faces


def assert_on_collins_face(faces: tuple[Box, ...]) -> None:
    """Eileen Collins' face lies at x 0.35..0.53, y 0.13..0.31 of the picture (looked at)."""
    assert len(faces) == 1
    face = faces[0]
    centre_x, centre_y = face.x + face.width / 2, face.y + face.height / 2
    assert 0.33 <= centre_x <= 0.50
    assert 0.10 <= centre_y <= 0.30
    assert 0.10 <= face.width <= 0.35


def test_the_astronaut_has_one_face_on_her_face(processes: AnalysisProcesses) -> None:
    analysis = processes.analyze(ASTRONAUT)

    assert_on_collins_face(analysis.faces)
    assert analysis.focal_point.source is FocusSource.FACES


@pytest.mark.parametrize(
    "photo",
    ["coffee.png", "rocket.jpg", "chelsea.png", "ihc.png", "brick.png", "motorcycle_left.png"],
)
def test_photos_without_a_person_have_no_faces(processes: AnalysisProcesses, photo: str) -> None:
    analysis = processes.analyze(as_input(photo))

    assert analysis.faces == ()
    assert analysis.focal_point.source is FocusSource.SALIENCY


def test_a_mirrored_portrait_has_its_face_mirrored(processes: AnalysisProcesses) -> None:
    [face] = faces_of(processes, ASTRONAUT.transpose(Image.Transpose.FLIP_LEFT_RIGHT))

    assert 0.50 <= face.x + face.width / 2 <= 0.67  # the mirror of 0.33..0.50


@pytest.mark.parametrize("size", [(1, 1), (3000, 2), (2, 3000), (40, 40)])
def test_pictures_too_small_for_a_face_have_none(
    processes: AnalysisProcesses, size: tuple[int, int]
) -> None:
    assert faces_of(processes, Image.new("RGB", size, (200, 150, 120))) == ()


@pytest.mark.parametrize("faces", [True, False])
def test_a_process_analyses_a_file_as_this_process_would(tmp_path: Path, faces: bool) -> None:
    path = tmp_path / "coffee.jpg"
    Image.open(PHOTOS / "coffee.png").save(path, quality=90)
    pool = AnalysisProcesses(LIMITS, faces=faces)
    try:
        apart = pool(path, "image/jpeg")
    finally:
        pool.close()

    # No face in the coffee: the detector only makes the copy larger.
    here = analyze_image(path, "image/jpeg", (lambda picture: ()) if faces else None)

    assert (apart.phash, apart.placeholder) == (here.phash, here.placeholder)
    assert apart.color == here.color
    assert apart.focal_point.source is here.focal_point.source is FocusSource.SALIENCY
    assert apart.focal_point.x == pytest.approx(here.focal_point.x, abs=1e-4)
    assert apart.focal_point.y == pytest.approx(here.focal_point.y, abs=1e-4)


def test_pixels_that_cannot_be_read_are_refused_before_any_process_starts(
    tmp_path: Path, processes: AnalysisProcesses
) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n not a png")

    with pytest.raises(ItemError) as refused:
        processes(path, "image/png")

    assert refused.value.code == "invalid_image"
    assert processes.pids() == []


_NEITHER = (
    "import sys\n"
    "from pathlib import Path\n"
    "from medialib.media.analysis.processes import AnalysisProcesses, ProcessLimits\n"
    "limits = ProcessLimits(memory=640 * 1024**2, timeout=5.0, processes=1)\n"
    "pool = AnalysisProcesses(limits, faces={faces})\n"
    "analysis = pool(Path({path!r}), 'image/png')\n"
    "assert len(analysis.faces) == {found}, analysis\n"
    "loaded = {{'numpy', 'cv2'}} & set(sys.modules)\n"
    "assert not loaded, f'the caller loaded {{loaded}}'\n"
    "maps = Path(f'/proc/{{pool.pids()[0]}}/maps').read_text()\n"
    "print('opencv' in maps or 'cv2' in maps)\n"
)


@pytest.mark.parametrize("faces", [True, False])
def test_the_worker_loads_neither_numpy_nor_opencv(faces: bool) -> None:
    script = _NEITHER.format(faces=faces, path=str(PHOTOS / "astronaut.png"), found=int(faces))

    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )

    assert done.stdout.strip() == str(faces)  # OpenCV is mapped by the face detector's only


def test_a_killed_process_is_replaced(processes: AnalysisProcesses) -> None:
    assert_on_collins_face(faces_of(processes, ASTRONAUT))
    [first] = processes.pids()

    exited = os.pidfd_open(first)
    os.kill(first, signal.SIGKILL)
    select.select([exited], [], [], 10)  # readable once the process has ended
    os.close(exited)

    assert_on_collins_face(faces_of(processes, ASTRONAUT))
    [second] = processes.pids()
    assert second != first


def test_a_hung_process_is_replaced_and_the_picture_is_not_analysed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pool = AnalysisProcesses(ProcessLimits(640 * 1024**2, timeout=1.0, processes=1), faces=True)
    try:
        pool.analyze(ASTRONAUT)
        [hung] = pool.pids()
        os.kill(hung, signal.SIGSTOP)

        started = time.monotonic()
        with pytest.raises(AnalysisFailed):
            pool.analyze(ASTRONAUT)
        assert time.monotonic() - started < 5
        assert pool.pids() == []  # stopped, and not started again until needed
        assert "no answer within 1s" in caplog.text
        assert not os.path.exists(f"/proc/{hung}")  # killed and reaped

        assert_on_collins_face(faces_of(pool, ASTRONAUT))
    finally:
        pool.close()


def test_a_process_over_its_memory_limit_is_not_restarted_for_every_picture(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    # Less address space than OpenCV already holds: the first picture's allocations fail.
    pool = AnalysisProcesses(ProcessLimits(64 * 1024**2, timeout=5.0, processes=1), faces=True)
    try:
        with pytest.raises(AnalysisFailed):
            pool.analyze(ASTRONAUT)
        assert "the analysis failed, no picture is analysed for 60s" in caplog.text
        caplog.clear()

        started = time.monotonic()
        for _ in range(20):
            with pytest.raises(AnalysisFailed, match="no analysis process for 60s"):
                pool.analyze(ASTRONAUT)
        assert time.monotonic() - started < 1  # no process started: it would take 0.2 s each
        assert pool.pids() == []
        assert caplog.text == ""  # said once
    finally:
        pool.close()


def test_threads_share_the_processes(caplog: pytest.LogCaptureFixture) -> None:
    pool = AnalysisProcesses(ProcessLimits(640 * 1024**2, timeout=10.0, processes=2), faces=True)
    try:
        with ThreadPoolExecutor(8) as threads:
            answers = list(threads.map(pool.analyze, [ASTRONAUT] * 40))
        for analysis in answers:
            assert_on_collins_face(analysis.faces)
        assert 1 <= len(pool.pids()) <= 2
        assert "failed" not in caplog.text
    finally:
        pool.close()


def test_without_face_detection_the_focus_comes_from_saliency() -> None:
    pool = AnalysisProcesses(LIMITS, faces=False)
    try:
        analysis = pool.analyze(ASTRONAUT)
    finally:
        pool.close()

    assert analysis.faces == ()
    assert analysis.focal_point.source is FocusSource.SALIENCY


def test_one_pool_per_setting() -> None:
    limits = ProcessLimits(memory=700 * 1024**2, timeout=3.0, processes=1)

    assert analysis_processes(limits, faces=True) is analysis_processes(limits, faces=True)
    assert analysis_processes(limits, faces=False) is not analysis_processes(limits, faces=True)


# --- What a process answers, and what the worker believes of it --------------------------------


def _request(picture: Image.Image) -> bytes:
    return child.HEADER.pack(picture.width, picture.height) + picture.tobytes()


def _answer(**changed: Any) -> bytes:
    fields = child.answer(_request(Image.new("RGB", (40, 30), (200, 30, 30))), None)
    return json.dumps(fields | changed).encode()


def test_an_answer_is_read_back_into_the_analysis() -> None:
    analysis = answered(_answer())

    assert analysis.color == "#c81e1e"
    assert analysis.faces == ()
    assert analysis.focal_point.source is FocusSource.SALIENCY
    assert 0 <= analysis.phash < 1 << 64


@pytest.mark.parametrize(
    "faces",
    [
        "not a list",
        [[0.1, 0.2, 0.3]],
        [[0.1, 0.2, 0.3, "0.4"]],
        [[0.1, 0.2, 0.3, float("nan")]],
        [[0.1, 0.2, 0.3, float("inf")]],
        [[0.1, 0.2, 0.3, True]],
        [[0.1, 0.1, 0.1, 0.1]] * 65,
        [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]],
    ],
)
def test_answers_that_are_not_faces_are_refused(faces: Any) -> None:
    with pytest.raises(AnalysisFailed, match=r"faces|box"):
        answered(_answer(faces=faces))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phash", "123"),
        ("phash", "0123456789ABCDEF"),
        ("phash", 12345),
        ("placeholder", "not base64!"),
        ("placeholder", "QUJD"),  # 3 bytes: no ThumbHash
        ("placeholder", "QUJD" * 40),
        ("color", "red"),
        ("color", "#c81e1e; x"),
        ("focalPoint", [0.5, 0.5]),
        ("focalPoint", [0.5, 0.5, "editor"]),
        ("focalPoint", [0.5, float("nan"), "saliency"]),
        ("focalPoint", {"x": 0.5, "y": 0.5, "source": "saliency"}),
    ],
)
def test_answers_that_are_not_an_analysis_are_refused(field: str, value: object) -> None:
    with pytest.raises(AnalysisFailed):
        answered(_answer(**{field: value}))


@pytest.mark.parametrize(
    "answer", [b"", b"not json", b"[1, 2]", b"[" * 60_000 + b"]" * 60_000, b'"an analysis"']
)
def test_answers_that_are_not_json_objects_are_refused(answer: bytes) -> None:
    with pytest.raises(AnalysisFailed) as failed:
        answered(answer)

    assert not isinstance(failed.value, PictureRefused)  # the process is not trusted any more


def test_boxes_are_kept_inside_the_picture() -> None:
    [box] = answered(_answer(faces=[[-0.5, 0.9, 3, 0.5]])).faces

    assert (box.x, box.y, box.width) == (0.0, 0.9, 1.0)
    assert box.height == pytest.approx(0.1)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"",
        b"\x01",
        child.HEADER.pack(0, 0),
        child.HEADER.pack(10, 10) + bytes(299),
        child.HEADER.pack(10, 10) + bytes(301),
        child.HEADER.pack(257, 1) + bytes(257 * 3),
        child.HEADER.pack(65535, 65535) + bytes(10),
    ],
)
def test_a_process_answers_malformed_requests_with_an_error(request_bytes: bytes) -> None:
    fields = child.answer(request_bytes, None)

    assert "error" in fields
    with pytest.raises(PictureRefused):
        answered(json.dumps(fields).encode())


def test_a_detector_that_fails_leaves_the_rest_of_the_analysis(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(picture: Image.Image) -> tuple[Box, ...]:
        raise MemoryError("Failed to allocate 25600 bytes")

    fields = child.answer(_request(ASTRONAUT.resize((160, 160))), broken)
    analysis = answered(json.dumps(fields).encode())

    assert analysis.faces == ()
    assert analysis.focal_point.source is FocusSource.SALIENCY
    assert "face detection failed, the picture gets no faces: MemoryError" in caplog.text


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "P", "PA", "1", "I", "I;16", "F", "CMYK"])
def test_pictures_of_any_mode_are_looked_at(processes: AnalysisProcesses, mode: str) -> None:
    picture = ASTRONAUT.convert(mode) if mode != "I;16" else Image.new(mode, (320, 320))

    faces = faces_of(processes, picture)

    if mode == "I;16":
        assert faces == ()  # a blank picture (Pillow does not convert RGB to it)
    else:
        assert_on_collins_face(faces)


def test_a_mode_without_rgb_is_refused_as_unreadable(processes: AnalysisProcesses) -> None:
    with pytest.raises(ItemError) as refused:
        processes.analyze(Image.new("La", (32, 32)))

    assert refused.value.code == "invalid_image"


def test_the_grey_copy_is_small_and_never_enlarged() -> None:
    assert grey_copy(ASTRONAUT).size == (160, 160)
    assert grey_copy(Image.new("RGB", (100, 50))).size == (100, 50)
    assert grey_copy(Image.new("RGBA", (640, 320))).mode == "L"
