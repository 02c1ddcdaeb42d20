"""The analysis of pictures already stored (media/analysis): of entries registered with their
assets in place (the synchronous import reads no pixels), and of a library imported before the
analysis existed (`medialib analyze`).

A project's run works through its entries in id order, a batch at a time: each batch is one
task, which analyses the pictures that lack it, writes what it found into their assets and the
near-duplicate index, moves the run's cursor and defers the next batch, all in one transaction.
So a run resumes where it was after a crash or a restart, and the pause between batches leaves
the workers to imports. An entry written meanwhile (its version moved) is left as it is: its own
write brought its analysis, or the next run does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncConnection

from medialib import metrics
from medialib.db.engine import Tx
from medialib.db.tables import analysis_runs, media_entries, utcnow
from medialib.db.upsert import insert_ignoring_conflicts
from medialib.errors import ItemError
from medialib.library import similar
from medialib.media.analysis.pixels import MAX_PIXELS
from medialib.media.analysis.processes import Analyzer
from medialib.media.analysis.records import ANALYSIS_FIELDS, Analysis
from medialib.media.storage import Storage
from medialib.settings import Settings
from medialib.tasks.core import TaskContext, TaskServices, TaskSet

log = logging.getLogger("medialib.library.analysis")

# What reading a picture's pixels may raise when they are not a picture medialib analyses.
UNREADABLE = (ItemError, OSError, ValueError, SyntaxError, Image.DecompressionBombError)

BATCH = 16  # entries looked at by one task of a run
SVG = "image/svg+xml"


class AnalysisServices(TaskServices, Protocol):
    @property
    def storage(self) -> Storage: ...

    @property
    def temp_dir(self) -> Path: ...

    @property
    def analyzer(self) -> Analyzer:
        """The analysis processes (media/analysis/processes.py)."""
        ...

    @property
    def settings(self) -> Settings: ...

    @property
    def image_analysis(self) -> bool:
        """Whether pictures are analysed at all (MEDIALIB_IMAGE_ANALYSIS)."""
        ...

    @property
    def analysis_pause(self) -> float:
        """Seconds between two batches of a run."""
        ...


TASKS = TaskSet[AnalysisServices]()


def is_picture_type(mime: str) -> bool:
    """A raster image: what the analysis reads (an SVG has no pixels to read)."""
    return mime.startswith("image/") and mime != SVG


def is_picture(asset: Mapping[str, Any]) -> bool:
    return is_picture_type(str(asset.get("mimeType", ""))) and isinstance(asset.get("key"), str)


def picture_of(asset: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The picture an entry's asset shows: the image itself, or a video's poster."""
    if is_picture(asset):
        return asset
    poster = asset.get("poster")
    if isinstance(poster, Mapping) and is_picture(poster):
        return poster
    return None


def lacks_analysis(asset: Mapping[str, Any]) -> bool:
    picture = picture_of(asset)
    return picture is not None and "perceptualHash" not in picture


def with_analysis(asset: dict[str, Any], analysis: Analysis) -> dict[str, Any]:
    """The asset with its picture's analysis; a focal point an editor placed stays."""
    picture = picture_of(asset)
    assert picture is not None
    found = analysis.asset_fields()
    placed = picture.get("focalPoint")
    if isinstance(placed, Mapping) and placed.get("source") == "editor":
        found["focalPoint"] = dict(placed)
    if picture is asset:
        return asset | found
    return asset | {"poster": dict(picture) | found}


def hash_of(asset: Mapping[str, Any]) -> int | None:
    """The perceptual hash the asset's picture carries, if analysed."""
    picture = picture_of(asset)
    value = picture.get("perceptualHash") if picture is not None else None
    if not isinstance(value, str):
        return None
    try:
        return int(value, 16)
    except ValueError:
        return None


def without_analysis(asset: Mapping[str, Any]) -> dict[str, Any]:
    """An asset as a caller may send it: what the analysis writes is the analysis's own."""
    out = {name: value for name, value in asset.items() if name not in ANALYSIS_FIELDS}
    poster = out.get("poster")
    if isinstance(poster, Mapping):
        out["poster"] = {n: v for n, v in poster.items() if n not in ANALYSIS_FIELDS}
    return out


def with_placed_focal_point(asset: dict[str, Any], before: Mapping[str, Any]) -> dict[str, Any]:
    """A new asset of an entry keeps the focal point an editor placed on the entry's picture
    (a later import of the same entry brings new bytes, not a new choice of what matters)."""
    picture, was = picture_of(asset), picture_of(before)
    placed = was.get("focalPoint") if was is not None else None
    if picture is None or not isinstance(placed, Mapping) or placed.get("source") != "editor":
        return asset
    if picture is asset:
        return asset | {"focalPoint": dict(placed)}
    return asset | {"poster": dict(picture) | {"focalPoint": dict(placed)}}


