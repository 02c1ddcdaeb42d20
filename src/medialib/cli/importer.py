"""`medialib import KIND MANIFEST` (KIND: one of the server's import kinds, by its plural): a
whole archive through a medialib server's import API, with progress, resume (a state file
beside the manifest) and a report."""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TextIO

import click

from medialib.client.kinds import ClientKind
from medialib.client.manifest import (
    Manifest,
    ManifestError,
    Row,
    read_folder,
    read_manifest,
)
from medialib.client.progress import Display, Plain, Quiet, line_of
from medialib.client.report import write_report
from medialib.client.run import TRANSIENT, Importer, Options, Snapshot
from medialib.client.server import Busy, ImportApi, ServerError
from medialib.client.state import State, StateError, state_path
from medialib.imports.kinds import KINDS as IMPORT_KINDS
from medialib.imports.kinds import ImportKind


def client_kind(kind: ImportKind) -> ClientKind:
    """An import kind as the bulk client needs to know it."""
    return ClientKind(kind.plural, kind.name, kind.media_kind)


# The server's own kinds: a new kind is a new choice here.
KINDS = {kind.plural: client_kind(kind) for kind in IMPORT_KINDS}
EXIT_FAILED, EXIT_USAGE = 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C
P = ParamSpec("P")


def resumable_on_ctrl_c(command: Callable[P, None]) -> Callable[P, None]:
    """Ctrl-C ends the command with 130 and says how to go on, not click's `Aborted!` and 1
    (the code for "some rows failed")."""

    @functools.wraps(command)
    def interruptible(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except KeyboardInterrupt:
            # What was learnt is in the state file already: each change is committed at once.
            message = "medialib import: interrupted; run the same command again to resume"
            click.echo("\n" + message, err=True)
            sys.exit(EXIT_INTERRUPTED)

    return interruptible


@click.command("import")
@click.argument("kind", type=click.Choice(list(KINDS)))
@click.argument("manifest", type=click.Path(path_type=Path))
@click.option(
    "--server", envvar="MEDIALIB_SERVER", required=True, help="e.g. http://127.0.0.1:8000"
)
@click.option("--token", envvar="MEDIALIB_TOKEN", required=True, help="A token with write scope.")
@click.option("--system-name", default="medialib-import", show_default=True)
@click.option("--webhook", default=None, help="Called by the server when each job finishes.")
@click.option("--api-version", default="2026-05", show_default=True)
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 1000))
@click.option("--open-jobs", default=8, show_default=True, type=click.IntRange(1, 50))
@click.option("--skip-invalid", is_flag=True, help="Import the valid rows; list the others.")
@click.option(
    "--retry-failed",
    type=click.Choice(["transient", "all"]),
    is_flag=False,
    flag_value="transient",
    default=None,
    help="Send again the rows that failed: transient reasons (the default) or all.",
)
@click.option("--report", type=click.Path(path_type=Path), help="results.csv or results.jsonl")
@click.option("--quiet", is_flag=True, help="No progress display.")
@click.option(
    "--upload",
    is_flag=True,
    help="MANIFEST is a folder, or a manifest whose `path` column names local files: upload them.",
)
@resumable_on_ctrl_c
def import_command(
    kind: str,
    manifest: Path,
    server: str,
    token: str,
    system_name: str,
    webhook: str | None,
    api_version: str,
    batch_size: int,
    open_jobs: int,
    skip_invalid: bool,
    retry_failed: str | None,
    report: Path | None,
    quiet: bool,
    upload: bool,
) -> None:
    """Import a manifest (CSV or JSON Lines) of KIND from URLs, or with --upload local files;
    run it again to resume."""
    # Asked for every manifest: it is also the first look at the server, so that a wrong
    # address stops the command at once instead of being waited for like an outage.
    types = _property_types(server, token, api_version)
    read = _read(manifest, kind, upload, types if manifest.suffix == ".csv" else {})
    if read.problems:
        for problem in read.problems[:50]:
            click.echo(f"{manifest}: {problem}", err=True)
        more = len(read.problems) - 50
        if more > 0:
            click.echo(f"… and {more} more", err=True)
        if not skip_invalid:
            click.echo("Nothing was sent. Fix the rows, or pass --skip-invalid.", err=True)
            sys.exit(EXIT_USAGE)
    state = State(state_path(manifest))
    try:
        mode = "upload" if upload else "url"
        state.bind(
            {"kind": kind, "server": server.rstrip("/"), "systemName": system_name, "mode": mode}
        )
        state.add_rows((row.line, row.external_id) for row in read.rows)
        if retry_failed is not None:
            state.retry_failed(None if retry_failed == "all" else TRANSIENT)
        options = Options(KINDS[kind], system_name, webhook, batch_size, open_jobs)
        rows = {row.line: row for row in read.rows}
        snapshot = asyncio.run(
            _run(server, token, api_version, state, rows, options, quiet=quiet, upload=upload)
        )
        if report is not None:
            write_report(report, state.results())
        counts = state.counts()
    except (StateError, ServerError) as error:
        click.echo(f"medialib import: {error}", err=True)
        sys.exit(EXIT_USAGE if isinstance(error, StateError) else EXIT_FAILED)
    finally:
        state.close()
    if quiet:
        click.echo(line_of(snapshot, kind), err=True)
    if report is not None:
        click.echo(f"report written to {report}", err=True)
    else:
        click.echo(f"results kept in {state.path} (pass --report FILE for a report)", err=True)
    sys.exit(EXIT_FAILED if counts.get("failed") else 0)


