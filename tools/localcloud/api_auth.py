"""The HTTP API's authorization, as API Gateway applies the template's to each route before the function runs.

- A JWT authorizer (`x-amazon-apigateway-authorizer` of type jwt): the identity source header must
  hold a token (an optional `Bearer ` prefix is dropped) that is RS256-signed by a key of the issuer's
  JWKS, whose `iss` is the configured issuer, whose `aud` (or, for an access token, `client_id`) is
  one of the audiences, and that has not expired (`exp`, `nbf`). Otherwise 401 `{"message":"Unauthorized"}`.
  The function gets `requestContext.authorizer.jwt.claims` (every claim as a string, as API Gateway
  delivers them) and `scopes`.
- IAM authorization (`AWS_IAM`): the request must carry a valid Signature Version 4 for service
  `execute-api`, signed by credentials the local cloud knows (the ones it hands out) within 15
  minutes of now. Otherwise 403 `{"message":"Forbidden"}`. The function gets
  `requestContext.authorizer.iam`. IAM policies (`execute-api:Invoke`) are not evaluated locally.

The issuer's JWKS is read from moto when the issuer is a Cognito user pool (the only identity
provider reachable without the internet), once, and kept: API Gateway caches it too.
"""

from __future__ import annotations

import hmac
import json
import re
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

COGNITO_ISSUER = re.compile(r"^https://cognito-idp\.([a-z0-9-]+)\.amazonaws\.com/(?P<pool>[\w-]+)$")
SIGV4 = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<credential>[^,]+), ?"
    r"SignedHeaders=(?P<signed>[^,]+), ?Signature=(?P<sig>[0-9a-f]+)$"
)
MAX_CLOCK_SKEW_SECONDS = 15 * 60


class UnauthorizedError(Exception):
    """No or an invalid token: 401 (JWT)."""


class ForbiddenError(Exception):
    """No or an invalid signature: 403 (IAM)."""


@dataclass(frozen=True)
class JwtAuthorization:
    issuer: str
    audience: tuple[str, ...]
    identity_header: str = "authorization"
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class IamAuthorization:
    """Signature Version 4 on the execute-api service."""


RouteAuthorization = JwtAuthorization | IamAuthorization | None


def route_authorization(body: dict[str, Any], path: str, method: str) -> RouteAuthorization:
    """The authorization the (resolved) OpenAPI body of an HTTP API gives one route, None when it has none."""
    operation = body.get("paths", {}).get(path, {}).get(method.lower()) or body.get("paths", {}).get(path, {}).get(
        "x-amazon-apigateway-any-method", {}
    )
    security = operation.get("security", body.get("security", []))
    if not security:
        return None
    name, scopes = next(iter(security[0].items()))
    scheme = body.get("components", {}).get("securitySchemes", {}).get(name, {})
    if scheme.get("x-amazon-apigateway-authtype") == "awsSigv4":
        return IamAuthorization()
    authorizer = scheme.get("x-amazon-apigateway-authorizer", {})
    if authorizer.get("type") != "jwt":
        return None  # a Lambda authorizer: not run locally, and named at start-up (fidelity.py)
    configuration = authorizer["jwtConfiguration"]
    header = str(authorizer.get("identitySource", "$request.header.Authorization")).rsplit(".", 1)[-1].lower()
    audience = configuration.get("audience", [])
    return JwtAuthorization(
        issuer=str(configuration["issuer"]),
        audience=tuple(str(item) for item in ([audience] if isinstance(audience, str) else audience) if item),
        identity_header=header,
        scopes=tuple(scopes or ()),
    )


