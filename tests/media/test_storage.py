"""Storage against a real local folder and a real S3-compatible server (moto)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from medialib.media.storage import MULTIPART_CHUNK, Head, Storage, new_key
from tests.support.s3 import MotoS3


@pytest.fixture(params=["folder", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "folder":
        yield Storage((tmp_path / "store").as_uri())
        return
    s3: MotoS3 = request.getfixturevalue("s3_server")
    yield Storage(f"s3://{s3.new_bucket()}/media", s3_endpoint=s3.endpoint)


async def test_a_stored_file_reads_back_whole_and_in_ranges(
    storage: Storage, tmp_path: Path
) -> None:
    body = os.urandom(300_000)
    source = tmp_path / "download.part"
    source.write_bytes(body)
    key = new_key("bin")

    await storage.put_file(key, source, content_type="application/octet-stream")

    info = await storage.head(key)
    assert info is not None
    assert info.size == len(body)
    whole = await storage.get(key)
    assert whole is not None
    assert b"".join([chunk async for chunk in whole.chunks]) == body
    part = await storage.get(key, (1000, 2000))
    assert part is not None
    assert b"".join([chunk async for chunk in part.chunks]) == body[1000:2000]
    heads = await storage.first_bytes([key, "2026/01/01/nothing.bin"], 10, lambda head: head)
    assert heads[key] == Head(len(body), body[:10])
    assert heads["2026/01/01/nothing.bin"] is None
    sizes = await storage.first_bytes([key], len(body) * 2, lambda head: len(head.data))
    assert sizes == {key: len(body)}


async def test_a_large_body_goes_up_in_parts(storage: Storage, tmp_path: Path) -> None:
    size = MULTIPART_CHUNK * 2 + 12345
    source = tmp_path / "big.part"
    with source.open("wb") as file:
        for _ in range(size // 1_000_000 + 1):
            file.write(os.urandom(1_000_000))
        file.truncate(size)
    key = new_key("bin")
    expected = hashlib.sha256(source.read_bytes()).hexdigest()

    await storage.put_file(key, source)

    body = await storage.get(key)
    assert body is not None
    digest = hashlib.sha256()
    async for chunk in body.chunks:
        digest.update(chunk)
    assert digest.hexdigest() == expected


async def test_delete_removes_and_tolerates_absence(storage: Storage) -> None:
    key = new_key("bin")
    await storage.put(key, b"x")

    await storage.delete(key)
    await storage.delete(key)

    assert await storage.head(key) is None


async def test_a_local_store_moves_a_download_into_place(tmp_path: Path) -> None:
    storage = Storage((tmp_path / "store").as_uri())
    source = tmp_path / "download.part"
    source.write_bytes(b"bytes")

    await storage.put_file("2026/11/23/a.bin", source)

    assert not source.exists()
    assert (tmp_path / "store/2026/11/23/a.bin").read_bytes() == b"bytes"
