"""A whole medialib for a test: settings, database, storage, and the app on a real port."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import yaml

from medialib.api.protocol import http_options
from medialib.auth import tokens
from medialib.bootstrap import Runtime, prepare
from medialib.db.migrate import migrate
from medialib.db.tables import (
    assets,
    import_items,
    import_jobs,
    media_entries,
    media_references,
    usage_log_entries,
)
from medialib.imports.kinds import KINDS, ImportKinds
from medialib.settings import Settings
from medialib.web.app import create_app  # the whole HTTP process, as `serve` runs it
from tests.support import media, postgres
from tests.support.original_config import ORIGINAL_MEDIA_TYPES
from tests.support.s3 import MotoS3
from tests.support.server import LiveServer

BOTH_SCOPES = (tokens.READ, tokens.WRITE)


def _text(handle: str, **config: Any) -> dict[str, Any]:
    return (
        {"handle": handle, "type": "li-text", "config": config}
        if config
        else {
            "handle": handle,
            "type": "li-text",
        }
    )


DEMO_MEDIA_TYPES = [
    {
        "handle": handle,
        "type": kind,
        "metadata": [_text(p) for p in ("title", "caption", "source", "description")],
    }
    for handle, kind in (("image", "mediaImage"), ("video", "mediaVideo"), ("file", "mediaFile"))
]

TYPED_MEDIA_TYPES: list[dict[str, Any]] = [
    {
        "handle": "image",
        "type": "mediaImage",
        "metadata": [
            _text("title", required=True, maxLength=20),
            _text("caption"),
            {"handle": "published", "type": "li-boolean"},
            {"handle": "rank", "type": "li-integer", "config": {"min": 1, "max": 10}},
            {"handle": "score", "type": "li-numeric"},
            {
                "handle": "license",
                "type": "li-enum",
                "config": {"options": [{"value": "cc-by"}, {"value": "rights-managed"}]},
            },
            {"handle": "shotOn", "type": "li-date"},
            {"handle": "shotAt", "type": "li-datetime"},
            {"handle": "keywords", "type": "li-string-list", "config": {"maxItems": 3}},
            {"handle": "focus", "type": "li-numeric-list"},
            {"handle": "link", "type": "li-url"},
            # belongs to the picture, not to a language
            {"handle": "credit", "type": "li-text", "config": {"translatable": False}},
        ],
    },
    {
        "handle": "diagram",
        "type": "mediaImage",
        "metadata": [_text("title")],
        "asset": {"mimeTypes": ["image/png", "image/svg+xml"], "maxSize": 50_000},
    },
    {
        "handle": "clip",
        "type": "mediaVideo",
        "metadata": [_text("title")],
        "asset": {"mimeTypes": ["video/mp4", "video/webm"], "maxSize": 10_000},
    },
    {
        "handle": "document",
        "type": "mediaFile",
        "metadata": [_text("title")],
        "asset": {"mimeTypes": ["application/pdf"]},
    },
]

# Metadata that decides whether an entry is served (tests/api/test_validity.py): the original's
# li-invalid, and two validity windows (outside either, the entry is not served).
VALIDITY_MEDIA_TYPES: list[dict[str, Any]] = [
    {
        "handle": "image",
        "type": "mediaImage",
        "metadata": [
            _text("title"),
            {"handle": "invalid", "type": "li-invalid", "ui": {"label": "Invalid"}},
            {"handle": "validity", "type": "li-datetime-validity"},
            {"handle": "embargo", "type": "li-datetime-validity"},
        ],
    }
]

# The `config-keys` project: what the original's config keys do (tests/api/test_search_index.py,
# tests/api/test_named_crops.py, tests/web/test_config_keys.py). `q` searches its images'
# `title` and `tags` only (a mark on li-named-crops, which the original does not index, counts
# for nothing); its files mark nothing, so every property is searched, and so are its videos',
# whose only mark is on li-named-crops.
_CROPS_MARKED = {"handle": "crops", "type": "li-named-crops", "config": {"index": True}}
CONFIG_KEYS_MEDIA_TYPES: list[dict[str, Any]] = [
    {
        "handle": "image",
        "type": "mediaImage",
        "info": {"label": {"en": "Picture", "de": "Bild"}, "description": "Archive photos"},
        "metadata": [
            {
                "handle": "title",
                "type": "li-text",
                "config": {
                    "index": True,
                    "required": True,
                    "requiredErrorMessage": "Please name the picture",
                    "recommendedMinLength": 5,
                    "recommendedMaxLength": 40,
                    "allowNewlines": False,
                },
                "ui": {"label": "Headline", "config": {"placeholder": "What it shows"}},
            },
            _text("caption"),
            {"handle": "tags", "type": "li-string-list", "config": {"index": True}},
            {"handle": "vision", "type": "li-google-vision"},
            _CROPS_MARKED,
            {"handle": "teaser", "type": "li-image"},
            {"handle": "externalId", "type": "li-external-id", "config": {"hideFromForm": True}},
            {
                "handle": "note",
                "type": "li-string",
                "config": {"allowNewlines": True, "recommendedMaxLength": 80},
                "ui": {"config": {"rows": 6}},
            },
            {"handle": "checkedBy", "type": "li-text", "ui": {"config": {"readOnly": True}}},
            {
                "handle": "license",
                "type": "li-enum",
                "config": {"options": [{"value": "cc"}, {"value": "rm"}]},
                "ui": {"config": {"readOnly": True}},
            },
        ],
    },
    {"handle": "file", "type": "mediaFile", "metadata": [_text("title"), _text("caption")]},
    {
        "handle": "video",
        "type": "mediaVideo",
        "metadata": [_text("title"), _text("caption"), _CROPS_MARKED],
    },
]

# Media types whose metadata names other entries (tests/api/test_media_references.py): the
# projects `referencing` and `referencing-too`. `imageLink` is the property of the original's
# documented incomingMediaReferences example.
REFERENCING_MEDIA_TYPES: list[dict[str, Any]] = [
    {
        "handle": "image",
        "type": "mediaImage",
        "metadata": [_text("title"), {"handle": "imageLink", "type": "li-image"}],
    },
    {
        "handle": "video",
        "type": "mediaVideo",
        "metadata": [
            _text("title"),
            {"handle": "posterImage", "type": "li-poster-image"},
            {"handle": "clip", "type": "li-video-reference"},
            {"handle": "still", "type": "li-image", "config": {"translatable": False}},
        ],
    },
    {"handle": "file", "type": "mediaFile", "metadata": [_text("title")]},
]

POOL_SIZE = 800

# The usage purposes of the `purposeful` project (tests/api/test_usage_log.py).
PURPOSES: list[dict[str, Any]] = [
    {"handle": "web", "label": {"en": "Web", "de": "Web"}},
    {
        "handle": "print",
        "label": {"en": "Print", "de": "Druck"},
        "paramsSchema": [{"handle": "page", "type": "li-integer", "config": {"min": 1}}],
    },
]


def stack_config(pool: int = 0) -> dict[str, Any]:
    projects = [
        {"handle": "demo", "mediaTypes": DEMO_MEDIA_TYPES},
        {"handle": "other", "mediaTypes": DEMO_MEDIA_TYPES},
        {"handle": "victim", "mediaTypes": DEMO_MEDIA_TYPES},  # tests/security/test_attack_surface
        {"handle": "typed", "mediaTypes": TYPED_MEDIA_TYPES},
        {"handle": "purposeful", "mediaTypes": DEMO_MEDIA_TYPES, "usagePurposes": PURPOSES},
        # the original API's docs' examples (tests/compat/test_original_project_config.py)
        {"handle": "original", "mediaTypes": ORIGINAL_MEDIA_TYPES},
        {"handle": "validity", "mediaTypes": VALIDITY_MEDIA_TYPES},
        {"handle": "config-keys", "mediaTypes": CONFIG_KEYS_MEDIA_TYPES},
        {"handle": "referencing", "mediaTypes": REFERENCING_MEDIA_TYPES},
        {"handle": "referencing-too", "mediaTypes": REFERENCING_MEDIA_TYPES},
    ]
    projects += [{"handle": f"pool-{i:02d}", "mediaTypes": DEMO_MEDIA_TYPES} for i in range(pool)]
    return {"projects": projects}


@dataclass
class Stack:
    backend: str
    settings: Settings
    runtime: Runtime
    server: LiveServer
    database_url: str | None = None
    _clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def renders(self) -> int:
        """Renditions the server has made since it started (not those read from storage)."""
        count: int = self.server.app.state.api.renditions.renders
        return count

    async def token(
        self,
        project: str = "demo",
        scopes: tuple[str, ...] = BOTH_SCOPES,
        expires_in: dt.timedelta | None = None,
    ) -> str:
        _, token = await tokens.create_token(
            self.runtime.db, project, list(scopes), expires_in=expires_in
        )
        return token

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.AsyncClient(base_url=self.url, headers=headers, timeout=60)
        self._clients.append(client)
        return client

    async def api(self, project: str = "demo") -> httpx.AsyncClient:
        """A client with a read+write token of `project`."""
        return self.client(await self.token(project))

    async def put_asset(self, key: str, data: bytes = media.STORED_JPEG) -> None:
        """An object in storage as a caller puts it there before registering it (by default
        the 640x480 JPEG that `tests.support.entries` describes)."""
        await self.runtime.storage.put(key, data)

    async def snapshot(self, project: str) -> list[Any]:
        """Everything stored for `project` (entries, assets, jobs, items), to show that a
        refused request changed nothing."""
        async with self.runtime.db.read() as conn:
            found: list[Any] = []
            for table, where in (
                (media_entries, media_entries.c.project == project),
                (assets, assets.c.project == project),
                (import_jobs, import_jobs.c.project == project),
                (usage_log_entries, usage_log_entries.c.project == project),
                (media_references, media_references.c.project == project),
            ):
                rows = await conn.execute(
                    sa.select(table).where(where).order_by(*table.primary_key)
                )
                found += [tuple(row) for row in rows]
            jobs = sa.select(import_jobs.c.id).where(import_jobs.c.project == project)
            rows = await conn.execute(
                sa.select(import_items)
                .where(import_items.c.job_id.in_(jobs))
                .order_by(*import_items.primary_key)
            )
            found += [tuple(row) for row in rows]
        return found

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()
        # In a thread: the server's shutdown may need this loop (a TcpProxy between it and its
        # database runs here).
        await asyncio.to_thread(self.server.stop)
        await self.runtime.close()
        if self.database_url:
            postgres.drop_database(self.database_url)


async def start_stack(
    backend: str,
    home: Path,
    config: dict[str, Any] | None = None,
    s3: MotoS3 | None = None,
    kinds: ImportKinds = KINDS,
    **overrides: Any,
) -> Stack:
    """A medialib on (SQLite, a local folder), or on (PostgreSQL, S3) when `s3` is given; it
    imports `kinds`."""
    home.mkdir(parents=True, exist_ok=True)
    config_path = home / "medialib.yaml"
    config_path.write_text(yaml.safe_dump(config or stack_config()))
    database_url = postgres.create_database() if backend == "postgres" else None
    test_defaults: dict[str, Any] = {
        # The tests' origin servers and webhook receivers listen on 127.0.0.1 only.
        "fetch_allow": ["127.0.0.1/32"],
        "fetch_retry_base": 0.01,
        "webhook_retry_delays": [0.05] * 7,
        "job_webhook_hold": 0.0,  # held for 1 s by default; tests/compat holds it
        "fetch_timeout": 10.0,
        # Tests poll statuses quickly; the limit itself is tested with a stack of its own.
        "rate_limit": 10_000.0,
        # The analysis of pictures (a detector process per core, entries that change after a
        # registration's commit) is tested with stacks of its own: tests/imports/
        # test_picture_analysis.py. Elsewhere entries stay as they were written.
        "image_analysis": False,
    }
    if s3 is not None:
        test_defaults["storage_url"] = f"s3://{s3.new_bucket()}/media"
        test_defaults["s3_endpoint"] = s3.endpoint
    settings = Settings(
        home=home,
        database_url=database_url,
        config=config_path,
        public_url="http://media.test/media",
        # medialib itself is reachable there too (for S3, public_url is the bucket's)
        rendition_url="http://media.test/media",
        **(test_defaults | overrides),
    )
    if database_url:
        # PostgreSQL is migrated by `medialib migrate`, never by a server start.
        rt = Runtime.from_settings(settings)
        await migrate(rt.db)
        await rt.close()
    runtime = Runtime.from_settings(settings, kinds)
    await prepare(runtime)
    app = create_app(runtime=Runtime.from_settings(settings, kinds))
    server = LiveServer(app, http=http_options(settings)).start()  # as `serve` has it
    return Stack(backend, settings, runtime, server, database_url)
