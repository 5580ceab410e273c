"""boto3 clients and the environment for one local AWS endpoint (the local cloud's moto server)."""

from __future__ import annotations

import socket
from typing import Any

import boto3
from botocore.config import Config

from tools.localcloud.stack import REGION


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class AwsEndpoint:
    """One endpoint's boto3 clients (shared: boto3 clients are thread-safe) and environment variables."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service,  # type: ignore[call-overload]
                endpoint_url=self.url,
                region_name=REGION,
                aws_access_key_id="localcloud",
                aws_secret_access_key="localcloud",
                config=Config(retries={"mode": "standard", "max_attempts": 3}),
            )
        return self._clients[service]

    def environment(self) -> dict[str, str]:
        """Environment that points AWS SDKs and the AWS CLI at this endpoint."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "localcloud",
            "AWS_SECRET_ACCESS_KEY": "localcloud",
        }
