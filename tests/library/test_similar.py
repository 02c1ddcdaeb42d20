"""Near-duplicates (library/similar.py) on both backends: the multi-index lookup finds exactly
what a scan of every hash finds, within the project, and an entry's hash goes with it."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterable, Mapping

import pytest

from medialib.db.engine import Tx
from medialib.db.tables import media_entries
from medialib.errors import BadRequest
from medialib.library import similar
from medialib.library.repository import entry_row
from medialib.library.similar import MAX_THRESHOLD, Similar
from tests.support.stack import Stack

SEED = 30


def flipped(phash: int, per_band: Iterable[int], rnd: random.Random) -> int:
    """`phash` with as many bits flipped in each band (band 0 first) as `per_band` says."""
    for band, count in enumerate(per_band):
        top = 63 - 16 * band
        for bit in rnd.sample(range(top - 15, top + 1), count):
            phash ^= 1 << bit
    return phash


async def stored(stack: Stack, project: str, hashes: Mapping[str, int | None]) -> None:
    """Entries of these ids, with these hashes (written as the import writes them)."""
    now = dt.datetime.now(dt.UTC)
    rows = [
        entry_row(project=project, media_type="image", asset={"key": f"{project}/{entry_id}"},
                  metadata={}, now=now, entry_id=entry_id)
        for entry_id in hashes
    ]  # fmt: skip

    def write(tx: Tx) -> None:
        tx.execute(media_entries.insert(), rows)
        similar.record_hashes(tx, project, hashes)

    await stack.runtime.db.transact(write)


async def near(
    stack: Stack, project: str, hashes: Mapping[str, int], threshold: int, limit: int = 1000
) -> dict[str, list[Similar]]:
    async with stack.runtime.db.read() as conn:
        return await conn.run_sync(similar.near_many, project, hashes, threshold, limit)


def scanned(
    library: Mapping[str, int], hashes: Mapping[str, int], threshold: int, limit: int = 1000
) -> dict[str, list[Similar]]:
    """What a scan of every hash finds: the answer the index must give."""
    found = {}
    for key, phash in hashes.items():
        close = [
            Similar(entry_id, similar.distance(phash, other))
            for entry_id, other in library.items()
            if entry_id != key and similar.distance(phash, other) <= threshold
        ]
        found[key] = sorted(close, key=lambda s: (s.distance, s.media_id))[:limit]
    return found


def planted(rnd: random.Random, centres: int) -> tuple[dict[str, int], dict[str, int]]:
    """Random hashes, and around some of them neighbours right at each threshold's edge: every
    spread of flipped bits over the bands up to 3 bits a band (the radius is at most 2, so 3
    bits in a band is r + 1 for the largest thresholds, and more for the smaller)."""
    library = {f"r{i:04d}": rnd.getrandbits(64) for i in range(1500)}
    queries = {}
    spreads = list(itertools.product(range(4), repeat=4))
    for c in range(centres):
        centre = rnd.getrandbits(64)
        queries[f"q{c}"] = centre
        for s, spread in enumerate(rnd.sample(spreads, 40)):
            library[f"n{c}-{s:02d}"] = flipped(centre, spread, rnd)
    return library, queries


async def test_lookups_find_what_a_scan_of_every_hash_finds(stack: Stack, project: str) -> None:
    rnd = random.Random(SEED)
    library, queries = planted(rnd, centres=12)
    queries |= {f"x{i}": rnd.getrandbits(64) for i in range(30)}  # nothing planted near
    await stored(stack, project, library)

    for threshold in range(MAX_THRESHOLD + 1):
        expected = scanned(library, queries, threshold)
        assert await near(stack, project, queries, threshold) == expected, threshold
    edge = scanned(library, queries, 10)
    assert sum(s.distance == 10 for found in edge.values() for s in found) >= 5  # tested edges
    assert sum(s.distance == 11 for found in scanned(library, queries, 11).values() for s in found)


async def test_an_entry_is_not_its_own_near_duplicate_and_ties_go_by_id(
    stack: Stack, project: str
) -> None:
    rnd = random.Random(SEED + 1)
    centre = rnd.getrandbits(64)
    twins = {"b-twin": centre, "a-twin": centre, "c-twin": centre ^ 1, "self": centre}
    await stored(stack, project, twins)

    async with stack.runtime.db.read() as conn:
        found = await conn.run_sync(similar.similar_to, project, "self", 10, 2)
        everything = await conn.run_sync(similar.similar_to, project, "self", 10, 10)
    assert found == [Similar("a-twin", 0), Similar("b-twin", 0)]
    assert everything == [*found, Similar("c-twin", 1)]


async def test_other_projects_entries_are_never_found(
    stack: Stack, project: str, other_project: str
) -> None:
    other = other_project
    rnd = random.Random(SEED + 2)
    library, queries = planted(rnd, centres=4)
    await stored(stack, project, {"mine": queries["q0"]})
    await stored(stack, other, library)

    found = await near(stack, project, queries, MAX_THRESHOLD)
    assert found == {key: [] for key in queries if key != "q0"} | {"q0": [Similar("mine", 0)]}


async def test_a_hash_is_replaced_removed_and_goes_with_its_entry(
    stack: Stack, project: str
) -> None:
    rnd = random.Random(SEED + 3)
    centre = rnd.getrandbits(64)
    await stored(stack, project, {"one": centre, "two": centre ^ 0b111, "three": centre})

    async def similar_to(entry_id: str) -> list[Similar] | None:
        async with stack.runtime.db.read() as conn:
            return await conn.run_sync(similar.similar_to, project, entry_id, 10, 10)

    assert await similar_to("one") == [Similar("three", 0), Similar("two", 3)]
    far = centre ^ (2**64 - 1)  # every bit differs
    await stack.runtime.db.transact(
        lambda tx: similar.record_hashes(tx, project, {"two": far, "three": None})
    )
    assert await similar_to("one") == []
    assert await similar_to("three") is None
    assert await similar_to("two") == []

    api = await stack.api(project)
    await stored(stack, project, {"four": far ^ 1})
    assert await similar_to("two") == [Similar("four", 1)]
    deleted = await api.delete("/api/2026-05/mediaLibrary/four")
    assert deleted.status_code == 200, deleted.text
    assert await similar_to("two") == []
    async with stack.runtime.db.read() as conn:
        assert await conn.run_sync(similar.hash_of, project, "four") is None


async def test_the_hash_keeps_all_64_bits(stack: Stack, project: str) -> None:
    """The database holds a signed BIGINT: the top bit set, all set, none set."""
    edges = {"top": 1 << 63, "all": 2**64 - 1, "none": 0, "low": 1}
    await stored(stack, project, edges)

    async with stack.runtime.db.read() as conn:
        for entry_id, phash in edges.items():
            assert await conn.run_sync(similar.hash_of, project, entry_id) == phash
    found = await near(stack, project, {"all": 2**64 - 1, "none": 0}, 1)
    assert found == {"all": [], "none": [Similar("low", 1), Similar("top", 1)]}


@pytest.mark.parametrize("bad", [-1, 2**64, 2**100])
async def test_a_hash_outside_64_bits_is_refused(stack: Stack, project: str, bad: int) -> None:
    with pytest.raises(ValueError, match="64 bits"):
        await near(stack, project, {"x": bad}, 10)
    with pytest.raises(ValueError, match="64 bits"):
        await stack.runtime.db.transact(lambda tx: similar.record_hashes(tx, project, {"x": bad}))


@pytest.mark.parametrize("bad", [-1, MAX_THRESHOLD + 1, 64])
async def test_a_threshold_past_the_cap_is_refused(stack: Stack, project: str, bad: int) -> None:
    with pytest.raises(ValueError, match="threshold"):
        await near(stack, project, {"x": 0}, bad)


async def test_groups_show_each_group_once_in_id_order(stack: Stack, project: str) -> None:
    rnd = random.Random(SEED + 4)
    library = {f"r{i:04d}": rnd.getrandbits(64) for i in range(300)}
    for c in range(9):
        centre = rnd.getrandbits(64)
        for member in range(c % 3 + 2):
            library[f"g{c}-{member}"] = flipped(centre, (1, 1, 0, member % 2), rnd)
    await stored(stack, project, library)

    walked: list[similar.Group] = []
    after = None
    async with stack.runtime.db.read() as conn:
        while True:
            page = await conn.run_sync(similar.groups, project, after, 2, 10)
            assert len(page.groups) <= 2
            walked += page.groups
            if page.cursor is None:
                break
            after = page.cursor

    everyone = scanned(library, library, 10)
    leaders = [
        entry_id
        for entry_id, found in sorted(everyone.items())
        if found and all(one.media_id > entry_id for one in found)
    ]
    assert [group.media_id for group in walked] == leaders
    assert len(leaders) >= 9
    assert all(group.similar == everyone[group.media_id] for group in walked)


@pytest.mark.parametrize("cursor", ["", "nonsense", "Zw", "x" * 5000, "bXw="])
async def test_a_groups_cursor_it_did_not_give_is_refused(
    stack: Stack, project: str, cursor: str
) -> None:
    async with stack.runtime.db.read() as conn:
        with pytest.raises(BadRequest):
            await conn.run_sync(similar.groups, project, cursor, 10, 10)
