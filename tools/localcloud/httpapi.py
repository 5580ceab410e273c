"""The template's HTTP API served on localhost, as API Gateway (payload format 2.0) calls the function."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tools.localcloud.functions import FunctionRuntime


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as in the template, e.g. /orders/{order_id}
    function: FunctionRuntime

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in (method, "ANY"):
            return None
        pattern = "^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(self.path)) + "$"
        found = re.match(pattern, path)
        return found.groupdict() if found else None


def api_gateway_event(
    route: Route, method: str, url: str, headers: dict[str, str], body: bytes, path_parameters: dict[str, str]
) -> dict[str, Any]:
    """The HTTP API v2 event for one request."""
    parts = urlsplit(url)
    now = datetime.now(UTC)
    text = body.decode("utf-8", errors="replace") if body else None
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": {name.lower(): value for name, value in headers.items()},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "localapi",
            "domainName": headers.get("Host", "localhost"),
            "domainPrefix": "localhost",
            "http": {
                "method": method,
                "path": parts.path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("User-Agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": False,
    }
    if parts.query:
        event["queryStringParameters"] = {key: ",".join(values) for key, values in parse_qs(parts.query).items()}
    if path_parameters:
        event["pathParameters"] = path_parameters
    if text is not None:
        event["body"] = text
    return event


class HttpApi:
    """A threaded HTTP server routing requests to functions by the template's HttpApi events."""

    def __init__(self, routes: list[Route], port: int = 0) -> None:
        self.routes = routes
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_request(self) -> None:
                api.handle(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_request  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                return  # requests are reported by the functions' own logs

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="http-api", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        path = urlsplit(request.path).path
        for route in self.routes:
            parameters = route.match(request.command, path)
            if parameters is not None:
                break
        else:
            self._send(
                request, 404, {"content-type": "application/json"}, json.dumps({"message": "Not Found"}).encode()
            )
            return
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        event = api_gateway_event(route, request.command, request.path, dict(request.headers.items()), body, parameters)
        result = route.function.invoke(event)
        if not result.ok:
            self._send(
                request,
                500,
                {"content-type": "application/json"},
                json.dumps({"message": "Internal Server Error"}).encode(),
            )
            return
        status, headers, payload = self._response(result.result)
        self._send(request, status, headers, payload)

    @staticmethod
    def _response(result: Any) -> tuple[int, dict[str, str], bytes]:
        """Interpret the function's return value the way HTTP API payload 2.0 does."""
        if isinstance(result, dict) and "statusCode" in result:
            body = result.get("body") or ""
            payload = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
            headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
            return int(result["statusCode"]), headers, payload
        return 200, {"content-type": "application/json"}, json.dumps(result).encode()

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, headers: dict[str, str], payload: bytes) -> None:
        request.send_response(status)
        for name, value in headers.items():
            if name.lower() != "content-length":
                request.send_header(name, value)
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)
