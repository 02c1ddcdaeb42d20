"""schemathesis against the OpenAPI document of every API version: generated requests to a
live server, which must never answer 5xx, and whose answers must match the document (status
codes, content types, bodies).

Each operation on its own, and then statefully: each version's own document (as its clients get
it) has links from an answer to the operations its values lead to (a job's id to its status, an
entry's id to its PATCH and DELETE, a cursor to the next page), and schemathesis' state machine
follows them through a library that holds entries and jobs."""

from __future__ import annotations

import contextlib
import copy
import http.server
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import Bundle, MultipleResults, initialize, multiple
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.stateful import APIStateMachine
from schemathesis.generation.stateful.state_machine import StepInput, StepOutput
from schemathesis.specs.openapi.checks import ensure_resource_availability, use_after_free

from medialib.api.app import create_app
from medialib.api.openapi import documents_of
from medialib.api.versions import VERSION_NAMES, VERSIONS
from medialib.auth.tokens import SCOPES
from medialib.settings import Settings
from tests.support import media
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
    """The document with `/api/{version}/…` written out for each version, as clients see it
    (its links are followed by the stateful test, on each version's own document)."""
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
                operation["responses"].get("200", {}).pop("links", None)
            paths[path.replace("{version}", version)] = concrete
    spec["paths"] = paths
    return spec


def _documents() -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The whole document, and each version's own."""
    with tempfile.TemporaryDirectory() as home:
        app = create_app(_settings(Path(home)))
        documents = documents_of(app)
        whole = _every_version(app.openapi())
        return whole, {name: documents.of(VERSIONS[name]) for name in VERSION_NAMES}


_whole, _own = _documents()
schema = schemathesis.openapi.from_dict(_whole)
# The walks follow the documents' links only (schemathesis' own guesses lead to PUT /uploads
# without its signature) and send the live token themselves.
_WALKS = SchemathesisConfig.from_dict(
    {
        "generation": {"with-security-parameters": False},
        "phases": {"stateful": {"inference": {"algorithms": []}}},
    }
)
VERSION_SCHEMAS = {
    name: schemathesis.openapi.from_dict(doc, config=_WALKS) for name, doc in _own.items()
}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    # A server process of its own, so that generating cases and answering them use both cores.
    home = tmp_path_factory.mktemp("schemathesis")
    _settings(home)
    with _archive() as archive:
        # Only the archive's address is let through: generated import URLs reach nothing else.
        env = {"MEDIALIB_RATE_LIMIT": "0", "MEDIALIB_FETCH_ALLOW": f"{ARCHIVE_HOST}/32"}
        server = ServerProcess(home, env=env)
        token = server.run("token", "create", "--project", "demo", *_every_scope())
        server.serve("--workers", "0")
        _hold_entries_and_a_job(server.url, token, archive)
        yield server.url, token
        server.stop()


# Entries the library holds when the tests begin: real ids for the links to carry, enough that
# the walks' DELETEs leave the last version's walk some.
ITEMS = 100


ARCHIVE_HOST = "127.0.0.3"  # a loopback address nothing else listens on


@contextlib.contextmanager
def _archive() -> Iterator[str]:
    """An archive on ARCHIVE_HOST whose every path is a JPEG; its URL."""

    class Pictures(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(media.STORED_JPEG)))
            self.end_headers()
            self.wfile.write(media.STORED_JPEG)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer((ARCHIVE_HOST, 0), Pictures)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://{ARCHIVE_HOST}:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _hold_entries_and_a_job(url: str, token: str, archive: str) -> None:
    """A finished image import of ITEMS entries: a job list, a status with items, entries."""
    images = [
        {"url": f"{archive}/{i}.jpg", "id": f"picture-{i}", "fileName": f"{i}.jpg", "metadata": {}}
        for i in range(ITEMS)
    ]
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as api:
        started = api.post("/api/2026-05/import/images", json={"systemName": "s", "images": images})
        assert started.status_code == 200, started.text
        status = f"/api/2026-05/import/images/status?id={started.json()['id']}"
        deadline = time.monotonic() + 60
        while not (done := api.get(status).json())["finished"]:
            assert time.monotonic() < deadline, done
            time.sleep(0.05)  # polling the job, not waiting for a guess
    assert done["progress"]["success"] == ITEMS, done


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


STATEFUL_CHECKS = [*CHECKS, use_after_free, ensure_resource_availability]


def _walker(version: str, url: str, token: str) -> type[APIStateMachine]:
    """The state machine of a version's document, talking to the live server. Each walk starts
    where a client starts: the library's first page and the job list; its links lead on."""
    schema = VERSION_SCHEMAS[version]
    machine = schema.as_state_machine()
    first_pages = [
        schema[f"/api/{version}/{path}"]["GET"] for path in ("mediaLibrary", "import/jobs")
    ]

    class Walk(machine):  # type: ignore[valid-type, misc]
        # schemathesis starts a walk only at operations it guesses can begin one, and guesses
        # that a list filtered by `externalId` needs an "External" first; a walk that never
        # sees a real id never reaches an entry.
        @initialize(target=Bundle("catch_all"))
        def open_the_first_pages(self) -> MultipleResults[StepOutput | None]:
            outputs = []
            for operation in first_pages:
                step = StepInput.initial(operation.Case(query={"limit": 5}))
                # recorded as schemathesis records a first step, for its checks to find parents
                self.recorder.record_case(case=step.case)
                self.control.record_step(step, self.recorder)
                outputs.append(self._step(step))
            return multiple(*outputs)

        def before_call(self, case: schemathesis.Case[Any]) -> None:
            case.headers["Authorization"] = f"Bearer {token}"

        def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
            return {"base_url": url}

        def validate_response(
            self,
            response: schemathesis.Response,
            case: schemathesis.Case[Any],
            additional_checks: Any = None,
            **kwargs: Any,
        ) -> None:
            case.validate_response(
                response, checks=STATEFUL_CHECKS, transport_kwargs=kwargs, recorder=self.recorder
            )

    return Walk


@pytest.mark.parametrize("version", VERSION_NAMES)
def test_every_version_keeps_its_promises_following_its_links(
    version: str, live: tuple[str, str]
) -> None:
    url, token = live

    _walker(version, url, token).run(
        settings=settings(
            max_examples=int(os.environ.get("MEDIALIB_SCHEMATHESIS_SCENARIOS", "15")),
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            phases=[Phase.generate],
        )
    )
