"""Fixtures: every behaviour test runs against the real app over HTTP, once per backend."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests.support import postgres
from tests.support.imports import Importer
from tests.support.origin import Origin
from tests.support.s3 import MotoS3
from tests.support.stack import POOL_SIZE, Stack, stack_config, start_stack

BACKENDS = ["sqlite", "postgres"]

# Property tests: CI's budget by default; HYPOTHESIS_PROFILE=deep for a long search before a
# release, or after changing a validator.
settings.register_profile("ci", deadline=None, derandomize=False)
settings.register_profile("deep", deadline=None, max_examples=5000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if postgres.admin_url():
        return
    skip = pytest.mark.skip(reason=f"{postgres.ENV} is not set")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def _backend_param(name: str) -> Any:
    return pytest.param(name, marks=[pytest.mark.postgres] if name == "postgres" else [], id=name)


@pytest.fixture(scope="session", params=[_backend_param(b) for b in BACKENDS])
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(scope="session")
def s3_server() -> Iterator[MotoS3]:
    server = MotoS3().start()
    yield server
    server.stop()


def _s3_for(backend: str, request: pytest.FixtureRequest) -> MotoS3 | None:
    """The PostgreSQL stack is the scaled-out one: it keeps its assets in S3."""
    return request.getfixturevalue("s3_server") if backend == "postgres" else None


@pytest.fixture(scope="session")
async def stack(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> AsyncIterator[Stack]:
    """One medialib per backend for the whole session; tests keep apart by project or by id."""
    home = tmp_path_factory.mktemp(f"shared-{backend}")
    config = stack_config(pool=POOL_SIZE)
    shared = await start_stack(backend, home, config=config, s3=_s3_for(backend, request))
    yield shared
    await shared.close()


_pools: dict[str, itertools.count[int]] = {}


@pytest.fixture
def project(backend: str) -> str:
    """A project no other test uses (the shared stack has a pool of them)."""
    n = next(_pools.setdefault(backend, itertools.count()))
    assert n < POOL_SIZE, "the project pool is used up: raise POOL_SIZE"
    return f"pool-{n:02d}"


@pytest.fixture
def other_project(backend: str, project: str) -> str:
    """A second project of the pool, for tests that two projects keep apart."""
    n = next(_pools[backend])
    assert n < POOL_SIZE, "the project pool is used up: raise POOL_SIZE"
    return f"pool-{n:02d}"


@pytest.fixture
async def make_stack(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Callable[..., Awaitable[Stack]]]:
    """A fresh medialib of its own, for tests that need an empty library or other settings."""
    made: list[Stack] = []
    s3 = _s3_for(backend, request)

    async def make(**overrides: Any) -> Stack:
        new = await start_stack(backend, tmp_path / f"home-{len(made)}", s3=s3, **overrides)
        made.append(new)
        return new

    yield make
    for one in made:
        await one.close()


@pytest.fixture(scope="session")
async def origin() -> AsyncIterator[Origin]:
    """The archive imports download from: a real HTTP server on 127.0.0.1."""
    server = await Origin().start()
    yield server
    await server.stop()


@pytest.fixture
async def importer(stack: Stack, project: str) -> AsyncIterator[Importer]:
    """A project of its own, a token, and a webhook receiver that knows the project's secret."""
    made = await Importer.open(stack, project)
    yield made
    await made.close()
