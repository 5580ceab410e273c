"""API Gateway HTTP API (payload 2.0) events, as the orders-api receives them."""

from __future__ import annotations

import json
import uuid
from typing import Any


def http_event(
    method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, raw: bool = False
) -> dict[str, Any]:
    route_path = (
        "/orders/{order_id}/events"
        if path.endswith("/events")
        else "/orders/{order_id}"
        if path.count("/") == 2
        else path
    )
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {route_path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", **{k.lower(): v for k, v in (headers or {}).items()}},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "test",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": f"{method} {route_path}",
            "stage": "$default",
            "time": "24/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795000000000,
        },
        "isBase64Encoded": False,
    }
    if route_path != path:
        event["pathParameters"] = {"order_id": path.split("/")[2]}
    if body is not None:
        event["body"] = body if raw else json.dumps(body)
    return event
