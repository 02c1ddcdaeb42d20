"""API tokens: random bearer strings, stored only as their SHA-256, scoped to one project.

A token has 256 bits of randomness, so a plain SHA-256 is enough to make a leaked database
useless for calling the API (slow password hashes defend guessable secrets, which these are not).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from medialib.db.engine import Database
from medialib.db.tables import api_tokens, projects, utcnow
from medialib.errors import BadRequest, Forbidden, NotFound, Unauthorized

READ = "public-api:read"
WRITE = "public-api:write"
SCOPES = (READ, WRITE)
TOKEN_PREFIX = "mlt_"  # noqa: S105 (a prefix that makes tokens recognisable, not a secret)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a token of one project with its scopes."""

    token_id: str
    project: str
    scopes: frozenset[str]
    name: str | None = None  # the token's own name, if it was given one

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise Forbidden(details={"access_token": "The request requires higher privileges"})


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: str
    project: str
    scopes: list[str]
    name: str | None
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_DURATION = re.compile(r"([0-9]{1,12})([smhdw])")  # ASCII digits: `\d` takes any script's
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# A token's expiry is a time the calendar holds (a lifetime past year 9999 overflowed).
LONGEST_LIFETIME = dt.timedelta(days=100 * 366)


def parse_duration(text: str) -> dt.timedelta:
    """`30d`, `12h`, `90m`, `3600s`, `2w`: above 0 and at most 100 years."""
    match = _DURATION.fullmatch(text.strip())
    seconds = int(match.group(1)) * _SECONDS[match.group(2)] if match else 0
    if seconds == 0:
        raise BadRequest(f"not a duration: {text!r} (use e.g. 30d, 12h, 90m)")
    if seconds > LONGEST_LIFETIME.total_seconds():
        raise BadRequest(f"{text!r} is longer than 100 years")
    return dt.timedelta(seconds=seconds)


async def create_token(
    db: Database,
    project: str,
    scopes: list[str],
    *,
    expires_in: dt.timedelta | None = None,
    name: str | None = None,
) -> tuple[str, str]:
    """A new token for `project`; returns (token id, the token). The token is shown only now."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if not scopes or unknown:
        raise BadRequest(f"scopes must be among {', '.join(SCOPES)}; got {unknown or 'none'}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = secrets.token_hex(8)
    now = utcnow()
    async with db.write() as conn:
        if (
            await conn.scalar(sa.select(projects.c.handle).where(projects.c.handle == project))
            is None
        ):
            raise NotFound(f"no project {project!r}")
        await conn.execute(
            api_tokens.insert().values(
                id=token_id,
                project=project,
                token_hash=hash_token(token),
                scopes=sorted(set(scopes)),
                name=name,
                created_at=now,
                expires_at=now + expires_in if expires_in else None,
            )
        )
    return token_id, token


async def list_tokens(db: Database, project: str | None = None) -> list[TokenInfo]:
    query = sa.select(
        api_tokens.c.id,
        api_tokens.c.project,
        api_tokens.c.scopes,
        api_tokens.c.name,
        api_tokens.c.created_at,
        api_tokens.c.expires_at,
        api_tokens.c.revoked_at,
    ).order_by(api_tokens.c.created_at)
    if project is not None:
        query = query.where(api_tokens.c.project == project)
    async with db.read() as conn:
        rows = (await conn.execute(query)).all()
    return [TokenInfo(*row) for row in rows]


async def revoke_token(db: Database, token_id: str) -> None:
    async with db.write() as conn:
        result = await conn.execute(
            api_tokens.update()
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        if result.rowcount == 0:
            exists = await conn.scalar(
                sa.select(api_tokens.c.id).where(api_tokens.c.id == token_id)
            )
            if exists is None:
                raise NotFound(f"no token {token_id!r}")


def _invalid(reason: str) -> Unauthorized:
    return Unauthorized(details={"access_token": reason})


async def authenticate(db: Database, authorization: str | None) -> Principal:
    """The principal behind an `Authorization: Bearer …` header, or Unauthorized."""
    if not authorization:
        raise _invalid("An access token is required.")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _invalid("The access token must be sent as 'Authorization: Bearer <token>'.")
    return await _principal(db, _BY_HASH, hash_token(token))


async def principal_of(db: Database, token_id: str) -> Principal:
    """The principal of a token by its id (a web view session names its token so), or
    Unauthorized when it is unknown, revoked or expired by now."""
    return await _principal(db, _BY_ID, token_id)


# Every API request reads its token: the statements are built once (see Database.first).
_PRINCIPAL = sa.select(
    api_tokens.c.id,
    api_tokens.c.project,
    api_tokens.c.scopes,
    api_tokens.c.expires_at,
    api_tokens.c.revoked_at,
    api_tokens.c.name,
)
_BY_HASH = _PRINCIPAL.where(api_tokens.c.token_hash == sa.bindparam("which"))
_BY_ID = _PRINCIPAL.where(api_tokens.c.id == sa.bindparam("which"))


async def _principal(db: Database, statement: sa.Select[Any], which: str) -> Principal:
    row = await db.first(statement, {"which": which})
    if row is None:
        raise _invalid("The access token is invalid.")
    if row.revoked_at is not None:
        raise _invalid("The access token was revoked.")
    if row.expires_at is not None and row.expires_at <= utcnow():
        raise _invalid("The access token expired.")
    return Principal(
        token_id=row.id, project=row.project, scopes=frozenset(row.scopes), name=row.name
    )
