"""API Gateway HTTP API payload format 2.0: the event a request becomes, and how a function's answer is read.

Sources: the API Gateway developer guide ("Create AWS Lambda proxy integrations for
HTTP APIs", payload format 2.0), and, where it is silent, behaviour observed on AWS:
the `cookie` header is moved into `cookies` (it is not left in `headers`), and a body
is passed as text only for the text content types listed below; any other body
(including a missing Content-Type and form posts) arrives base64-encoded.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

# Media types HTTP APIs pass to the function as text; everything else is base64.
TEXT_MEDIA_TYPES = {"application/json", "application/xml", "application/javascript"}
NOT_FOUND = b'{"message":"Not Found"}'
INTERNAL_ERROR = b'{"message":"Internal Server Error"}'


@dataclass(frozen=True)
class HttpRequest:
    """One request as the server received it, before API Gateway turns it into an event."""

    method: str
    target: str  # path and query string, as on the request line
    headers: list[tuple[str, str]]  # in arrival order, repeats kept
    body: bytes
    source_ip: str = "127.0.0.1"


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)  # repeats kept (set-cookie)
    body: bytes = b""


def _is_text(headers: dict[str, str], body: bytes) -> bool:
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if not (media_type.startswith("text/") or media_type in TEXT_MEDIA_TYPES):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False  # declared text but not UTF-8: only base64 carries it intact
    return True


def _joined_headers(pairs: list[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """Headers lowercased with repeats joined by commas, and the cookies taken out of them."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in pairs:
        key = name.lower()
        if key == "cookie":
            cookies += [cookie.strip() for cookie in value.split(";") if cookie.strip()]
        else:
            headers[key] = f"{headers[key]},{value}" if key in headers else value
    return headers, cookies


def request_event(
    request: HttpRequest,
    route_key: str,
    path_parameters: dict[str, str],
    request_id: str | None = None,
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The payload format 2.0 event for one request on one route (with what its authorizer found)."""
    parts = urlsplit(request.target)
    headers, cookies = _joined_headers(request.headers)
    host = headers.get("host", "localhost")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": parts.path,
        "rawQueryString": parts.query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if parts.query:
        parsed = parse_qs(parts.query, keep_blank_values=True)
        event["queryStringParameters"] = {key: ",".join(values) for key, values in parsed.items()}
    event["requestContext"] = {
        "accountId": "123456789012",
        "apiId": "localapi",
        **({"authorizer": authorizer} if authorizer is not None else {}),
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": parts.path,
            "protocol": "HTTP/1.1",
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id or str(uuid.uuid4()),
        "routeKey": route_key,
        "stage": "$default",
        "time": datetime.now(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(time.time() * 1000),
    }
    if path_parameters:
        event["pathParameters"] = path_parameters
    if request.body:
        text = _is_text(headers, request.body)
        event["body"] = request.body.decode("utf-8") if text else base64.b64encode(request.body).decode("ascii")
        event["isBase64Encoded"] = not text
    else:
        event["isBase64Encoded"] = False
    return event


def function_response(result: Any) -> HttpResponse:
    """What API Gateway sends back for a function's return value (payload format 2.0 response rules).

    A dict with `statusCode` is a structured response: its headers, `cookies` (one set-cookie
    header each) and body, base64-decoded when `isBase64Encoded`. Anything else is the body
    of a 200 application/json response: a string as it is, any other value as its JSON.
    """
    if not (isinstance(result, dict) and "statusCode" in result):
        text = result if isinstance(result, str) else json.dumps(result)
        return HttpResponse(200, [("content-type", "application/json")], text.encode())
    try:
        status = int(result["statusCode"])
        raw = result.get("body") or ""
        body = base64.b64decode(raw, validate=True) if result.get("isBase64Encoded") else str(raw).encode()
    except (TypeError, ValueError, binascii.Error):
        return internal_error()  # API Gateway answers a malformed integration response with a 500
    headers = [(str(name), str(value)) for name, value in (result.get("headers") or {}).items()]
    headers += [("set-cookie", str(cookie)) for cookie in result.get("cookies") or []]
    return HttpResponse(status, headers, body)


def message(status: int, text: str) -> HttpResponse:
    """API Gateway's own answer: a JSON body with a message (401, 403, 404, 413, 429, 500...)."""
    return HttpResponse(status, [("content-type", "application/json")], json.dumps({"message": text}).encode())


def not_found() -> HttpResponse:
    return HttpResponse(404, [("content-type", "application/json")], NOT_FOUND)


def internal_error() -> HttpResponse:
    return HttpResponse(500, [("content-type", "application/json")], INTERNAL_ERROR)
