"""What a stranger can make of the rendition surface: rendition URLs need no signature unless a
secure token is configured, so anyone may ask for any variant of any image. Storage grows by
what the pictures are, not by how they are asked for; a large stored variant is streamed, not
read whole for each reader; an animation costs what its frames are worth, no more. Both stacks.
"""

from __future__ import annotations

import asyncio
import tracemalloc

import httpx
import pytest
from PIL import Image

from tests.support import pictures
from tests.support.pictures import colour_at, decode, frame_colour, many_frames, near
from tests.support.renditions import picture, rendition, stored
from tests.support.stack import Stack


@pytest.fixture
async def api(stack: Stack, project: str) -> httpx.AsyncClient:
    return await stack.api(project)


async def test_urls_asking_for_the_same_picture_store_it_once(make_stack) -> None:
    # The attack: three GETs of a 4096x4096 PNG of one original that differ in what a PNG
    # cannot show (q) or what fit=scale does not use (a focal point) stored three identical
    # variants of 46 MB. Here the longest side is 256, so that asking past it is cheap.
    small = await make_stack(rendition_max_side=256)
    api = await small.api()
    key = await stored(small, api, pictures.encode(pictures.quadrants()), width=200, height=100)
    asked = "w=256&h=256&fit=scale&fm=png"
    same = [
        asked,
        f"{asked}&q=1",
        f"{asked}&q=2",
        f"{asked}&fp-x=0.123&fp-y=0.9",
        f"{asked}&crop=top,left",  # only fit=crop and fit=min cut
        f"{asked}&bg=ff0000&fill-color=00f",  # a JPEG has no transparency; no fit=fill
        "w=128&h=128&dpr=2&fit=scale&fm=png",
        "w=300&h=300&fit=scale&fm=png",  # past the longest side: clamped as before
        "w=10000000&h=10000000&fit=scale&fm=png&q=100",
    ]

    answers = [await rendition(small, key, query) for query in same]

    assert [a.status_code for a in answers] == [200] * len(same)
    assert len({a.content for a in answers}) == 1
    assert len({a.headers["etag"] for a in answers}) == 1
    assert decode(answers[0].content).size == (256, 256)
    assert small.renders == 1
    assert len(await small.runtime.storage.list_keys(f"v/{key}")) == 1
    # Never two different pictures under one name: q changes a JPEG.
    low, high = [await rendition(small, key, f"w=64&fm=jpg&q={q}") for q in (5, 95)]
    assert low.headers["etag"] != high.headers["etag"]
    assert len(low.content) < len(high.content)
    assert len(await small.runtime.storage.list_keys(f"v/{key}")) == 3


async def test_an_original_keeps_at_most_its_share_of_variants(make_stack) -> None:
    # Distinct legitimate URLs (w=100, 101, 102, ...) each make a picture of their own: past
    # the bound they are made and served, not stored, and said to be so.
    bounded = await make_stack(variants_per_asset=2)
    api = await bounded.api()
    key = await stored(bounded, api, pictures.encode(pictures.quadrants()), width=200, height=100)

    kept = [await rendition(bounded, key, f"w={w}") for w in (10, 11)]
    extra = await rendition(bounded, key, "w=12")
    again = await rendition(bounded, key, "w=12")
    unchanged = await bounded.client().get(
        f"/media/{key}?w=12", headers={"If-None-Match": extra.headers["etag"]}
    )
    first_again = await rendition(bounded, key, "w=10")

    assert [k.status_code for k in kept] == [200, 200]
    for stored_one in [*kept, first_again]:
        assert stored_one.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "x-medialib-variant" not in stored_one.headers
    assert extra.status_code == 200
    assert decode(extra.content).size == (12, 6)
    assert extra.headers["x-medialib-variant"] == "not-stored"
    assert extra.headers["cache-control"] == "public, max-age=300"
    assert again.content == extra.content
    assert again.headers["etag"] == extra.headers["etag"] != kept[0].headers["etag"]
    assert unchanged.status_code == 304
    assert unchanged.headers["cache-control"] == "public, max-age=300"
    assert len(await bounded.runtime.storage.list_keys(f"v/{key}")) == 2
    assert bounded.renders == 4  # w=12 made twice, w=10 read from storage


