"""The local HTTP API behaves like API Gateway's HTTP API with payload format 2.0.

A fixture template (tests/integration/httpapi_fixture) routes paths to a probe that
answers in each shape the 2.0 response format allows, and echoes the event it got.
"""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.integration.conftest import Shop, order_request
from tools.localcloud.cloud import LocalCloud
from tools.localcloud.orders_client import request
from tools.localcloud.template import load_template

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).with_name("httpapi_fixture") / "template.yaml"
BINARY = bytes(range(256))


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(load_template(FIXTURE), stack_name="httpprobe", work_dir=tmp_path_factory.mktemp("http")) as cloud:
        yield cloud


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)


def send(
    cloud: LocalCloud, method: str, path: str, headers: Sequence[tuple[str, str]] = (), body: bytes = b""
) -> Answer:
    """A raw request: http.client keeps repeated headers, which urllib's dict of headers cannot."""
    address = urlsplit(cloud.api_url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        if body:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        return Answer(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


def echoed(cloud: LocalCloud, headers: Sequence[tuple[str, str]] = (), body: bytes = b"", path: str = "/echo") -> Any:
    answer = send(cloud, "POST" if body else "GET", path, headers, body)
    assert answer.status == 200, answer.body
    return answer.json()


# ------------------------------------------------------------------ the event --
def test_cookies_arrive_in_the_cookies_array_and_not_as_a_header(api: LocalCloud) -> None:
    event = echoed(api, [("Cookie", "session=abc; theme=dark"), ("Cookie", "lang=en")])
    assert event["cookies"] == ["session=abc", "theme=dark", "lang=en"]
    assert "cookie" not in event["headers"]


def test_repeated_headers_are_joined_with_commas(api: LocalCloud) -> None:
    event = echoed(api, [("X-Tag", "first"), ("x-tag", "second"), ("X-Single", "only")])
    assert event["headers"]["x-tag"] == "first,second"
    assert event["headers"]["x-single"] == "only"


def test_repeated_query_parameters_are_joined_with_commas_and_blank_ones_kept(api: LocalCloud) -> None:
    event = echoed(api, path="/echo?tag=a&tag=b&empty=")
    assert event["queryStringParameters"] == {"tag": "a,b", "empty": ""}
    assert event["rawQueryString"] == "tag=a&tag=b&empty="


def test_a_binary_body_arrives_base64_encoded(api: LocalCloud) -> None:
    event = echoed(api, [("Content-Type", "application/octet-stream")], BINARY)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == BINARY


def test_a_json_body_arrives_as_text(api: LocalCloud) -> None:
    body = json.dumps({"name": "Zoë"}).encode()
    event = echoed(api, [("Content-Type", "application/json; charset=utf-8")], body)
    assert event["isBase64Encoded"] is False
    assert event["body"] == body.decode()


def test_a_body_without_a_text_content_type_arrives_base64_encoded(api: LocalCloud) -> None:
    # As on AWS: a form post, or a body with no Content-Type at all, is base64 even when it is UTF-8.
    for headers in ([("Content-Type", "application/x-www-form-urlencoded")], []):
        event = echoed(api, headers, b"a=1&b=2")
        assert event["isBase64Encoded"] is True
        assert base64.b64decode(event["body"]) == b"a=1&b=2"


# --------------------------------------------------------------- the response --
def test_a_string_return_value_is_the_body_as_is(api: LocalCloud) -> None:
    answer = send(api, "GET", "/string")
    assert (answer.status, answer.body) == (200, b"plain text, not JSON")
    assert answer.header("content-type") == ["application/json"]


def test_a_dict_without_status_code_is_a_json_body_with_status_200(api: LocalCloud) -> None:
    answer = send(api, "GET", "/dict")
    assert (answer.status, answer.json()) == (200, {"hello": "world"})
    assert answer.header("content-type") == ["application/json"]


def test_response_cookies_become_one_set_cookie_header_each(api: LocalCloud) -> None:
    answer = send(api, "GET", "/cookies")
    assert answer.header("set-cookie") == ["session=abc; Path=/; HttpOnly", "theme=dark"]
    assert answer.body == b"ok"


def test_a_base64_response_body_is_sent_as_bytes(api: LocalCloud) -> None:
    answer = send(api, "GET", "/binary")
    assert (answer.status, answer.body) == (200, BINARY)
    assert answer.header("content-type") == ["image/png"]


# ------------------------------------------------------------ routing, methods --
@pytest.mark.parametrize("method", ["OPTIONS", "DELETE", "PROPFIND"])
def test_a_method_with_no_route_gets_the_json_404(api: LocalCloud, method: str) -> None:
    answer = send(api, method, "/string")
    assert (answer.status, answer.json()) == (404, {"message": "Not Found"})
    assert answer.header("content-type") == ["application/json"]


def test_head_gets_the_json_404_headers_without_a_body_when_unrouted_and_the_function_when_routed(
    api: LocalCloud,
) -> None:
    unrouted = send(api, "HEAD", "/string")  # GET /string does not route HEAD
    assert (unrouted.status, unrouted.body) == (404, b"")
    assert unrouted.header("content-type") == ["application/json"]
    routed = send(api, "HEAD", "/echo")  # ANY /echo does
    assert (routed.status, routed.body) == (200, b"")
    assert int(routed.header("content-length")[0]) > 0


def test_requests_are_served_concurrently(api: LocalCloud) -> None:
    # Given a slow request in flight on one function
    slow = threading.Thread(target=send, args=(api, "GET", "/slow?seconds=3"))
    slow.start()
    time.sleep(0.5)
    # When another function's route is called
    started = time.monotonic()
    answer = send(api, "GET", "/dict")
    took = time.monotonic() - started
    slow.join()
    # Then it answers at once instead of queueing behind the slow one
    assert answer.status == 200
    assert took < 1.5, f"waited {took:.1f}s behind another request"


# ----------------------------------------------------------- the orders API --
def test_the_orders_api_still_answers_as_before(shop: Shop) -> None:
    skus = shop.seed(mug=1)
    order_id = shop.place(order_request((skus["mug"], 1, 1250)))  # asserts the 201
    assert shop.order(order_id)["order_id"] == order_id  # asserts the 200
    invalid = {"customer_id": "c", "items": [], "currency": "EUR", "payment_token": "t"}
    assert request("POST", f"{shop.api}/orders", invalid, token=shop.token).status == 422
    nowhere = request("GET", f"{shop.api}/nowhere")
    assert (nowhere.status, nowhere.body) == (404, {"message": "Not Found"})
