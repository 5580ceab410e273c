"""The front door on the local cloud: the template's JWT authorizer (moto's Cognito user pool, tokens checked
against its JWKS), customers who see only their own orders, the IAM-authorized operator routes, throttling,
the access log, and CORS closed by default."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from moto.utilities.utils import load_resource

from tests.integration.conftest import Shop, order_request
from tools.localcloud.cloud import LocalCloud
from tools.localcloud.orders_client import operator_headers, request

pytestmark = pytest.mark.integration


def order_count(cloud: LocalCloud) -> int:
    return int(cloud.client("dynamodb").scan(TableName=cloud.ref("OrdersTable"), Select="COUNT")["Count"])


def claims_of(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, moto_signing_key()).claims)


def moto_signing_key() -> RSAKey:
    """The key moto's Cognito signs every token with (its JWKS serves the public half)."""
    return RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))


def forged(claims: dict[str, Any], key: RSAKey | None = None) -> str:
    return jwt.encode({"kid": "dummy", "alg": "RS256"}, claims, key or moto_signing_key())


@pytest.fixture
def ada(cloud: LocalCloud) -> Shop:
    return Shop(cloud, f"ada-{uuid.uuid4().hex[:6]}")


@pytest.fixture
def grace(cloud: LocalCloud) -> Shop:
    return Shop(cloud, f"grace-{uuid.uuid4().hex[:6]}")


def test_without_a_valid_token_every_customer_route_is_a_401_and_nothing_is_written(
    cloud: LocalCloud, ada: Shop
) -> None:
    body = order_request(("SKU-RED-MUG", 1, 1250))
    valid = claims_of(ada.token)
    now = int(time.time())
    tokens = {
        "none": None,
        "not a jwt": "not-a-token",
        "expired": forged({**valid, "iat": now - 7200, "exp": now - 3600}),
        "signed by another key": forged(valid, RSAKey.generate_key(2048)),
        "another issuer": forged({**valid, "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"}),
        "another audience": forged({**valid, "client_id": "someone-elses-app"}),
    }
    before = order_count(cloud)
    for label, token in tokens.items():
        for method, path, payload in [
            ("POST", "/orders", body),
            ("GET", "/orders/x", None),
            ("GET", "/orders/x/events", None),
        ]:
            response = request(method, f"{cloud.api_url}{path}", payload, token=token)
            assert (response.status, response.body) == (401, {"message": "Unauthorized"}), (label, method, path)
    assert order_count(cloud) == before


def test_the_order_belongs_to_the_tokens_subject_and_another_customer_gets_a_404(ada: Shop, grace: Shop) -> None:
    order_id = ada.place(order_request(("SKU-RED-MUG", 1, 1250)))
    assert ada.order(order_id)["customer_id"] == claims_of(ada.token)["sub"]
    for path in (f"/orders/{order_id}", f"/orders/{order_id}/events"):
        mine = request("GET", f"{ada.api}{path}", token=ada.token)
        theirs = request("GET", f"{grace.api}{path}", token=grace.token)
        missing = request("GET", f"{grace.api}{path.replace(order_id, str(uuid.uuid4()))}", token=grace.token)
        assert mine.status == 200
        # Another customer's order answers exactly like an order that does not exist: no enumeration
        assert theirs.status == missing.status == 404
        assert set(theirs.body) == set(missing.body) == {"message"}


def test_a_customer_id_in_the_body_is_refused(ada: Shop, cloud: LocalCloud) -> None:
    before = order_count(cloud)
    body = {**order_request(("SKU-RED-MUG", 1, 1250)), "customer_id": "someone-else"}
    response = request("POST", f"{ada.api}/orders", body, token=ada.token)
    assert response.status == 422
    assert [error["field"] for error in response.body["errors"]] == ["customer_id"]
    assert order_count(cloud) == before


def test_an_operator_signed_with_iam_credentials_reads_any_order_and_its_trail(
    cloud: LocalCloud, ada: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    order_id = ada.place(order_request(("SKU-RED-MUG", 1, 1250)))
    ada.wait_terminal(order_id)
    for name, value in cloud.environment().items():
        monkeypatch.setenv(name, value)
    url = f"{cloud.api_url}/operator/orders/{order_id}/events"
    response = request("GET", url, headers=operator_headers("GET", url))
    assert response.status == 200
    assert response.body["events"][0]["detail_type"] == "OrderPlaced"
    view_url = f"{cloud.api_url}/operator/orders/{order_id}"
    assert request("GET", view_url, headers=operator_headers("GET", view_url)).body["order_id"] == order_id
    # A customer's token, no signature, or a signature by credentials the cloud never issued: 403
    assert request("GET", url, token=ada.token).status == 403
    assert request("GET", url).body == {"message": "Forbidden"}
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    assert request("GET", url, headers=operator_headers("GET", url)).status == 403


def test_a_burst_beyond_the_routes_throttle_gets_429s_as_json(cloud: LocalCloud) -> None:
    settings = cloud.stack.api_settings
    assert settings is not None
    assert settings.burst_limit is not None
    burst = settings.burst_limit + 40
    url = f"{cloud.api_url}/orders/{uuid.uuid4()}/events"
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda _: request("GET", url), range(burst)))
    throttled = [answer for answer in answers if answer.status == 429]
    assert throttled, "no request was throttled"
    assert all(answer.body == {"message": "Too Many Requests"} for answer in throttled)
    assert {answer.status for answer in answers} == {401, 429}
    time.sleep(settings.burst_limit / (settings.rate_limit or 1))  # the bucket refills at the rate


def test_every_request_is_in_the_access_log_with_its_status_and_customer(cloud: LocalCloud, ada: Shop) -> None:
    order_id = ada.place(order_request(("SKU-RED-MUG", 1, 1250)))
    request("GET", f"{cloud.api_url}/orders/{order_id}")  # no token
    lines = [json.loads(line) for line in (cloud.work_dir / "logs" / "http-api-access.log").read_text().splitlines()]
    sub = claims_of(ada.token)["sub"]
    assert {"routeKey": "POST /orders", "status": "201", "customer": sub}.items() <= next(
        line for line in lines if line["customer"] == sub and line["routeKey"] == "POST /orders"
    ).items()
    assert any(line["status"] == "401" and line["authorizerError"] == "no token" for line in lines)


def test_cors_is_closed_by_default(cloud: LocalCloud, ada: Shop) -> None:
    preflight = request(
        "OPTIONS",
        f"{cloud.api_url}/orders",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert (preflight.status, preflight.body) == (404, {"message": "Not Found"})
    answer = request("GET", f"{cloud.api_url}/orders/x", headers={"Origin": "https://evil.example"}, token=ada.token)
    assert not any(name.lower().startswith("access-control-") for name in answer.headers)