def kept_analysis(asset: dict[str, Any], before: Mapping[str, Any]) -> dict[str, Any]:
    """A replaced asset keeps what the analysis found of its picture when the picture is the
    same object (a caller that posts the asset back sends none of it: it is medialib's own);
    another picture keeps only a focal point an editor placed."""
    picture, was = picture_of(asset), picture_of(before)
    if picture is None or was is None or picture.get("key") != was.get("key"):
        return with_placed_focal_point(asset, before)
    found = {name: was[name] for name in ANALYSIS_FIELDS if name in was}
    if picture is asset:
        return asset | found
    return asset | {"poster": dict(picture) | found}


async def analysis_of(path: Path, mime: str, analyze: Analyzer, max_pixels: int) -> dict[str, Any]:
    """The asset fields of the picture at `path` (in a thread: it is CPU work); none when its
    pixels cannot be read or the analysis failed, which the import does not fail for (its
    header was read already; `medialib analyze` can try again later)."""
    try:
        analysis = await asyncio.to_thread(_timed_analysis, path, mime, analyze, max_pixels)
    except Exception as error:
        log.info("could not analyse the picture: %s", error)
        return {}
    metrics.PICTURES_ANALYSED.labels("import").inc()
    return analysis.asset_fields()


def _timed_analysis(
    path: Path, mime: str, analyze: Analyzer, max_pixels: int = MAX_PIXELS
) -> Analysis:
    started = time.thread_time()  # the decode; the analysis process's own CPU is not counted
    try:
        return analyze(path, mime, max_pixels=max_pixels)
    finally:
        metrics.ANALYSIS_SECONDS.inc(time.thread_time() - started)


# --- Analysing stored objects -------------------------------------------------------------------


async def analyze_stored(services: AnalysisServices, key: str, mime: str) -> Analysis | None:
    """The analysis of the stored object at `key`; None when it is gone or its pixels cannot be
    read (logged: the entry keeps its asset as it was). Trouble with the storage raises, so
    that the task is tried again."""
    storage = services.storage
    local = storage.local_path(key)
    path = local if local is not None else services.temp_dir / f"{uuid.uuid4()}.analysis"
    limit = services.settings.image_max_pixels
    try:
        if local is None and not await _download(storage, key, path):
            return None
        return await asyncio.to_thread(_timed_analysis, path, mime, services.analyzer, limit)
    except FileNotFoundError:
        return None
    except UNREADABLE as error:  # pixels Pillow refuses, more than the limit, a failed analysis
        log.info("could not analyse %s: %s", key, error)
        return None
    finally:
        if local is None:
            path.unlink(missing_ok=True)


async def _download(storage: Storage, key: str, path: Path) -> bool:
    body = await storage.get(key)
    if body is None:
        return False
    with path.open("wb") as out:
        async for chunk in body.chunks:
            out.write(chunk)
    return True


@dataclass(frozen=True)
class _Found:
    entry_id: str
    key: str  # the picture analysed
    analysis: Analysis


async def _analyse_rows(services: AnalysisServices, rows: Sequence[Any]) -> list[_Found]:
    found = []
    for row in rows:
        picture = picture_of(row.asset)
        if picture is None or "perceptualHash" in picture:
            continue
        analysis = await analyze_stored(services, picture["key"], picture["mimeType"])
        if analysis is not None:
            found.append(_Found(row.id, picture["key"], analysis))
    return found


def write_found(tx: Tx, project: str, found: Sequence[_Found]) -> list[str]:
    """Each entry's asset with its analysis, and its hash in the index, read and written in
    this transaction: what was edited meanwhile (the metadata, a focal point an editor placed)
    stays. An entry whose picture changed since, or that is gone, is left alone. Returns the
    entries written."""
    ids = [one.entry_id for one in found]
    query = sa.select(media_entries.c.id, media_entries.c.asset).where(
        media_entries.c.project == project, media_entries.c.id.in_(ids)
    )
    rows = tx.execute(query.with_for_update() if tx.is_postgres else query)
    current: dict[str, dict[str, Any]] = {row.id: row.asset for row in rows}
    hashes: dict[str, int | None] = {}
    for one in found:
        asset = current.get(one.entry_id)
        picture = picture_of(asset) if asset is not None else None
        if asset is None or picture is None or picture.get("key") != one.key:
            continue
        asset = with_analysis(dict(asset), one.analysis)
        tx.execute(
            media_entries.update()
            .where(media_entries.c.project == project, media_entries.c.id == one.entry_id)
            .values(asset=asset)
        )
        hashes[one.entry_id] = hash_of(asset)
    similar.record_hashes(tx, project, hashes)
    return list(hashes)


_COLUMNS = (media_entries.c.id, media_entries.c.version, media_entries.c.asset)


