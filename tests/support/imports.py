"""Running an import job through the API and waiting for its webhook, as an importer does."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx

from medialib.library.projects import webhook_secret
from tests.support.stack import Stack
from tests.support.webhooks import Delivery, Receiver


def item(url: str, external_id: str, file_name: str = "picture", **extra: Any) -> dict[str, Any]:
    return {"url": url, "id": external_id, "fileName": file_name, "metadata": {}, **extra}


@dataclass
class Importer:
    stack: Stack
    api: httpx.AsyncClient
    receiver: Receiver
    system_name: str = "archive"

    @classmethod
    async def open(cls, stack: Stack, project: str) -> Importer:
        receiver = Receiver(secret=await webhook_secret(stack.runtime.db, project))
        await receiver.start()
        return cls(stack, await stack.api(project), receiver)

    async def start(
        self,
        items: list[dict[str, Any]],
        kind: str = "images",
        version: str = "2026-05",
        **extra: Any,
    ) -> str:
        body = {"systemName": self.system_name, "webhook": self.receiver.url(), kind: items}
        response = await self.api.post(f"/api/{version}/import/{kind}", json=body | extra)
        assert response.status_code == 200, response.text
        job_id: str = response.json()["id"]
        return job_id

    async def status(self, job_id: str, kind: str = "images", version: str = "2026-05") -> Any:
        response = await self.api.get(f"/api/{version}/import/{kind}/status", params={"id": job_id})
        assert response.status_code == 200, response.text
        return response.json()

    async def settled(self, job_id: str, kind: str = "images") -> Any:
        """The status once the job is finished and its webhook is no longer pending.

        For outcomes no receiver can observe (a webhook that is never sent): the status is the
        only witness, so it is read until it settles, a short pause apart, within a deadline.
        """
        async with asyncio.timeout(30):
            while True:
                status = await self.status(job_id, kind)
                if status["finished"] and status.get("webhook", {}).get("state") != "pending":
                    return status
                await asyncio.sleep(0.02)

    async def run(
        self, items: list[dict[str, Any]], kind: str = "images", **extra: Any
    ) -> tuple[Any, Delivery]:
        """Start a job, wait for its webhook, and return its final status and the delivery."""
        job_id = await self.start(items, kind, **extra)
        delivery = await self.receiver.delivered()
        assert delivery.body["id"] == job_id
        # The server records the delivery just after the receiver has answered it.
        return await self.settled(job_id, kind), delivery

    async def close(self) -> None:
        await self.receiver.stop()
