"""A small client for the orders HTTP API: the main job and the tests place and read orders through it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "city": "London",
    "postal_code": "N1 9GU",
    "country": "GB",
}


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: Any
    headers: dict[str, str]


def order_request(
    *lines: tuple[str, int, int], token: str = "tok_visa", address: dict[str, str] | None = None
) -> dict[str, Any]:
    """A POST /orders body; each line is (sku, quantity, unit price in cents). The customer is the signed-in one."""
    return {
        "items": [{"sku": sku, "quantity": quantity, "unit_price_cents": price} for sku, quantity, price in lines],
        "currency": "EUR",
        "payment_token": token,
        "shipping_address": address or ADDRESS,
    }


def operator_headers(
    method: str, url: str, body: bytes | None = None, environment: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Headers that sign a request to an operator (IAM-authorized) route with Signature Version 4 for
    `execute-api`: with the AWS credentials and region of `environment` (a local cloud's), else the usual ones."""
    import boto3
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    if environment is not None:
        session = boto3.Session(
            aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
            region_name=environment.get("AWS_DEFAULT_REGION", "us-east-1"),
        )
    else:
        session = boto3.Session()
    credentials = session.get_credentials()
    if credentials is None:
        raise RuntimeError("no AWS credentials to sign the operator request with")
    signed = AWSRequest(method=method, url=url, data=body or b"")
    SigV4Auth(credentials.get_frozen_credentials(), "execute-api", session.region_name or "us-east-1").add_auth(signed)
    return dict(signed.headers.items())


def operator_request(method: str, url: str, environment: Mapping[str, str] | None = None) -> HttpResponse:
    """A bodiless request to an operator route, signed (see operator_headers)."""
    return request(method, url, headers=operator_headers(method, url, environment=environment))


def request(
    method: str,
    url: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw: bool = False,
    token: str | None = None,
) -> HttpResponse:
    """Send one request (with `token` as its bearer token); an HTTP error status is returned, not raised, with its
    body parsed when it is JSON."""
    data = None if body is None else (body.encode() if raw else json.dumps(body).encode())
    authorization = {"Authorization": f"Bearer {token}"} if token else {}
    http_request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **authorization, **(headers or {})}
    )
    try:
        # Only ever our own API: the local cloud's server or a stack the user deployed.
        with urllib.request.urlopen(http_request, timeout=30) as response:
            payload = response.read()
            return HttpResponse(response.status, json.loads(payload) if payload else None, dict(response.headers))
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            parsed: Any = json.loads(payload)
        except json.JSONDecodeError:
            parsed = payload.decode(errors="replace")
        return HttpResponse(error.code, parsed, dict(error.headers))
