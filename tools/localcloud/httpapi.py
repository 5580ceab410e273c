"""The template's HTTP API served on localhost, as API Gateway (payload format 2.0) calls the function.

Requests are served concurrently (one thread each), as API Gateway does; a function
still runs one invocation at a time in its single warm environment (functions.py).
The event and response rules are in httpapi_payload.py. Before the function, as API Gateway:
a CORS preflight is answered from the API's CorsConfiguration, the route's throttle (token
bucket: the default route settings' rate and burst) may answer 429, and its authorizer
(api_auth.py) 401 or 403. Each request is written to the access log in the template's format.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tools.localcloud.api_auth import (
    ForbiddenError,
    IamAuthorization,
    JwksSource,
    RouteAuthorization,
    UnauthorizedError,
    host_url,
    verify_jwt,
    verify_sigv4,
)
from tools.localcloud.functions import FunctionRuntime
from tools.localcloud.httpapi_payload import (
    HttpRequest,
    HttpResponse,
    function_response,
    internal_error,
    message,
    not_found,
    request_event,
)
from tools.localcloud.provision_runtime import ApiSettings, CorsSpec

__all__ = ["HttpApi", "Route"]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as in the template, e.g. /orders/{order_id}
    function: FunctionRuntime
    authorization: RouteAuthorization = None

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


@dataclass
class TokenBucket:
    """API Gateway's throttle for one route: `rate` requests per second, bursts up to `burst`."""

    rate: float
    burst: int
    tokens: float = field(init=False)
    updated: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens < 1:
                return False
            self.tokens -= 1
            return True


@dataclass(frozen=True)
class ApiSecurity:
    """What authorizers need: moto's endpoint (the user pools' JWKS) and the credentials the local cloud issues."""

    moto_endpoint: str
    credentials: dict[str, str]  # access key id -> secret key
    account: str = "123456789012"


def cors_headers(cors: CorsSpec | None, origin: str | None) -> list[tuple[str, str]]:
    """The CORS headers of an actual response: only for an allowed Origin."""
    if cors is None or not origin or not ({origin, "*"} & set(cors.allow_origins)):
        return []
    headers = [("access-control-allow-origin", origin if "*" not in cors.allow_origins else "*")]
    if cors.allow_credentials:
        headers.append(("access-control-allow-credentials", "true"))
    if cors.expose_headers:
        headers.append(("access-control-expose-headers", ",".join(cors.expose_headers)))
    return headers


def preflight(cors: CorsSpec, origin: str | None, method: str, headers: str) -> HttpResponse:
    """API Gateway's answer to an OPTIONS preflight when the API has a CorsConfiguration: 204, headers if allowed."""
    allowed = cors_headers(cors, origin)
    wanted = {header.strip().lower() for header in headers.split(",") if header.strip()}
    methods_ok = method.upper() in cors.allow_methods or "*" in cors.allow_methods
    headers_ok = wanted <= set(cors.allow_headers) or "*" in cors.allow_headers
    if not allowed or not methods_ok or not headers_ok:
        return HttpResponse(204)
    allowed += [
        ("access-control-allow-methods", ",".join(cors.allow_methods)),
        ("access-control-allow-headers", ",".join(cors.allow_headers)),
    ]
    if cors.max_age is not None:
        allowed.append(("access-control-max-age", str(cors.max_age)))
    return HttpResponse(204, allowed)


ACCESS_LOG_VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_.]+)")


@dataclass
class AccessLog:
    """One line per request in the template's AccessLogSettings format ($context variables filled in)."""

    log_format: str
    path: Path
    lock: threading.Lock = field(default_factory=threading.Lock)

    def write(self, context: dict[str, str]) -> None:
        line = ACCESS_LOG_VARIABLE.sub(lambda match: context.get(match.group(1), "-"), self.log_format)
        with self.lock, self.path.open("a") as log:
            log.write(line.replace("\n", " ") + "\n")


