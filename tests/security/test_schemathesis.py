"""schemathesis against the OpenAPI document of every API version: generated requests to a
live server, which must never answer 5xx, and whose answers must match the document (status
codes, content types, bodies)."""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from medialib.api.app import create_app
from medialib.api.versions import VERSION_NAMES
from medialib.auth.tokens import SCOPES
from medialib.settings import Settings
from tests.support.process import ServerProcess
from tests.support.stack import stack_config

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _settings(home: Path) -> Settings:
    home.mkdir(parents=True, exist_ok=True)
    (home / "medialib.yaml").write_text(yaml.safe_dump(stack_config()))
    return Settings(home=home, config=home / "medialib.yaml", rate_limit=0.0)


def _every_version(spec: dict[str, Any]) -> dict[str, Any]:
    """The document with `/api/{version}/…` written out for each version, as clients see it."""
    spec = copy.deepcopy(spec)
    paths: dict[str, Any] = {}
    for path, item in spec["paths"].items():
        if "{version}" not in path:
            paths[path] = item
            continue
        for version in VERSION_NAMES:
            concrete = copy.deepcopy(item)
            for operation in concrete.values():
                operation["parameters"] = [
                    p for p in operation.get("parameters", []) if p["name"] != "version"
                ]
                operation["operationId"] = f"{operation['operationId']}_{version}"
            paths[path.replace("{version}", version)] = concrete
    spec["paths"] = paths
    return spec


def _document() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as home:
        return _every_version(create_app(_settings(Path(home))).openapi())


schema = schemathesis.openapi.from_dict(_document())


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    # A server process of its own, so that generating cases and answering them use both cores.
    home = tmp_path_factory.mktemp("schemathesis")
    _settings(home)
    server = ServerProcess(home, env={"MEDIALIB_RATE_LIMIT": "0"})
    token = server.run("token", "create", "--project", "demo", *_every_scope())
    server.serve("--workers", "0")
    yield server.url, token
    server.stop()


def _every_scope() -> list[str]:
    return [arg for scope in SCOPES for arg in ("--scope", scope)]


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("MEDIALIB_SCHEMATHESIS_EXAMPLES", "4")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_of_every_version_keeps_its_promises(
    case: schemathesis.Case[Any], live: tuple[str, str]
) -> None:
    url, token = live
    case.call_and_validate(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
    )
