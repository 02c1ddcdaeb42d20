"""The OpenAPI documents: the whole API with `{version}` as a path parameter (`/openapi.json`),
and one of each version as its clients see it (`/api/{version}/openapi.json`).

Request bodies are read by hand (after auth, with a byte cap), so their schemas are added here.
FastAPI's 422 answers never happen: `api/errors.py` gives its validation errors the API's 400
error body, so that is what the documents say. A route's 200 answer names the operations its
values lead to (OpenAPI links: a job's id to its status, an entry's id to its PATCH), for
clients and for schemathesis' state machine.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from medialib.api.schemas import (
    DocumentReferences,
    EntryList,
    ErrorBody,
    ImportResults,
    MediaReferences,
    error_description,
)
from medialib.api.versions import VERSIONS, ApiVersion
from medialib.library.models import PatchIn, PatchRequestIn
from medialib.parsing import whole_number

_REF = "#/components/schemas/{model}"
_documented: list[type[BaseModel]] = []

VERSIONED = "/api/{version}/"
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
# An operation some versions lack: the name of the ApiVersion flag that has it.
_ONLY_WHERE = "x-medialib-only-where"
_FLAGS = frozenset(f.name for f in dataclasses.fields(ApiVersion) if f.type in ("bool", bool))
_LIST_KEYS = ("mediaLibraryEntries", "results")
# Links a route's answer leads to, by the target's method and path, until the document names
# them by operationId.
_LINKS = "x-medialib-links"
# Stands in a link's runtime expression for the version's list key: only the versions'
# documents can say it.
LIST_KEY = "{listKey}"


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a route whose JSON body has the shape of `model`."""
    _documented.append(model)
    schema = {"$ref": _REF.format(model=model.__name__)}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def only_where(flag: str) -> dict[str, Any]:
    """`openapi_extra` for a route the versions without `flag` (an ApiVersion field) answer
    404: their documents leave it out."""
    assert flag in _FLAGS, f"{flag!r} is not a flag of ApiVersion"
    return {_ONLY_WHERE: flag}


def link(target: str, description: str, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link to the operation `target` ("GET /api/{version}/mediaLibrary/{id}"), its
    parameters given as runtime expressions (`id="$response.body#/id"`)."""
    return {"target": target, "description": description, "parameters": parameters}


def leads_to(**links: dict[str, Any]) -> dict[str, Any]:
    """`openapi_extra` for a route whose 200 answer leads to other operations: `link`s by name."""
    return {_LINKS: links}


class Documents:
    """The app's documents, each made on first use."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._base: dict[str, Any] | None = None
        self._whole: dict[str, Any] | None = None
        self._versions: dict[str, dict[str, Any]] = {}

    def whole(self) -> dict[str, Any]:
        if self._whole is None:
            self._whole = _finish(_with_versions_named(copy.deepcopy(self.base())))
            self._app.openapi_schema = self._whole
        return self._whole

    def of(self, version: ApiVersion) -> dict[str, Any]:
        found = self._versions.get(version.name)
        if found is None:
            found = _finish(_for_version(copy.deepcopy(self.base()), version))
            self._versions[version.name] = found
        return found

    def base(self) -> dict[str, Any]:
        """FastAPI's document with the hand-read bodies' schemas."""
        if self._base is None:
            app = self._app
            spec = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            _, defs = models_json_schema(
                [(m, "validation") for m in _documented], ref_template=_REF
            )
            spec.setdefault("components", {}).setdefault("schemas", {}).update(
                defs.get("$defs", {})
            )
            _name_link_targets(spec)
            self._base = spec
        return self._base


def install(app: FastAPI) -> None:
    documents = Documents(app)
    app.state.openapi_documents = documents
    app.openapi = documents.whole  # type: ignore[method-assign]


def documents_of(app: FastAPI) -> Documents:
    documents: Documents = app.state.openapi_documents
    return documents


def _name_link_targets(spec: dict[str, Any]) -> None:
    """Each route's links under its 200 answer, their targets named by operationId."""
    ids = {
        f"{method.upper()} {path}": operation["operationId"]
        for path, item in spec["paths"].items()
        for method, operation in _operations(item)
    }
    for item in spec["paths"].values():
        for _, operation in _operations(item):
            links = operation.pop(_LINKS, None)
            if not links:
                continue
            operation["responses"]["200"]["links"] = {
                name: {
                    "operationId": ids[found["target"]],
                    "description": found["description"],
                    "parameters": found["parameters"],
                }
                for name, found in links.items()
            }


def _links(spec: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str, dict[str, Any]]]:
    """(the links of an answer, a link's name, the link) for every link of the document."""
    for item in spec["paths"].values():
        for _, operation in _operations(item):
            links = operation.get("responses", {}).get("200", {}).get("links", {})
            for name, found in list(links.items()):
                yield links, name, found


