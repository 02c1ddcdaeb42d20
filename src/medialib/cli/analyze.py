"""`medialib analyze [--project P]... [--wait]`: start the analysis of a library's older entries
(library/analysis.py): perceptual hashes, placeholders, colours, faces and focal points for the
pictures imported before the analysis existed. The run goes on in the workers (`medialib serve`
or `medialib worker`), a batch at a time, and resumes where it was after a restart; started
again, it goes on from where it is."""

from __future__ import annotations

import asyncio
import functools

import click

from medialib.bootstrap import Runtime
from medialib.cli.common import fail_cleanly, with_runtime
from medialib.errors import ConfigError, NotFound
from medialib.library.analysis import Run, read_runs, start_run

POLL = 1.0  # seconds between two looks at the runs' progress with --wait


def _line(run: Run) -> str:
    state = "done" if run.done else "under way"
    line = f"{run.project}: {state}, {run.looked_at} of {run.total} entries looked at, "
    line += f"{run.analysed} pictures analysed"
    return line + (f", {run.failed} could not be read" if run.failed else "")


@click.command(name="analyze")
@click.option(
    "--project", "projects", multiple=True, help="A project's handle (all projects by default)."
)
@click.option("--wait", is_flag=True, help="Follow the runs until they are done.")
@fail_cleanly
def analyze_command(projects: tuple[str, ...], wait: bool) -> None:
    """Analyse the pictures of entries imported before the image analysis existed."""

    async def work(rt: Runtime) -> None:
        if not rt.settings.image_analysis:
            raise ConfigError("MEDIALIB_IMAGE_ANALYSIS is off: nothing would analyse the pictures")
        handles = list(projects) or sorted(rt.projects)
        for handle in handles:
            if handle not in rt.projects:
                raise NotFound(f"no project {handle!r}")
        for handle in handles:
            run = await rt.db.transact(functools.partial(start_run, project=handle))
            click.echo(f"{handle}: started, {run.total} entries to look at")
        while wait:
            async with rt.db.read() as conn:
                runs = [run for run in await read_runs(conn) if run.project in handles]
            if all(run.done for run in runs):
                break
            await asyncio.sleep(POLL)
        async with rt.db.read() as conn:
            for run in await read_runs(conn):
                if run.project in handles:
                    click.echo(_line(run))

    with_runtime(work)
