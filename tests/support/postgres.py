"""Throwaway PostgreSQL databases for the tests, on the server MEDIALIB_TEST_POSTGRES_URL names."""

from __future__ import annotations

import os
import secrets
from urllib.parse import urlsplit, urlunsplit

import psycopg

ENV = "MEDIALIB_TEST_POSTGRES_URL"


def admin_url() -> str | None:
    return os.environ.get(ENV) or None


def create_database(prefix: str = "medialib_test") -> str:
    """A new empty database; returns its URL."""
    url = admin_url()
    assert url, f"{ENV} is not set"
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    admin = admin_url()
    assert admin
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def plain_url(url: str) -> str:
    """A URL psycopg takes (no SQLAlchemy driver suffix)."""
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+')[0]}://{rest}"