def _drop_empty_links(spec: dict[str, Any]) -> None:
    for item in spec["paths"].values():
        for _, operation in _operations(item):
            answer = operation.get("responses", {}).get("200", {})
            if "links" in answer and not answer["links"]:
                del answer["links"]


# --- One version ------------------------------------------------------------------------------


def _for_version(spec: dict[str, Any], version: ApiVersion) -> dict[str, Any]:
    """`/api/{version}/…` written out for `version`, without what it lacks."""
    paths: dict[str, Any] = {}
    for path, item in spec["paths"].items():
        if path.startswith(VERSIONED):
            path = f"/api/{version.name}/{path.removeprefix(VERSIONED)}"
        for method, operation in list(_operations(item)):
            flag = operation.pop(_ONLY_WHERE, None)
            if flag is not None and not getattr(version, flag):
                del item[method]
                continue
            parameters = [p for p in operation.get("parameters", []) if not _is_version(p)]
            if parameters:
                operation["parameters"] = parameters
            else:
                operation.pop("parameters", None)
        if any(True for _ in _operations(item)):
            paths[path] = item
    spec["paths"] = paths
    _links_of_version(spec, version)
    info = spec["info"]
    info["version"] = version.name
    described = info.get("description", "").replace("/api/{version}", f"/api/{version.name}")
    info["description"] = f"{described}\n{_differences(version)}"
    _shape_schemas(spec["components"]["schemas"], version)
    return spec


def _links_of_version(spec: dict[str, Any], version: ApiVersion) -> None:
    """Links to operations the version has, with its list key."""
    present = {
        op.get("operationId") for item in spec["paths"].values() for _, op in _operations(item)
    }
    for links, name, found in _links(spec):
        if found["operationId"] not in present:
            del links[name]
            continue
        found["parameters"] = {
            parameter: expression.replace(LIST_KEY, version.list_key)
            for parameter, expression in found["parameters"].items()
        }
    _drop_empty_links(spec)


def _is_version(parameter: dict[str, Any]) -> bool:
    return parameter.get("in") == "path" and parameter.get("name") == "version"


def _differences(version: ApiVersion) -> str:
    """What this version does its own way (the README's table of versions, for this one)."""
    errors = (
        '`MetadataValidationErrors` with `invalidMetadata`, "should be …"'
        if version.metadata_errors == "v1"
        else '`ValidationError` with `errors`, "must be …"'
    )
    revoke = "409 Conflict" if version.revoke_conflicts else "a no-op"
    lines = [
        f"**API version {version.name}:**",
        "",
        f"- Lists of entries and import results are under `{version.list_key}`.",
        f"- PATCH operations: {', '.join(f'`{op}`' for op in sorted(version.patch_operations))}.",
        f"- Revoking a revoked entry (or unrevoking a live one) is {revoke}.",
        f"- Metadata errors: {errors}.",
    ]
    if version.preserve_updated_at:
        lines.append("- PATCH takes `preserveUpdatedAt`.")
    if version.entry_keys:
        lines.append("- `GET /mediaLibrary/{id}/keys` lists an entry's keys.")
    if version.usage_log:
        lines.append("- `GET /mediaLibrary/{id}/usageLog` and the usage log PATCH operations.")
    references = "`{total, cursor, results}`" if version.reference_pages else "an array"
    lines.append(
        "- `GET /mediaLibrary/{id}/incomingDocumentReferences` and `…/incomingMediaReferences` "
        f"answer {references}."
    )
    return "\n".join(lines) + "\n"


