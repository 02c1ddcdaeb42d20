"""`medialib import … --upload`: local files through the upload endpoint (medialib's own signed
PUT on the local store, a presigned PUT to the bucket on S3) and the synchronous import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.client.test_import_command import jobs_of, medialib_import, read_report
from tests.support import media, videos
from tests.support.stack import Stack


async def test_a_folder_is_uploaded_and_registered(
    stack: Stack, project: str, tmp_path: Path
) -> None:
    token = await stack.token(project)
    api = stack.client(token)
    folder = tmp_path / "scans"
    (folder / "1999").mkdir(parents=True)
    (folder / "a.jpg").write_bytes(media.jpeg(40, 30))
    (folder / "1999" / "b.png").write_bytes(media.png(21, 34))
    (folder / "notes.txt").write_text("not a picture")
    (folder / ".hidden.jpg").write_bytes(media.jpeg(10, 10))
    report = tmp_path / "results.csv"
    jobs_before = len(await jobs_of(api))

    done = await medialib_import(
        stack, token, "images", folder, "--upload", "--report", report, "--system-name", "scans"
    )

    assert done.returncode == 1  # notes.txt is no image
    rows = {r["id"]: r for r in read_report(report)}
    assert set(rows) == {"1999/b.png", "a.jpg", "notes.txt"}
    assert rows["notes.txt"]["state"] == "failed"
    assert rows["notes.txt"]["reasonCode"] == "unreadable_file"
    ids = ",".join(rows[name]["mediaId"] for name in ("a.jpg", "1999/b.png"))
    entries = (await api.get("/api/2026-05/mediaLibrary", params={"ids": ids})).json()["results"]
    assert [(e["externalId"], e["asset"]["width"], e["asset"]["mimeType"]) for e in entries] == [
        ("a.jpg", 40, "image/jpeg"),
        ("1999/b.png", 21, "image/png"),
    ]
    served = await stack.client().get(f"/media/{entries[0]['asset']['key']}")
    assert served.status_code == 200
    assert served.content == (folder / "a.jpg").read_bytes()
    assert len(await jobs_of(api)) == jobs_before  # no URL import job: uploads and registrations

    again = await medialib_import(
        stack, token, "images", folder, "--upload", "--report", report, "--system-name", "scans"
    )
    assert again.returncode == 1
    assert {r["id"]: r["mediaId"] for r in read_report(report)} == {
        k: r["mediaId"] for k, r in rows.items()
    }


async def test_a_manifest_names_local_files_with_their_metadata(
    stack: Stack, project: str, tmp_path: Path
) -> None:
    token = await stack.token(project)
    api = stack.client(token)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "report.pdf").write_bytes(b"%PDF-1.4\n% a report\n%%EOF\n")
    manifest = tmp_path / "files.jsonl"
    line = {"path": "docs/report.pdf", "id": "r-1", "fileName": "report.pdf"}
    manifest.write_text(json.dumps(line | {"metadata": {"title": "Annual report"}}) + "\n")
    report = tmp_path / "results.csv"

    done = await medialib_import(stack, token, "files", manifest, "--upload", "--report", report)

    assert done.returncode == 0, done.stderr
    [row] = read_report(report)
    [entry] = (await api.get("/api/2026-05/mediaLibrary", params={"ids": row["mediaId"]})).json()[
        "results"
    ]
    assert entry["metadata"] == {"title": "Annual report"}
    assert entry["asset"]["mimeType"] == "application/pdf"
    assert entry["asset"]["size"] == (tmp_path / "docs" / "report.pdf").stat().st_size


async def test_a_folder_needs_the_upload_flag(stack: Stack, project: str, tmp_path: Path) -> None:
    token = await stack.token(project)
    folder = tmp_path / "clips"
    folder.mkdir()
    no_flag = await medialib_import(stack, token, "images", folder)
    assert no_flag.returncode == 2
    assert "pass --upload" in no_flag.stderr


async def test_videos_are_uploaded_with_their_duration_and_size(
    stack: Stack, project: str, tmp_path: Path
) -> None:
    token = await stack.token(project)
    api = stack.client(token)
    folder = tmp_path / "clips"
    folder.mkdir()
    (folder / "harbour.mp4").write_bytes(videos.video("mp4", width=64, height=48, seconds=2.0))
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200)
    report = tmp_path / "results.csv"

    done = await medialib_import(stack, token, "videos", folder, "--upload", "--report", report)

    assert done.returncode == 1  # broken.mp4
    rows = {r["id"]: r for r in read_report(report)}
    assert rows["broken.mp4"]["reasonCode"] == "unreadable_file"
    [entry] = (
        await api.get("/api/2026-05/mediaLibrary", params={"ids": rows["harbour.mp4"]["mediaId"]})
    ).json()["results"]
    asset = entry["asset"]
    assert (asset["mimeType"], asset["width"], asset["height"]) == ("video/mp4", 64, 48)
    assert asset["duration"] == pytest.approx(2.0, abs=0.2)
