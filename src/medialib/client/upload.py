"""The `--upload` mode: local files put into storage through the upload endpoint, then
registered with the synchronous import, a batch at a time, with the same state file, progress and
report as URL imports.

A row's upload key is recorded as soon as its bytes are stored, so a run again registers what was
uploaded and uploads only the rest. A row whose (systemName, id) the library has already (a batch
registered just before a crash) is reported `skipped` with that entry.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from medialib.client.local import LocalFileError, describe
from medialib.client.manifest import Row
from medialib.client.run import Options, Report, Snapshot
from medialib.client.server import ImportApi, patiently
from medialib.client.state import PLANNED, RUNNING, State

UPLOADS_AT_ONCE = 8


class Uploader:
    def __init__(self, api: ImportApi, state: State, rows: dict[int, Row], options: Options):
        self.api = api
        self.state = state
        self.rows = rows
        self.options = options
        self.snapshot = Snapshot.of(state, len(rows))
        self.gate = asyncio.Semaphore(UPLOADS_AT_ONCE)

    async def run(self, report: Report) -> None:
        self.state.plan(self.options.batch_size)
        for batch in self.state.batches(PLANNED, RUNNING):
            self.state.mark(batch.id, RUNNING)
            lines = self.state.lines_of(batch.id)
            keys = self.state.upload_keys(batch.id)
            results: dict[str, dict[str, Any]] = {}
            described: dict[int, dict[str, Any]] = {}
            for line in lines:
                try:
                    described[line] = describe(
                        Path(self.rows[line].item["path"]), self.options.kind.media_kind
                    )
                except LocalFileError as error:
                    results[self.rows[line].external_id] = _failed("unreadable_file", str(error))
            missing = [line for line in described if line not in keys]
            uploaded = await asyncio.gather(
                *(self._upload(line, described[line]) for line in missing)
            )
            keys |= dict(zip(missing, uploaded, strict=True))
            ready = [line for line in described if line in keys]
            results |= await self._register(ready, keys, described)
            self.snapshot.add(None, self.state.finish(batch.id, results))
            report(self.snapshot)

    async def _upload(self, line: int, asset: dict[str, Any]) -> str:
        item = self.rows[line].item
        async with self.gate:
            upload = await patiently(
                lambda: self.api.new_upload(item["fileName"], asset["mimeType"], asset["size"])
            )
            await patiently(lambda: self.api.put_file(upload, Path(item["path"]), asset["size"]))
        key = str(upload["key"])
        self.state.set_upload_key(line, key)
        return key

    async def _register(
        self, lines: list[int], keys: dict[int, str], described: dict[int, dict[str, Any]]
    ) -> dict[str, dict[str, Any]]:
        if not lines:
            return {}
        entries = [self._entry(line, keys[line], described[line]) for line in lines]
        answers = await patiently(lambda: self.api.register(entries))
        results = {}
        for line, answer in zip(lines, answers, strict=True):
            external_id = self.rows[line].external_id
            results[external_id] = await self._result_of(external_id, answer)
        return results

    def _entry(self, line: int, key: str, asset: dict[str, Any]) -> dict[str, Any]:
        item = self.rows[line].item
        return {
            "systemName": self.options.system_name,
            "externalId": item["id"],
            "mediaType": item.get("mediaType") or self.options.kind.media_type,
            "asset": asset | {"key": key, "filename": item["fileName"]},
            "metadata": item.get("metadata") or {},
        }

    async def _result_of(self, external_id: str, answer: dict[str, Any]) -> dict[str, Any]:
        if answer.get("ok"):
            return {"state": "success", "action": "created", "mediaId": answer.get("id")}
        error = str(answer.get("error") or "Error")
        details = answer.get("error_details") or {}
        if error == "UniqueIdViolation" and "externalId" in str(details):
            found = await patiently(
                lambda: self.api.entry_by_external_id(self.options.system_name, external_id)
            )
            if found is not None:
                return {
                    "state": "skipped",
                    "action": "unchanged",
                    "mediaId": found,
                    "reason": "already exists",
                }
        message = details.get("message") if isinstance(details, dict) else None
        return _failed(error, str(message or details)[:1000])


def _failed(code: str, reason: str) -> dict[str, Any]:
    return {"state": "failed", "reasonCode": code, "reason": reason}