def _shape_schemas(schemas: dict[str, Any], version: ApiVersion) -> None:
    """The shared models as this version reads and writes them."""
    key = version.list_key
    for model in (EntryList, ImportResults):
        schema = schemas[model.__name__]
        properties = schema["properties"]
        for other in _LIST_KEYS:
            if other != key:
                properties.pop(other)
        # Always there, always a list.
        properties[key] = next(s for s in properties[key]["anyOf"] if s.get("type") != "null")
        schema["required"] = sorted({*schema.get("required", []), key})
        schema.pop("description", None)
    patch = schemas[PatchIn.__name__]
    patch["properties"]["operation"]["enum"] = sorted(version.patch_operations)
    if not version.usage_log:
        patch["properties"].pop("usageLogEntryId")
        patch["properties"].pop("oldValue")
    if not version.preserve_updated_at:
        schemas[PatchRequestIn.__name__]["properties"].pop("preserveUpdatedAt")
    for name in (DocumentReferences.__name__, MediaReferences.__name__):
        references = schemas[name]
        paged = next(
            s
            for s in references.pop("anyOf")
            if (s.get("type") == "array") is not version.reference_pages
        )
        references |= paged
        references.pop("description", None)


# --- Every version ----------------------------------------------------------------------------


def _with_versions_named(spec: dict[str, Any]) -> dict[str, Any]:
    """An operation only some versions have says which (`x-api-versions`, and in words)."""
    _links_of_every_version(spec)
    for item in spec["paths"].values():
        for _, operation in _operations(item):
            flag = operation.pop(_ONLY_WHERE, None)
            if flag is None:
                continue
            names = [name for name, version in VERSIONS.items() if getattr(version, flag)]
            operation["x-api-versions"] = names
            note = f"Only in API versions {', '.join(names)}; the others answer 404."
            described = operation.get("description")
            operation["description"] = f"{described}\n\n{note}" if described else note
    return spec


def _links_of_every_version(spec: dict[str, Any]) -> None:
    """Links whose values are where every version has them, carrying the request's version."""
    versioned = {
        op.get("operationId")
        for path, item in spec["paths"].items()
        if path.startswith(VERSIONED)
        for _, op in _operations(item)
    }
    for links, name, found in _links(spec):
        parameters = found["parameters"]
        if any(LIST_KEY in expression for expression in parameters.values()):
            del links[name]  # the list key depends on the version
        elif found["operationId"] in versioned:
            found["parameters"] = {"version": "$request.path.version", **parameters}
    _drop_empty_links(spec)


# --- Both -------------------------------------------------------------------------------------


def _finish(spec: dict[str, Any]) -> dict[str, Any]:
    """The 400 error body where FastAPI said 422, and no schema nothing refers to."""
    added = False
    for item in spec["paths"].values():
        for _, operation in _operations(item):
            responses: dict[str, Any] = operation.setdefault("responses", {})
            responses.pop("422", None)
            takes_input = bool(operation.get("parameters")) or "requestBody" in operation
            if takes_input and "400" not in responses:
                responses["400"] = _error_answer(400)
                added = True
            operation["responses"] = dict(sorted(responses.items(), key=_by_code))
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    if added:
        schemas.setdefault(ErrorBody.__name__, ErrorBody.model_json_schema(ref_template=_REF))
    used = _referenced(spec)
    for name in list(schemas):
        if name not in used:
            del schemas[name]
    return spec


def _error_answer(code: int) -> dict[str, Any]:
    schema = {"$ref": _REF.format(model=ErrorBody.__name__)}
    return {
        "description": error_description(code),
        "content": {"application/json": {"schema": schema}},
    }


def _by_code(response: tuple[str, Any]) -> tuple[int, str]:
    code = response[0]
    number = whole_number(code, max_digits=3)
    return (number, code) if number is not None else (1000, code)


def _operations(item: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for method, operation in item.items():
        if method in _METHODS:
            yield method, operation


def _referenced(spec: dict[str, Any]) -> set[str]:
    """The component schemas the paths refer to, directly or through other schemas."""
    schemas = spec.get("components", {}).get("schemas", {})
    prefix = _REF.format(model="")
    found: set[str] = set()
    todo: list[Any] = [{k: v for k, v in spec.items() if k != "components"}]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(prefix):
                name = ref.removeprefix(prefix)
                if name not in found and name in schemas:
                    found.add(name)
                    todo.append(schemas[name])
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return found