async def test_a_large_stored_variant_is_streamed_to_its_readers(make_stack) -> None:
    # A PNG of 3000x3000 noise: about 21 MB, more than loopback's socket buffers hold (a
    # smaller one would be in the kernel's hands before the readers are looked at). Its render
    # may take a few seconds on a busy machine.
    stack = await make_stack(render_timeout=60)
    api = await stack.api()
    noise = Image.merge("RGB", [Image.effect_noise((3000, 3000), 90)] * 3)
    key = await stored(stack, api, pictures.encode(noise, quality=90), width=3000, height=3000)
    query = "w=3000&fm=png"
    made = await rendition(stack, key, query)  # made now, and stored
    assert made.status_code == 200
    assert len(made.content) > 16_000_000

    largest = await _largest_block_while_read(stack, key, query, readers=3)
    head = await stack.client().head(f"/media/{key}?{query}")
    whole = await rendition(stack, key, query)

    # Read whole, each reader's copy of the variant was one block as large as the variant.
    assert largest < 1_000_000, largest
    assert whole.content == made.content
    assert whole.headers["etag"] == made.headers["etag"]
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == str(len(made.content))


async def _largest_block_while_read(stack: Stack, key: str, query: str, readers: int) -> int:
    """The largest block of memory allocated in this process (the server runs here) and still
    held while `readers` clients are part-way through the variant: each has its first bytes,
    none has read the rest. Blocks of the S3 stand-in (moto, in this process too) do not
    count: its copy of an object for a GET is S3's, not medialib's."""
    client = stack.client()
    tracemalloc.start(25)
    try:
        async with asyncio.TaskGroup() as group:
            gates = [asyncio.Event() for _ in range(readers)]
            started = [asyncio.Event() for _ in range(readers)]
            for gate, begun in zip(gates, started, strict=True):
                group.create_task(_read_slowly(client, f"/media/{key}?{query}", begun, gate))
            for begun in started:
                await begun.wait()
            snapshot = tracemalloc.take_snapshot()
            for gate in gates:
                gate.set()
    finally:
        tracemalloc.stop()
    sizes = [
        trace.size
        for trace in snapshot.traces
        if not any(
            "/moto/" in frame.filename or "werkzeug" in frame.filename for frame in trace.traceback
        )
    ]
    return max(sizes)


async def _read_slowly(
    client: httpx.AsyncClient, url: str, begun: asyncio.Event, gate: asyncio.Event
) -> None:
    async with client.stream("GET", url) as response:
        assert response.status_code == 200
        chunks = response.aiter_raw()
        await anext(chunks)
        begun.set()
        await gate.wait()
        async for _ in chunks:
            pass


async def test_an_animation_of_more_frames_than_a_rendition_makes_gets_its_first(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    # 185 KB: 5000 frames of one pixel each, every one a colour of its own. Made into an
    # animation it cost the server a libvips pipeline per frame (1.3 GB, kept after).
    flood = many_frames(5000, (1, 1))
    key = await stored(stack, api, flood, "image/gif", width=1, height=1)

    for query in ("w=130&fm=gif", "w=2&fm=webp", "w=64&h=32&fit=crop&fm=gif"):
        made = await picture(stack, key, query)
        assert getattr(made, "n_frames", 1) == 1, query
        assert near(colour_at(made, 1, 1), frame_colour(0), slack=8), query

    # At the bound, every frame, also where each frame is worked on its own (padded above and
    # below, and grown).
    most = many_frames(500, (10, 10))
    key = await stored(stack, api, most, "image/gif", width=10, height=10)
    padded = await picture(stack, key, "w=10&h=16&fit=fill&fm=gif")
    grown = await picture(stack, key, "w=20&fm=gif")
    assert (padded.size, getattr(padded, "n_frames", 1)) == ((10, 16), 500)
    assert (grown.size, getattr(grown, "n_frames", 1)) == ((20, 20), 500)
    for made, (x, y) in ((padded, (5, 8)), (grown, (10, 10))):
        made.seek(499)
        assert near(colour_at(made, x, y), frame_colour(499), slack=8)
