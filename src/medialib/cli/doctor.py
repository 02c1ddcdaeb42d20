"""`medialib doctor [--repair]`: the store checked against the database (library/doctor.py).
Prints a line per problem with its key, project and entries; exits 1 while any remains."""

from __future__ import annotations

import datetime as dt
import os
import sys

import click

from medialib.bootstrap import Runtime
from medialib.cli.common import fail_cleanly, with_runtime
from medialib.library.doctor import GRACE, Finding, examine, repair


def _line(finding: Finding) -> str:
    parts = [f"{finding.problem}: {finding.key}"]
    if finding.project:
        parts.append(f"project {finding.project}")
    if finding.entries:
        parts.append("entries " + ", ".join(finding.entries))
    parts.append("removable" if finding.removable else "not removable: entries point at it")
    return "  ".join(parts)


@click.command(name="doctor")
@click.option("--repair", is_flag=True, help="Remove what nothing references.")
@click.option(
    "--min-age",
    type=click.FloatRange(min=0),
    default=GRACE.total_seconds(),
    show_default=True,
    help="Seconds: younger objects and rows are left out (imports store an object a moment "
    "before its row).",
)
@fail_cleanly
def doctor_command(repair: bool, min_age: float) -> None:
    """Check the stored objects against the database: objects without rows, rows without
    objects, renditions of deleted originals, uploads never registered past their expiry."""
    grace = dt.timedelta(seconds=min_age)

    async def work(rt: Runtime) -> int:
        checkup = await examine(rt.db, rt.storage, grace=grace)
        for finding in checkup.findings:
            click.echo(_line(finding))
        left = checkup.findings
        if repair and left:
            removed = await _repair(rt, left, grace)
            left = [f for f in left if f not in removed]
        removable = sum(f.removable for f in left)
        click.echo(
            f"medialib: looked at {checkup.objects} objects and {checkup.rows} asset rows: "
            + (
                f"{len(left)} problem(s) left"
                + (f", {removable} removable with --repair" if removable and not repair else "")
                if left
                else "all is well"
            )
        )
        return 1 if left else 0

    code = with_runtime(work)
    # The answer is out and the runtime closed. Once, on S3 and under load, the interpreter's
    # own teardown then died of SIGABRT (a native library's threads, it seems): an operator's
    # script would read -6, not the findings. So the process ends here, without that teardown.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


async def _repair(rt: Runtime, findings: list[Finding], grace: dt.timedelta) -> list[Finding]:
    removed = await repair(rt.db, rt.storage, findings, grace=grace)
    for finding in removed:
        click.echo(f"removed {finding.problem}: {finding.key}")
    return removed
