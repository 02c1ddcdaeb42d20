"""`/docs` from the package's own Swagger UI files, and the OpenAPI document of each version."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from openapi_spec_validator import validate

from medialib.api.versions import VERSION_NAMES, VERSIONS
from tests.support.stack import Stack

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


class _Links(HTMLParser):
    """Every URL a page makes the browser load or follow: its src and href attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def _links(page: str) -> list[str]:
    parser = _Links()
    parser.feed(page)
    return parser.urls


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


async def _document(client: httpx.AsyncClient, version: str) -> dict[str, Any]:
    response = await client.get(f"/api/{version}/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document: dict[str, Any] = response.json()
    return document


async def test_the_docs_page_loads_nothing_from_another_host(stack: Stack) -> None:
    client = stack.client()

    response = await client.get("/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    urls = _links(page)
    assert len(urls) >= 4  # the stylesheet, the icon and the two scripts
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme, url
        assert not parts.netloc, url
        assert url.startswith("/"), url
    assert "://" not in page  # nor in the script: no CDN, no validator badge
    assert '"validatorUrl": null' in page
    for url in urls:
        loaded = await client.get(urljoin(stack.url, url))
        assert loaded.status_code == 200, url


async def test_the_docs_page_offers_each_versions_document_newest_first(stack: Stack) -> None:
    page = (await stack.client().get("/docs")).text

    assert '"urls.primaryName": "2026-07"' in page
    for version in VERSION_NAMES:
        assert f'"url": "/api/{version}/openapi.json", "name": "{version}"' in page
    assert page.index('"name": "2026-07"') < page.index('"name": "2026-05"')
    assert 'layout: "StandaloneLayout"' in page  # the top bar with the menu


@pytest.mark.parametrize(
    ("name", "content_type", "at_least"),
    [
        ("swagger-ui-bundle.js", "text/javascript", 1_000_000),
        ("swagger-ui-standalone-preset.js", "text/javascript", 100_000),
        ("swagger-ui.css", "text/css", 100_000),
        ("favicon-32x32.png", "image/png", 100),
    ],
)
async def test_swagger_uis_files_are_served_from_the_package(
    stack: Stack, name: str, content_type: str, at_least: int
) -> None:
    client = stack.client()
    page = (await client.get("/docs")).text
    [url] = [url for url in _links(page) if url.endswith(f"/{name}")]

    response = await client.get(url)

    assert url.startswith("/docs/static/")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == content_type
    assert len(response.content) >= at_least
    assert "max-age=31536000" in response.headers["cache-control"]


async def test_only_swagger_uis_files_are_served_under_docs_static(stack: Stack) -> None:
    client = stack.client()
    [bundle] = [url for url in _links((await client.get("/docs")).text) if "bundle" in url]
    folder = bundle.rsplit("/", 1)[0]

    for url in (f"{folder}/README.md", f"{folder}/..%2F..%2Fapp.py", "/docs/static/x.js"):
        response = await client.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"] == "Not Found"


async def test_fastapis_own_doc_pages_are_off(stack: Stack) -> None:
    client = stack.client()

    assert (await client.get("/redoc")).status_code == 404
    assert (await client.get("/docs/oauth2-redirect")).status_code == 404


@pytest.mark.parametrize("version", VERSION_NAMES)
async def test_each_version_has_a_valid_document_of_its_own(stack: Stack, version: str) -> None:
    document = await _document(stack.client(), version)

    validate(document)
    assert document["info"]["version"] == version
    assert '"422"' not in json.dumps(document)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert "ValidationError" not in document["components"]["schemas"]
    assert all("{version}" not in path for path in document["paths"])
    assert f"/api/{version}/mediaLibrary" in document["paths"]
    for method, path, operation in _operations(document):
        assert "422" not in operation["responses"], (method, path)
        names = {p["name"] for p in operation.get("parameters", [])}
        assert "version" not in names, (method, path)
        if names or "requestBody" in operation:
            assert "400" in operation["responses"], (method, path)
    bad = document["paths"][f"/api/{version}/import/images"]["post"]["responses"]["400"]
    schema = bad["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ErrorBody"}


@pytest.mark.parametrize("version", ["2025-03", "2026-01", "2026-03", "2026-05"])
async def test_a_versions_document_says_what_that_version_does(
    stack: Stack, project: str, version: str
) -> None:
    document = await _document(stack.client(), version)
    api = await stack.api(project)
    rules = VERSIONS[version]
    schemas = document["components"]["schemas"]

    keys = f"/api/{version}/mediaLibrary/{{id}}/keys"
    answer = await api.get(f"/api/{version}/mediaLibrary/nope/keys")
    assert (keys in document["paths"]) == rules.entry_keys
    assert answer.status_code == 404
    assert ("needs API version" in answer.text) != rules.entry_keys
    assert set(schemas["EntryList"]["properties"]) == {rules.list_key, "cursor"}
    assert schemas["EntryList"]["required"] == [rules.list_key]
    assert set(schemas["ImportResults"]["properties"]) == {rules.list_key}
    operations = schemas["PatchIn"]["properties"]["operation"]["enum"]
    assert set(operations) == rules.patch_operations
    assert "unrevokeAsset" in operations  # a server feature: every version has it
    assert "note" in schemas["PatchIn"]["properties"]
    assert ("usageLogEntryId" in schemas["PatchIn"]["properties"]) == rules.usage_log
    assert ("addUsageLogEntry" in operations) == rules.usage_log
    assert ("preserveUpdatedAt" in schemas["PatchRequestIn"]["properties"]) == (
        rules.preserve_updated_at
    )
    for references, page in (
        ("DocumentReferences", "DocumentReferencePage"),
        ("MediaReferences", "MediaReferencePage"),
    ):
        shape = schemas[references]
        if rules.reference_pages:
            assert shape["$ref"] == f"#/components/schemas/{page}", references
        else:
            assert shape["type"] == "array", references


async def test_the_documented_400_is_the_body_the_api_gives(stack: Stack, project: str) -> None:
    document = await _document(stack.client(), "2026-05")
    api = await stack.api(project)
    error_body = document["components"]["schemas"]["ErrorBody"]

    answers = [
        await api.post("/api/2026-05/import/images", json={"systemName": 1}),
        # a query parameter FastAPI checks (it would have said 422)
        await api.get("/api/2026-05/import/jobs", params={"limit": 0}),
    ]

    types = {"integer": int, "string": str, "object": dict}
    for answer in answers:
        assert answer.status_code == 400, answer.text
        body = answer.json()
        assert set(body) == set(error_body["required"]) == set(error_body["properties"])
        for name, described in error_body["properties"].items():
            assert isinstance(body[name], types[described["type"]]), name
        assert body["error"] == "Bad Request"


async def test_an_unknown_versions_document_is_the_apis_404(stack: Stack) -> None:
    response = await stack.client().get("/api/2024-01/openapi.json")

    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "Not Found"
    assert body["error_details"]["version"] == "Unknown API version '2024-01'"


async def test_a_retired_versions_document_is_gone_and_not_offered(make_stack) -> None:
    stack = await make_stack(retired_versions=["v1", "2026-07"])
    client = stack.client()

    retired = await client.get("/api/v1/openapi.json")
    page = (await client.get("/docs")).text

    assert retired.status_code == 410
    assert retired.json()["error_details"]["version"] == "API version 'v1' is retired"
    assert "/api/v1/openapi.json" not in page
    assert '"urls.primaryName": "2026-05"' in page
    assert (await client.get("/api/2026-05/openapi.json")).status_code == 200


async def test_the_whole_document_keeps_every_version(stack: Stack) -> None:
    response = await stack.client().get("/openapi.json")

    document = response.json()
    validate(document)
    assert "/api/{version}/import/images" in document["paths"]
    assert '"422"' not in json.dumps(document)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    keys = document["paths"]["/api/{version}/mediaLibrary/{id}/keys"]["get"]
    assert keys["x-api-versions"] == ["2026-03", "2026-05", "2026-07"]
    for method, path, operation in _operations(document):
        if operation.get("parameters") or "requestBody" in operation:
            assert "400" in operation["responses"], (method, path)


def _links_of(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(the source operation, the link's name, the link) for every link of a document."""
    return [
        (f"{method.upper()} {path}", name, link)
        for method, path, operation in _operations(document)
        for name, link in operation["responses"].get("200", {}).get("links", {}).items()
    ]


def _check_links(document: dict[str, Any]) -> None:
    """Each link names an operation of the document and parameters that operation takes."""
    targets = {op["operationId"]: op for _, _, op in _operations(document)}
    for source, name, link in _links_of(document):
        target = targets.get(link["operationId"])
        assert target is not None, (source, name)
        taken = {p["name"] for p in target.get("parameters", [])}
        assert set(link["parameters"]) <= taken, (source, name, link["parameters"])
        for expression in link["parameters"].values():
            assert expression.startswith(("$response.body#/", "$request.")), (source, name)
            assert "{listKey}" not in expression, (source, name)


@pytest.mark.parametrize("version", VERSION_NAMES)
async def test_a_versions_links_lead_to_its_own_operations(stack: Stack, version: str) -> None:
    document = await _document(stack.client(), version)
    rules = VERSIONS[version]

    _check_links(document)
    links = {(source, name): link for source, name, link in _links_of(document)}
    imported = links[(f"POST /api/{version}/import/mediaLibrary", "patch")]
    assert imported["parameters"] == {"id": f"$response.body#/{rules.list_key}/0/id"}
    status = links[(f"POST /api/{version}/import/images", "status")]
    assert status["parameters"] == {"id": "$response.body#/id"}
    keys = (f"GET /api/{version}/mediaLibrary/{{id}}", "keys")
    assert (keys in links) == rules.entry_keys


async def test_the_whole_documents_links_carry_the_version(stack: Stack) -> None:
    document = (await stack.client().get("/openapi.json")).json()
    paths = {op["operationId"]: path for _, path, op in _operations(document)}

    _check_links(document)
    links = _links_of(document)
    assert ("GET /api/{version}/mediaLibrary/{id}", "patch") in {(s, n) for s, n, _ in links}
    for source, name, link in links:
        versioned = paths[link["operationId"]].startswith("/api/{version}/")
        carried = link["parameters"].get("version") == "$request.path.version"
        assert carried == versioned, (source, name)