async def _run(
    server: str,
    token: str,
    version: str,
    state: State,
    rows: dict[int, Row],
    options: Options,
    *,
    quiet: bool,
    upload: bool,
) -> Snapshot:
    api = ImportApi(server, token, version)
    importer: Importer | Uploader
    if upload:
        # Loaded only for --upload: it reads files with Pillow and PyAV (~0.1 s at start).
        from medialib.client.upload import Uploader

        importer = Uploader(api, state, rows, options)
    else:
        importer = Importer(api, state, rows, options)
    display = display_for(sys.stderr, options.plural, quiet=quiet)
    try:
        await importer.run(display.show)
    finally:
        display.close(importer.snapshot)
        await api.close()
    return importer.snapshot


def display_for(out: TextIO, label: str, *, quiet: bool) -> Display:
    """rich's live table on a terminal, a plain line every few seconds elsewhere, or nothing."""
    if quiet:
        return Quiet()
    if out.isatty():
        # Loaded only on a terminal: rich costs ~0.05 s at start where nobody looks.
        from medialib.client.live import LiveTable

        return LiveTable(out, label)
    return Plain(out, label)


def _property_types(server: str, token: str, version: str) -> dict[str, dict[str, str]]:
    """The project's metadata property types, which type a CSV's cells."""

    async def ask() -> dict[str, dict[str, str]]:
        api = ImportApi(server, token, version)
        try:
            while True:
                try:
                    return await api.property_types()
                except Busy as busy:
                    if busy.unreachable:  # nothing answers there: a wrong address, most likely
                        raise
                    await asyncio.sleep(busy.retry_after)  # it answered "later" (429, 503)
        finally:
            await api.close()

    try:
        return asyncio.run(ask())
    except Busy as error:
        click.echo(f"medialib import: {error}", err=True)
        sys.exit(EXIT_FAILED)
    except ServerError as error:
        click.echo(f"medialib import: cannot read the project's config: {error}", err=True)
        sys.exit(EXIT_FAILED)


def _read(source: Path, kind: str, upload: bool, types: dict[str, dict[str, str]]) -> Manifest:
    if source.is_dir():
        if not upload:
            raise click.UsageError(f"{source} is a folder: pass --upload to upload its files")
        return read_folder(source)
    try:
        media_type = KINDS[kind].media_type
        return read_manifest(source, uploading=upload, media_type=media_type, types=types)
    except ManifestError as error:
        raise click.UsageError(str(error)) from error
