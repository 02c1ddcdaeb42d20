"""Video types from their first bytes, the sizes containers declare, and the prober process
(its answers, its limits) on real videos made by PyAV."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from medialib.errors import ItemError
from medialib.media.probe.sniff import sniff
from medialib.media.probe.video import FORK_SERVER, VideoLimits, probe_video
from medialib.media.probe.video_child import declared_size
from tests.support import videos

LIMITS = VideoLimits(max_pixels=36_000_000, max_seconds=86_400, timeout=60, memory=1024**3)


@pytest.mark.parametrize("container", list(videos.CONTAINERS))
def test_each_container_is_known_by_its_bytes(container: str) -> None:
    sniffed = sniff(videos.video(container)[:4096])

    assert sniffed.mime == videos.MIME[container]
    assert sniffed.is_video


def test_transport_streams_are_known_with_and_without_timestamps() -> None:
    packet = b"\x47" + bytes(187)
    m2ts_packet = bytes(4) + packet

    assert sniff(packet * 4).mime == "video/mp2t"
    assert sniff(m2ts_packet * 4).mime == "video/mp2t"
    assert sniff(b"\x47" + bytes(400)).mime != "video/mp2t"  # one sync byte is chance


def test_mxf_is_known_by_its_partition_key() -> None:
    header = bytes.fromhex("060e2b34020501010d01020101020400") + bytes(64)

    assert sniff(header).mime == "application/mxf"


def test_riff_and_matroska_declare_their_size() -> None:
    riff = b"RIFF" + (1000).to_bytes(4, "little") + b"AVI LIST"
    # EBML header of 3 bytes, then a Segment of 0x1000 bytes (a 2-byte size)
    matroska = bytes.fromhex("1a45dfa3 83 420101 18538067 5000".replace(" ", "")) + bytes(8)
    live = bytes.fromhex("1a45dfa3 80 18538067 01ffffffffffffff".replace(" ", ""))

    assert declared_size(riff) == 1008
    assert declared_size(matroska) == 4 + 1 + 3 + 4 + 2 + 0x1000
    assert declared_size(live) is None  # unknown size: a recording still being written
    assert declared_size(b"\x00\x00\x00\x18ftypisom") is None


def test_a_made_video_is_measured(tmp_path: Path) -> None:
    source = tmp_path / "clip.mp4"
    source.write_bytes(videos.video("mp4", width=96, height=64, seconds=3, audio=True))

    info = probe_video(source, tmp_path / "poster.jpeg", LIMITS)

    assert (info.width, info.height) == (96, 64)
    assert info.duration == pytest.approx(3.0, abs=0.1)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert info.poster is not None
    assert info.poster.path.read_bytes()[:3] == b"\xff\xd8\xff"


def test_a_prober_that_breaks_its_memory_limit_fails_the_item(tmp_path: Path) -> None:
    source = tmp_path / "clip.webm"
    source.write_bytes(videos.video("webm"))
    starved = VideoLimits(max_pixels=36_000_000, max_seconds=60, timeout=60, memory=64 * 1024**2)

    with pytest.raises(ItemError) as failed:
        probe_video(source, tmp_path / "poster.jpeg", starved)

    assert failed.value.code == "invalid_video"
    assert not (tmp_path / "poster.jpeg").exists()


def test_a_prober_past_its_time_is_given_up_and_the_next_one_works(tmp_path: Path) -> None:
    stalled = tmp_path / "never.mp4"
    os.mkfifo(stalled)  # FFmpeg waits forever for a writer
    hurried = VideoLimits(max_pixels=36_000_000, max_seconds=60, timeout=0.2, memory=1024**3)
    fine = tmp_path / "fine.mp4"
    fine.write_bytes(videos.video("mp4"))

    with pytest.raises(ItemError) as failed:
        probe_video(stalled, tmp_path / "poster.jpeg", hurried)
    after = probe_video(fine, tmp_path / "fine.jpeg", LIMITS)

    assert failed.value.code == "probe_timeout"
    assert "longer than 0.2s" in failed.value.message
    assert not (tmp_path / "poster.jpeg").exists()
    assert after.poster is not None


def test_a_fork_server_that_died_is_started_again(tmp_path: Path) -> None:
    source = tmp_path / "clip.mp4"
    source.write_bytes(videos.video("mp4"))
    probe_video(source, tmp_path / "first.jpeg", LIMITS)
    [server] = fork_servers()

    os.kill(server, signal.SIGKILL)
    again = probe_video(source, tmp_path / "again.jpeg", LIMITS)

    assert again.poster is not None
    assert fork_servers() != [server]


def fork_servers() -> list[int]:
    """This process's children that are video fork servers."""
    found = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        for child in (task / "children").read_text().split():
            command = Path(f"/proc/{child}/cmdline").read_bytes()
            if FORK_SERVER.encode() in command:
                found.append(int(child))
    return found