@dataclass
class JwksSource:
    """The issuer's signing keys, read once from moto (Cognito user pools only)."""

    moto_endpoint: str
    _keys: dict[str, KeySet] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def keys(self, issuer: str) -> KeySet:
        with self._lock:
            if issuer not in self._keys:
                match = COGNITO_ISSUER.match(issuer)
                if match is None:
                    raise UnauthorizedError(f"issuer {issuer} is not a Cognito user pool the local cloud can read")
                url = f"{self.moto_endpoint}/{match['pool']}/.well-known/jwks.json"
                # Only ever our own moto server (the user pool's JWKS endpoint).
                with urllib.request.urlopen(url, timeout=10) as response:
                    self._keys[issuer] = KeySet.import_key_set(json.loads(response.read()))
            return self._keys[issuer]


def _claim_text(value: Any) -> str:
    """A claim as API Gateway passes it to the function: strings as they are, lists as `[a b]`, numbers as text."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(str(item) for item in value) + "]"
    return json.dumps(value) if isinstance(value, dict | bool) else str(value)


def verify_jwt(headers: dict[str, str], authorization: JwtAuthorization, jwks: JwksSource) -> dict[str, Any]:
    """The `requestContext.authorizer` of a request whose token is valid; raises UnauthorizedError otherwise."""
    token = headers.get(authorization.identity_header, "").strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    if not token:
        raise UnauthorizedError("no token")
    try:
        decoded = jwt.decode(token, jwks.keys(authorization.issuer), algorithms=["RS256"])
        jwt.JWTClaimsRegistry(iss={"essential": True, "value": authorization.issuer}, exp={"essential": True}).validate(
            decoded.claims
        )
    except (JoseError, ValueError) as error:
        raise UnauthorizedError(str(error)) from error
    claims = decoded.claims
    audiences = claims.get("aud") or claims.get("client_id")
    audiences = audiences if isinstance(audiences, list) else [audiences]
    if not set(map(str, audiences)) & set(authorization.audience):
        raise UnauthorizedError("audience not accepted")
    scopes = str(claims.get("scope", "")).split()
    if authorization.scopes and not set(authorization.scopes) & set(scopes):
        raise ForbiddenError("insufficient scope")
    return {"jwt": {"claims": {name: _claim_text(value) for name, value in claims.items()}, "scopes": scopes or None}}


def verify_sigv4(
    method: str, url: str, headers: list[tuple[str, str]], body: bytes, known: dict[str, str], account: str
) -> dict[str, Any]:
    """The `requestContext.authorizer` of a request SigV4-signed (execute-api) by known credentials; else 403.

    `known` maps access key ids to their secret keys.
    """
    by_name = {name.lower(): value for name, value in headers}
    match = SIGV4.match(by_name.get("authorization", ""))
    if match is None:
        raise ForbiddenError("no Signature Version 4")
    access_key, date, region, service, terminal = match["credential"].split("/")
    if service != "execute-api" or terminal != "aws4_request" or access_key not in known:
        raise ForbiddenError("credentials not accepted")
    timestamp = by_name.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(timestamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise ForbiddenError("no X-Amz-Date") from None
    if abs(time.time() - signed_at.timestamp()) > MAX_CLOCK_SKEW_SECONDS or not timestamp.startswith(date):
        raise ForbiddenError("signature expired")
    signed = match["signed"].split(";")
    request = AWSRequest(method=method, url=url, data=body, headers={name: by_name.get(name, "") for name in signed})
    request.context["timestamp"] = timestamp
    signer = SigV4Auth(Credentials(access_key, known[access_key], by_name.get("x-amz-security-token")), service, region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, match["sig"]):
        raise ForbiddenError("signature does not match")
    return {
        "iam": {
            "accessKey": access_key,
            "accountId": account,
            "callerId": access_key,
            "principalOrgId": None,
            "userArn": f"arn:aws:iam::{account}:user/{access_key}",
            "userId": access_key,
        }
    }


def host_url(headers: list[tuple[str, str]], target: str) -> str:
    """The URL a client signed: its Host header and the request target."""
    host = next((value for name, value in headers if name.lower() == "host"), "localhost")
    parts = urlsplit(target)
    return f"http://{host}{parts.path}" + (f"?{parts.query}" if parts.query else "")
