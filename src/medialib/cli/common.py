"""What every command shares: clean failures, and a runtime for the length of one job."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar

import click
import pydantic

from medialib.bootstrap import Runtime, prepare
from medialib.errors import MedialibError
from medialib.settings import Settings

T = TypeVar("T")


def fail_cleanly(func: Callable[..., T]) -> Callable[..., T]:
    """Known failures (a broken config, an unknown project) end in one line, not a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return func(*args, **kwargs)
        except MedialibError as exc:
            click.echo(f"medialib: error: {exc.message}", err=True)
            sys.exit(2)
        except pydantic.ValidationError as exc:  # a MEDIALIB_* setting that cannot be read
            for error in exc.errors():
                name = "MEDIALIB_" + "_".join(str(part) for part in error["loc"]).upper()
                click.echo(f"medialib: error: {name}: {error['msg']}", err=True)
            sys.exit(2)

    return wrapper


def with_runtime(
    work: Callable[[Runtime], Awaitable[T]],
    settings: Settings | None = None,
    *,
    prepared: bool = True,
) -> T:
    """Run `work` with a runtime; `prepared` first brings the schema and projects up to date
    (the embedded database migrates itself; PostgreSQL must have been migrated)."""

    async def run() -> T:
        rt = Runtime.from_settings(settings or Settings())
        try:
            if prepared:
                await prepare(rt)
            return await work(rt)
        finally:
            await rt.close()

    return asyncio.run(run())
