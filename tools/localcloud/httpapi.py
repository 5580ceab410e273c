"""The template's HTTP API served on localhost, as API Gateway (payload format 2.0) calls the function.

Requests are served concurrently (one thread each), as API Gateway does; a function
still runs one invocation at a time in its single warm environment (functions.py).
The event and response rules are in httpapi_payload.py.
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tools.localcloud.functions import FunctionRuntime
from tools.localcloud.httpapi_payload import (
    HttpRequest,
    HttpResponse,
    function_response,
    internal_error,
    not_found,
    request_event,
)

__all__ = ["HttpApi", "Route"]


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


def _read_body(request: BaseHTTPRequestHandler) -> bytes:
    if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        chunks = []
        while size := int(request.rfile.readline().split(b";", 1)[0].strip() or b"0", 16):
            chunks.append(request.rfile.read(size))
            request.rfile.readline()  # the CRLF after each chunk
        while request.rfile.readline().strip():
            pass  # trailers, up to the blank line
        return b"".join(chunks)
    length = int(request.headers.get("Content-Length") or 0)
    return request.rfile.read(length) if length else b""


class HttpApi:
    """A threaded HTTP server routing requests to functions by the template's HttpApi events."""

    def __init__(self, routes: list[Route], port: int = 0) -> None:
        self.routes = routes
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_request(self) -> None:
                api.handle(self)

            def __getattr__(self, name: str) -> Any:
                # http.server answers a method without a do_<METHOD> with a 501 HTML page; API
                # Gateway routes every method (HEAD, OPTIONS, made-up ones) and 404s the unrouted.
                if name.startswith("do_"):
                    return self.do_request
                raise AttributeError(name)

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

    def route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            parameters = route.match(method, path)
            if parameters is not None:
                return route, parameters
        return None

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        request_id = str(uuid.uuid4())
        body = _read_body(request)
        found = self.route(request.command, urlsplit(request.path).path)
        if found is None:
            response = not_found()
        else:
            route, parameters = found
            http_request = HttpRequest(
                request.command, request.path, list(request.headers.items()), body, request.client_address[0]
            )
            try:
                result = route.function.invoke(request_event(http_request, route.route_key, parameters, request_id))
            except Exception:  # the environment could not start: Lambda's error, API Gateway's 500
                response = internal_error()
            else:
                response = function_response(result.result) if result.ok else internal_error()
        self._send(request, response, request_id)

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, response: HttpResponse, request_id: str) -> None:
        request.send_response(response.status)
        for name, value in response.headers:
            if name.lower() != "content-length":
                request.send_header(name, value)
        request.send_header("Content-Length", str(len(response.body)))
        request.send_header("apigw-requestid", request_id)
        request.end_headers()
        if request.command != "HEAD":  # a HEAD answer has the headers of the GET, never a body
            request.wfile.write(response.body)
