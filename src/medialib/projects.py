"""Projects: the rows behind the configured projects, and each one's webhook signing secret."""

from __future__ import annotations

import base64
import secrets

import sqlalchemy as sa

from medialib.config import AppConfig
from medialib.db.engine import Database
from medialib.db.tables import projects, utcnow
from medialib.errors import NotFound


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def sync_projects(db: Database, config: AppConfig) -> None:
    """Give each configured project its row; a secret set in the config replaces a generated one."""
    async with db.write() as conn:
        existing = dict(
            (await conn.execute(sa.select(projects.c.handle, projects.c.webhook_secret))).all()
        )
        new = [
            {
                "handle": project.handle,
                "webhook_secret": project.webhook_secret or new_webhook_secret(),
                "created_at": utcnow(),
            }
            for project in config.projects.values()
            if project.handle not in existing
        ]
        if new:
            await conn.execute(projects.insert(), new)
        for project in config.projects.values():
            configured = project.webhook_secret
            if configured and project.handle in existing and existing[project.handle] != configured:
                await conn.execute(
                    projects.update()
                    .where(projects.c.handle == project.handle)
                    .values(webhook_secret=configured)
                )


async def webhook_secret(db: Database, project: str) -> str:
    async with db.read() as conn:
        secret = await conn.scalar(
            sa.select(projects.c.webhook_secret).where(projects.c.handle == project)
        )
    if secret is None:
        raise NotFound(f"no project {project!r}")
    return str(secret)
