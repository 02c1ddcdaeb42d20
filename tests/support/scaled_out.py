"""The settings that point `medialib` processes at a scaled-out setup: a PostgreSQL database and
a bucket of moto's S3 server, with the tests' origins on 127.0.0.1 allowed."""

from __future__ import annotations

from tests.support.s3 import CREDENTIALS, MotoS3


def scaled_out_env(database: str, s3: MotoS3) -> dict[str, str]:
    """PostgreSQL, a new bucket, and the tests' origins on 127.0.0.1 allowed."""
    return {
        **CREDENTIALS,
        "MEDIALIB_DATABASE_URL": database,
        "MEDIALIB_STORAGE_URL": f"s3://{s3.new_bucket()}/media",
        "MEDIALIB_S3_ENDPOINT": s3.endpoint,
        "MEDIALIB_FETCH_ALLOW": "127.0.0.1/32",
    }
