"""An S3-compatible server for the tests: moto's server mode on 127.0.0.1."""

from __future__ import annotations

import os
import uuid

import boto3
from moto.server import ThreadedMotoServer

from tests.support.process import free_port

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class MotoS3:
    def __init__(self) -> None:
        self.port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoS3:
        # obstore (in medialib) and boto3 (here) both read the usual AWS variables.
        os.environ.update(CREDENTIALS)
        self.server.start()
        return self

    def new_bucket(self) -> str:
        name = f"media-{uuid.uuid4().hex[:12]}"
        boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1").create_bucket(
            Bucket=name
        )
        return name

    def keys(self, bucket: str) -> list[str]:
        client = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1")
        listed = client.list_objects_v2(Bucket=bucket)
        return [item["Key"] for item in listed.get("Contents", [])]

    def stop(self) -> None:
        self.server.stop()
