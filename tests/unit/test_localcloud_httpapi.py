"""The local HTTP API's edge, from template.yaml provisioned on moto in-process: each route's authorizer,
CORS (closed unless CorsAllowOrigin is set), the throttle's token bucket."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tools.localcloud.api_auth import IamAuthorization, JwtAuthorization
from tools.localcloud.httpapi import TokenBucket, cors_headers, preflight
from tools.localcloud.provisioners import provision
from tools.localcloud.stack import Stack, stack_parameters
from tools.localcloud.template import load_template

pytestmark = pytest.mark.usefixtures("aws")
SHOP = "https://shop.example.com"
STACKS: list[str] = []


def client(service: str) -> Any:
    return boto3.client(service)  # type: ignore[call-overload]


def provisioned(**overrides: str) -> Stack:
    """The template provisioned as a stack of its own (one moto holds several: the names must differ)."""
    template = load_template()
    name = f"unit{len(STACKS)}"
    stack = Stack(template, name, stack_parameters(template, name, overrides), client)
    provision(stack)
    STACKS.append(name)
    return stack


def test_customer_routes_have_the_user_pools_jwt_authorizer_and_operator_routes_iam() -> None:
    stack = provisioned()
    routes = {f"{route.method} {route.path}": route.authorization for route in stack.routes}
    pool, app_client = stack.ref("CustomerUserPool"), stack.ref("CustomerUserPoolClient")
    customer = JwtAuthorization(f"https://cognito-idp.us-east-1.amazonaws.com/{pool}", (app_client,))
    assert routes == {
        "POST /orders": customer,
        "GET /orders/{order_id}": customer,
        "GET /orders/{order_id}/events": customer,
        "GET /operator/orders/{order_id}": IamAuthorization(),
        "GET /operator/orders/{order_id}/events": IamAuthorization(),
    }


def test_a_bring_your_own_issuer_replaces_the_user_pool() -> None:
    stack = provisioned(JwtIssuer="https://idp.example.com/", JwtAudience="orders,orders-admin")
    authorization = next(route.authorization for route in stack.routes if route.path == "/orders")
    assert authorization == JwtAuthorization("https://idp.example.com/", ("orders", "orders-admin"))
    assert "CustomerUserPool" not in stack.physical


def test_cors_is_closed_by_default_and_opened_by_the_parameter_for_one_origin() -> None:
    settings = provisioned().api_settings
    assert settings is not None
    assert settings.cors is None
    assert (settings.rate_limit, settings.burst_limit) == (50.0, 100)
    opened = provisioned(CorsAllowOrigin=SHOP).api_settings
    assert opened is not None
    assert opened.cors is not None
    assert opened.cors.allow_origins == (SHOP,)


def test_a_preflight_from_the_allowed_origin_is_answered_and_others_get_no_headers() -> None:
    settings = provisioned(CorsAllowOrigin=SHOP).api_settings
    assert settings is not None
    assert settings.cors is not None
    allowed = preflight(settings.cors, SHOP, "POST", "authorization,content-type")
    headers = dict(allowed.headers)
    assert allowed.status == 204
    assert headers["access-control-allow-origin"] == SHOP
    assert "POST" in headers["access-control-allow-methods"].split(",")
    assert preflight(settings.cors, "https://evil.example", "POST", "content-type").headers == []
    assert preflight(settings.cors, SHOP, "DELETE", "content-type").headers == []
    assert cors_headers(settings.cors, "https://evil.example") == []
    assert cors_headers(None, SHOP) == []


def test_the_token_bucket_allows_the_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=1000.0, burst=3)
    bucket.rate = 0.0  # no refill while we count the burst
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    bucket.rate = 1000.0
    bucket.updated -= 0.01  # 10 ms at 1000/s: the bucket is full again
    assert bucket.take()