@TASKS.task("analyze_entries", max_attempts=5)
async def analyze_entries(
    ctx: TaskContext[AnalysisServices], project: str, entry_ids: list[str]
) -> None:
    """Analyse the pictures of entries just registered (their objects were stored already)."""
    if not ctx.services.image_analysis:
        return
    async with ctx.services.db.read() as conn:
        rows = (
            await conn.execute(
                sa.select(*_COLUMNS).where(
                    media_entries.c.project == project, media_entries.c.id.in_(entry_ids)
                )
            )
        ).all()
    found = await _analyse_rows(ctx.services, rows)
    if found:
        written = await ctx.services.db.transact(lambda tx: write_found(tx, project, found))
        metrics.PICTURES_ANALYSED.labels("registration").inc(len(written))


def defer_analysis(tx: Tx, project: str, assets: Mapping[str, Mapping[str, Any]]) -> None:
    """Analyse, after the commit, the pictures of entries written with assets stored already."""
    waiting = sorted(entry_id for entry_id, asset in assets.items() if lacks_analysis(asset))
    for start in range(0, len(waiting), BATCH):
        analyze_entries.defer(tx, project=project, entry_ids=waiting[start : start + BATCH])


# --- A project's run over its older entries ----------------------------------------------------


@dataclass(frozen=True)
class Run:
    project: str
    total: int
    looked_at: int
    analysed: int
    failed: int
    started_at: dt.datetime
    finished_at: dt.datetime | None

    @property
    def done(self) -> bool:
        return self.finished_at is not None


def start_run(tx: Tx, project: str) -> Run:
    """Start the project's run, or go on with the one under way (from its cursor, with a new
    chain of tasks: a task of the old chain ends at once). A finished run starts over."""
    chain = uuid.uuid4().hex
    total = tx.execute(
        sa.select(sa.func.count()).where(media_entries.c.project == project)
    ).scalar_one()
    fresh = {
        "project": project,
        "chain": chain,
        "after_id": None,
        "total": total,
        "looked_at": 0,
        "analysed": 0,
        "failed": 0,
        "started_at": utcnow(),
        "finished_at": None,
    }
    tx.execute(insert_ignoring_conflicts(tx.conn, analysis_runs), fresh)
    current = _run_row(tx, project)
    if current.finished_at is not None:
        tx.execute(_this_run(project).values(fresh))
    else:
        tx.execute(_this_run(project).values(chain=chain))
    analyze_library.defer(tx, project=project, chain=chain)
    return _as_run(_run_row(tx, project))


def _this_run(project: str) -> sa.Update:
    return analysis_runs.update().where(analysis_runs.c.project == project)


def _run_row(tx: Tx, project: str) -> Any:
    query = sa.select(analysis_runs).where(analysis_runs.c.project == project)
    return tx.execute(query.with_for_update() if tx.is_postgres else query).one()


def _as_run(row: Any) -> Run:
    fields = {f.name for f in dataclasses.fields(Run)}
    return Run(**{name: value for name, value in row._mapping.items() if name in fields})


async def read_run(conn: AsyncConnection, project: str) -> Run | None:
    """The project's last run, if it had one."""
    rows = await conn.execute(sa.select(analysis_runs).where(analysis_runs.c.project == project))
    row = rows.one_or_none()
    return _as_run(row) if row is not None else None


async def read_runs(conn: AsyncConnection) -> list[Run]:
    """Every project's last run, for the web view and `medialib analyze`."""
    rows = await conn.execute(sa.select(analysis_runs).order_by(analysis_runs.c.project))
    return [_as_run(row) for row in rows]


@TASKS.task("analyze_library", max_attempts=10)
async def analyze_library(ctx: TaskContext[AnalysisServices], project: str, chain: str) -> None:
    """One batch of the project's run: the next entries after the cursor."""
    services = ctx.services
    async with services.db.read() as conn:
        state = (
            await conn.execute(
                sa.select(analysis_runs.c.chain, analysis_runs.c.after_id).where(
                    analysis_runs.c.project == project
                )
            )
        ).one_or_none()
        if state is None or state.chain != chain:
            return  # a newer chain carries the run
        query = sa.select(*_COLUMNS).where(media_entries.c.project == project)
        if state.after_id is not None:
            query = query.where(media_entries.c.id > state.after_id)
        rows = (await conn.execute(query.order_by(media_entries.c.id).limit(BATCH))).all()
    found = await _analyse_rows(services, rows)
    wanted = sum(lacks_analysis(row.asset) for row in rows)

    def write(tx: Tx) -> int:
        run = _run_row(tx, project)
        if run.chain != chain or run.after_id != state.after_id or run.finished_at is not None:
            return 0  # a newer chain, or this batch was written already (a task run twice)
        written = write_found(tx, project, found)
        values: dict[str, Any] = {
            "looked_at": run.looked_at + len(rows),
            "analysed": run.analysed + len(written),
            "failed": run.failed + wanted - len(found),
        }
        if len(rows) < BATCH:
            values["finished_at"] = utcnow()
        else:
            values["after_id"] = rows[-1].id
            analyze_library.defer(tx, delay=services.analysis_pause, project=project, chain=chain)
        tx.execute(_this_run(project).values(values))
        return len(written)

    written = await services.db.transact(write)
    metrics.PICTURES_ANALYSED.labels("backfill").inc(written)
