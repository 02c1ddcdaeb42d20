"""A new import kind is one `ImportKind` in the server's list: its route, its request and status
schemas, its jobs and webhooks, and the bulk client's choice all come from that one object.
Shown with a throwaway kind ("documents": PDFs only) that no module of medialib knows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from medialib.cli.importer import client_kind
from medialib.client.manifest import Row
from medialib.client.run import Importer as BulkClient
from medialib.client.run import Options
from medialib.client.server import ImportApi
from medialib.client.state import State
from medialib.imports.kinds import FILE, KINDS, ImportKind, Probed
from medialib.library import media_kinds
from medialib.media.probe.sniff import Sniffed
from medialib.settings import Settings
from tests.support import media
from tests.support.imports import Importer, item
from tests.support.origin import Origin
from tests.support.stack import DEMO_MEDIA_TYPES, Stack

V = "2026-05"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class DocumentItem(BaseModel):
    fileName: str
    mediaId: str | None = None
    pdf: bool | None = None


def _refuse(sniffed: Sniffed) -> str | None:
    return None if sniffed.mime == "application/pdf" else f"the bytes are {sniffed.mime}, not a PDF"


def _describe(file_name: str, result: dict[str, Any] | None, urls: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"fileName": file_name}
    if result:
        out |= {"mediaId": result["mediaId"], "pdf": True}
    return out


DOCUMENT = ImportKind(
    name="document",
    plural="documents",
    media_kind=media_kinds.FILE.name,
    refuse=_refuse,
    cap=lambda sniffed, settings: settings.file_max_bytes,
    probe=lambda path, sniffed, tail, settings: Probed(),
    cheap_probe=lambda sniffed, size: True,
    describe=_describe,
    described=DocumentItem,
)
DOCUMENT_TYPE = {
    "handle": "document",
    "type": "mediaFile",
    "metadata": [{"handle": "title", "type": "li-text"}],
}


@pytest.fixture
async def documents(make_stack: Any) -> Stack:
    config = {"projects": [{"handle": "demo", "mediaTypes": [*DEMO_MEDIA_TYPES, DOCUMENT_TYPE]}]}
    stack: Stack = await make_stack(config=config, kinds=KINDS.with_kind(DOCUMENT))
    return stack


def test_no_module_of_medialib_knows_the_throwaway_kind() -> None:
    assert DOCUMENT not in KINDS
    assert FILE in KINDS
    assert "document" not in Settings.model_fields  # nothing to configure for it


async def test_a_new_kind_has_its_route_schema_jobs_and_webhook(
    documents: Stack, origin: Origin
) -> None:
    document = await documents.client().get(f"/api/{V}/openapi.json")
    paths = document.json()["paths"]
    assert f"/api/{V}/import/documents" in paths
    assert f"/api/{V}/import/documents/status" in paths
    schemas = document.json()["components"]["schemas"]
    assert "documents" in schemas["DocumentsIn"]["properties"]
    item_schema = schemas["DocumentsItemResult"]["properties"]
    assert {"fileName", "mediaId", "pdf", "externalId", "state"} <= set(item_schema)

    importer = await Importer.open(documents, "demo")
    try:
        pdf = origin.file("kinds/report.pdf", PDF)
        jpeg = origin.file("kinds/photo.jpg", media.jpeg())
        status, delivery = await importer.run(
            [item(pdf, "doc-1", "report"), item(jpeg, "doc-2", "photo")], kind="documents"
        )
    finally:
        await importer.close()
    by_id = {one["externalId"]: one for one in status["documents"]}
    assert by_id["doc-1"]["state"] == "success"
    assert by_id["doc-1"]["pdf"] is True
    assert by_id["doc-1"]["fileName"] == "report"
    assert by_id["doc-2"]["state"] == "failed"
    assert by_id["doc-2"]["reasonCode"] == "unsupported_type"
    assert "not a PDF" in by_id["doc-2"]["reason"]
    assert delivery.body["source"] == "livingdocs-document-import"

    api = await documents.api("demo")
    listed = (await api.get(f"/api/{V}/import/jobs", params={"kind": "document"})).json()
    assert [job["id"] for job in listed["jobs"]] == [status["id"]]
    entry = (await api.get(f"/api/{V}/mediaLibrary/{by_id['doc-1']['mediaId']}")).json()
    assert entry["mediaType"] == "document"
    assert entry["asset"]["mimeType"] == "application/pdf"
    images = await api.get(f"/api/{V}/import/images/status", params={"id": status["id"]})
    assert images.status_code == 404  # a job is read under its own kind's route


async def test_the_bulk_client_imports_a_new_kind(
    documents: Stack, origin: Origin, tmp_path: Path
) -> None:
    urls = [origin.file(f"kinds/client-{i}.pdf", PDF + bytes([i])) for i in range(3)]
    rows = {
        line: Row(line, {"url": url, "id": f"c-{line}", "fileName": "c", "metadata": {}})
        for line, url in enumerate(urls, start=2)
    }
    state = State(tmp_path / "state.sqlite")
    api = ImportApi(documents.url, await documents.token("demo"), V)
    try:
        state.bind({"kind": "documents", "server": documents.url, "systemName": "client"})
        state.add_rows((line, row.external_id) for line, row in rows.items())
        client = BulkClient(api, state, rows, Options(client_kind(DOCUMENT), "client"))
        await client.run(lambda snapshot: None)
        assert state.counts().get("success") == 3
    finally:
        await api.close()
        state.close()