class HttpApi:
    """A threaded HTTP server routing requests to functions by the template's HttpApi events."""

    def __init__(
        self,
        routes: list[Route],
        port: int = 0,
        settings: ApiSettings | None = None,
        security: ApiSecurity | None = None,
        access_log: Path | None = None,
    ) -> None:
        self.routes = routes
        self.settings = settings or ApiSettings()
        self.security = security
        self.jwks = JwksSource(security.moto_endpoint) if security else None
        self.access_log = (
            AccessLog(self.settings.access_log_format, access_log)
            if self.settings.access_log_format and access_log
            else None
        )
        self._buckets: dict[str, TokenBucket] = {}
        self._buckets_lock = threading.Lock()
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

        self.server = _ManyConnections(("127.0.0.1", port), Handler)
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

    def _throttled(self, route_key: str) -> bool:
        if self.settings.rate_limit is None or self.settings.burst_limit is None:
            return False
        with self._buckets_lock:
            bucket = self._buckets.setdefault(
                route_key, TokenBucket(self.settings.rate_limit, self.settings.burst_limit)
            )
        return not bucket.take()

    def _authorize(self, route: Route, http_request: HttpRequest) -> dict[str, Any] | None:
        """The requestContext.authorizer for the route's authorization; raises UnauthorizedError or ForbiddenError."""
        if route.authorization is None:
            return None
        if self.security is None or self.jwks is None:
            raise ForbiddenError("the local cloud has no credentials to check requests against")
        if isinstance(route.authorization, IamAuthorization):
            url = host_url(http_request.headers, http_request.target)
            return verify_sigv4(
                http_request.method,
                url,
                http_request.headers,
                http_request.body,
                self.security.credentials,
                self.security.account,
            )
        headers = {name.lower(): value for name, value in http_request.headers}
        return verify_jwt(headers, route.authorization, self.jwks)

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        started = time.monotonic()
        request_id = str(uuid.uuid4())
        body = _read_body(request)
        path = urlsplit(request.path).path
        origin = request.headers.get("Origin")
        http_request = HttpRequest(
            request.command, request.path, list(request.headers.items()), body, request.client_address[0]
        )
        context = {"requestId": request_id, "identity.sourceIp": http_request.source_ip, "httpMethod": request.command}
        cors = self.settings.cors
        found = self.route(request.command, path)
        if cors is not None and request.command == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
            # With a CorsConfiguration, API Gateway answers every preflight itself, routed or not.
            response = preflight(
                cors,
                origin,
                request.headers.get("Access-Control-Request-Method", ""),
                request.headers.get("Access-Control-Request-Headers", ""),
            )
        elif found is None:
            response = not_found()
        else:
            route, parameters = found
            context["routeKey"] = route.route_key
            response = self._respond(route, parameters, http_request, request_id, context)
        response.headers += cors_headers(cors, origin)
        self._send(request, response, request_id)
        if self.access_log is not None:
            context |= {
                "status": str(response.status),
                "responseLength": str(len(response.body)),
                "responseLatency": str(int((time.monotonic() - started) * 1000)),
                "requestTime": datetime.now(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            }
            self.access_log.write(context)

    def _respond(
        self,
        route: Route,
        parameters: dict[str, str],
        http_request: HttpRequest,
        request_id: str,
        context: dict[str, str],
    ) -> HttpResponse:
        if self._throttled(route.route_key):
            return message(429, "Too Many Requests")
        try:
            authorizer = self._authorize(route, http_request)
        except UnauthorizedError as error:
            context["authorizer.error"] = str(error)
            return message(401, "Unauthorized")
        except ForbiddenError as error:
            context["authorizer.error"] = str(error)
            return message(403, "Forbidden")
        if authorizer is not None:
            claims = authorizer.get("jwt", {}).get("claims", {})
            context |= {f"authorizer.claims.{name}": str(value) for name, value in claims.items()}
            context["identity.caller"] = authorizer.get("iam", {}).get("callerId", "-")
        event = request_event(http_request, route.route_key, parameters, request_id, authorizer)
        try:
            result = route.function.invoke(event)
        except Exception:  # the environment could not start: Lambda's error, API Gateway's 500
            return internal_error()
        return function_response(result.result) if result.ok else internal_error()

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


class _ManyConnections(ThreadingHTTPServer):
    """API Gateway takes every connection of a burst; socketserver's listen backlog of 5 reset the rest."""

    request_queue_size = 128
