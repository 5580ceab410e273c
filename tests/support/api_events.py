"""API Gateway HTTP API (payload 2.0) events, as the orders-api receives them."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

CUSTOMER = "cust-0001"


def authorizer_context(customer: str | None = CUSTOMER, operator: str | None = None) -> dict[str, Any]:
    """requestContext.authorizer as API Gateway delivers it: a JWT's claims (strings) or the IAM caller."""
    if operator is not None:
        return {
            "iam": {
                "accessKey": "AKIAOPERATOR",
                "accountId": "123456789012",
                "callerId": "AIDAOPERATOR",
                "principalOrgId": None,
                "userArn": f"arn:aws:iam::123456789012:user/{operator}",
                "userId": "AIDAOPERATOR",
            }
        }
    if customer is None:
        return {}
    claims = {"sub": customer, "token_use": "access", "client_id": "app-client", "exp": "1795003800"}
    return {"jwt": {"claims": claims, "scopes": None}}


def http_event(
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw: bool = False,
    customer: str | None = CUSTOMER,
    operator: str | None = None,
) -> dict[str, Any]:
    """A request on the orders API, signed in as `customer` (a JWT's subject) or as an IAM `operator`."""
    parameterised = re.sub(r"^(/operator)?/orders/[^/]+", r"\1/orders/{order_id}", path)
    route_path = parameterised if path.count("/") >= 2 + path.startswith("/operator") else path
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
            **({"authorizer": context} if (context := authorizer_context(customer, operator)) else {}),
        },
        "isBase64Encoded": False,
    }
    if route_path != path:
        event["pathParameters"] = {"order_id": path.split("/")[3 if path.startswith("/operator") else 2]}
    if body is not None:
        event["body"] = body if raw else json.dumps(body)
    return event
