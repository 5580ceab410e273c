"""orders-api: the orders HTTP API (payload format 2.0).

Customers (a JWT authorizer; the customer is the token's subject): POST /orders,
GET /orders/{order_id}, GET /orders/{order_id}/events. Another customer's order is answered
404, exactly like an order that does not exist, so ids cannot be probed. Operators (IAM
authorization): GET /operator/orders/{order_id} and /operator/orders/{order_id}/events, any order.

Every error is a JSON object with a `message` (API Gateway's own errors have that shape too);
a 422 adds `errors`, one `{"field", "error"}` per problem.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, UnauthorizedError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from orderflow.audit import AuditTable
from orderflow.observability import logger, metrics, tracer
from orderflow.orders import OrderView
from orderflow.orders_table import OrdersTable, UnknownOrderError
from orderflow.parsing import UndecodableError, decode_json
from orders_api.intake import PlaceOrderRequest, new_order_id, order_placed_event, place_order
from orders_api.settings import get_settings

app = APIGatewayHttpResolver()


def _error(status: HTTPStatus, message: str, errors: list[dict[str, str]] | None = None) -> Response[str]:
    body: dict[str, Any] = {"message": message}
    if errors is not None:
        body["errors"] = errors
    return Response(status_code=status.value, content_type="application/json", body=json.dumps(body))


def _rejected(status: HTTPStatus, message: str, errors: list[dict[str, str]] | None = None) -> Response[str]:
    metrics.add_metric(name="OrderRejected", unit=MetricUnit.Count, value=1)
    return _error(status, message, errors)


@app.not_found
def _unrouted(_: NotFoundError) -> Response[str]:
    return _error(HTTPStatus.NOT_FOUND, "Not Found")


@app.exception_handler(NotFoundError)  # type: ignore[untyped-decorator]  # Powertools leaves it untyped
def _no_such_order(error: NotFoundError) -> Response[str]:
    return _error(HTTPStatus.NOT_FOUND, str(error.msg))


@app.exception_handler(UnauthorizedError)  # type: ignore[untyped-decorator]
def _no_identity(error: UnauthorizedError) -> Response[str]:
    return _error(HTTPStatus.UNAUTHORIZED, str(error.msg))


def _customer() -> str:
    """The signed-in customer: the subject of the token API Gateway's JWT authorizer verified."""
    claims = app.current_event.request_context.authorizer.jwt_claim or {}
    subject = claims.get("sub")
    if not subject:  # only reachable if a route lost its authorizer: refuse rather than serve anyone
        raise UnauthorizedError("Unauthorized")
    return str(subject)


def _operator() -> None:
    """The route is IAM-authorized: API Gateway verified the caller's signature (the caller is in the log)."""
    iam = app.current_event.request_context.authorizer.iam
    if iam is None or not iam.user_arn:
        raise UnauthorizedError("Unauthorized")
    logger.info("Operator read", extra={"caller": iam.user_arn})


def _place(submission: dict[str, Any]) -> dict[str, Any]:
    request = PlaceOrderRequest.model_validate(submission["request"])
    order_id = new_order_id(submission["customer_id"], submission.get("idempotency_key"))
    logger.set_correlation_id(order_id)
    placed = order_placed_event(request, submission["customer_id"], order_id)
    view = place_order(placed, OrdersTable(get_settings().orders_table_name))
    return {
        "order_id": view.order_id,
        "status": view.status.value,
        "total_cents": view.total_cents,
        "currency": view.currency,
        "links": {"self": f"/orders/{view.order_id}", "events": f"/orders/{view.order_id}/events"},
    }


@cache
def _request_idempotency() -> Any:
    """Same key + same body → the stored response; same key + another body → IdempotencyValidationError.

    Built on first use: Powertools idempotency imports boto3, which the function's init does not.
    """
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    # The key is the customer's: two customers may send the same Idempotency-Key and get two orders.
    return IdempotencyConfig(
        event_key_jmespath="[customer_id, idempotency_key]",
        payload_validation_jmespath="request",
        expires_after_seconds=24 * 60 * 60,
    )


@cache
def _place_idempotently() -> Any:
    """Built on first use: the persistence layer creates its DynamoDB client."""
    from aws_lambda_powertools.utilities.idempotency import idempotent_function

    from orderflow.idempotency import persistence_layer

    return idempotent_function(
        data_keyword_argument="submission",
        persistence_store=persistence_layer(get_settings().idempotency_table_name),
        config=_request_idempotency(),
    )(_place)


def _create(submission: dict[str, Any]) -> dict[str, Any] | Response[str]:
    """The created order, once per Idempotency-Key when there is one; a key reused or in flight is the client's."""
    if not submission.get("idempotency_key"):
        return _place(submission)
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    try:
        created: dict[str, Any] = _place_idempotently()(submission=submission)
    except IdempotencyValidationError:
        return _error(HTTPStatus.UNPROCESSABLE_ENTITY, "Idempotency-Key was already used with a different body")
    except IdempotencyAlreadyInProgressError:
        return _error(HTTPStatus.CONFLICT, "a request with this Idempotency-Key is in progress; retry later")
    return created


@app.post("/orders")
@tracer.capture_method
def post_order() -> Response[str]:
    customer_id = _customer()
    event = app.current_event
    # API Gateway base64-encodes a body whose Content-Type is not text.
    raw = base64.b64decode(event.body or "") if event.is_base64_encoded else (event.body or "").encode()
    limit = get_settings().max_request_body_bytes
    if len(raw) > limit:  # measured before parsing: a huge body costs nothing but this check
        return _rejected(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body is larger than {limit} bytes")
    try:
        body = decode_json(raw)
    except UndecodableError as error:  # not JSON, not UTF-8 or Unicode, too deep, a number too long
        return _rejected(HTTPStatus.BAD_REQUEST, f"body is not valid JSON: {error}")
    key = app.current_event.headers.get("idempotency-key")
    try:
        # Events tolerate unknown fields (consumers may lag producers); a client's typo is an error.
        request = PlaceOrderRequest.model_validate(body, extra="forbid")
        # Bounds only the event checks (the order's total) are the client's error too: build it now.
        order_placed_event(request, customer_id, new_order_id(customer_id, key))
    except ValidationError as error:
        errors = [{"field": ".".join(str(part) for part in e["loc"]), "error": e["msg"]} for e in error.errors()]
        return _rejected(HTTPStatus.UNPROCESSABLE_ENTITY, "invalid order", errors)

    submission = {"customer_id": customer_id, "idempotency_key": key, "request": request.model_dump(mode="json")}
    created = _create(submission)
    if isinstance(created, Response):
        return created
    metrics.add_metric(name="OrderPlaced", unit=MetricUnit.Count, value=1)
    return Response(status_code=HTTPStatus.CREATED.value, content_type="application/json", body=json.dumps(created))


def _order(order_id: str, customer_id: str | None) -> OrderView:
    """The order; NotFoundError when there is none or it is not `customer_id`'s (None: an operator's read)."""
    logger.set_correlation_id(order_id)
    try:
        order = OrdersTable(get_settings().orders_table_name).get(order_id)
    except UnknownOrderError:
        order = None
    if order is None or (customer_id is not None and order.customer_id != customer_id):
        raise NotFoundError(f"no order {order_id}")
    return order


def _trail(order_id: str) -> dict[str, Any]:
    trail = AuditTable(get_settings().audit_table_name).trail(order_id)
    events = [
        {**entry.model_dump(mode="json", exclude={"detail"}), "detail": json.loads(entry.detail)} for entry in trail
    ]
    return {"order_id": order_id, "events": events}


@app.get("/orders/<order_id>")
@tracer.capture_method
def get_order(order_id: str) -> dict[str, Any]:
    return _order(order_id, _customer()).public()


@app.get("/orders/<order_id>/events")
@tracer.capture_method
def get_order_events(order_id: str) -> dict[str, Any]:
    _order(order_id, _customer())
    return _trail(order_id)


@app.get("/operator/orders/<order_id>")
@tracer.capture_method
def operator_get_order(order_id: str) -> dict[str, Any]:
    _operator()
    return _order(order_id, None).public()


@app.get("/operator/orders/<order_id>/events")
@tracer.capture_method
def operator_get_order_events(order_id: str) -> dict[str, Any]:
    _operator()
    _order(order_id, None)
    return _trail(order_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _request_idempotency().register_lambda_context(context)
    return app.resolve(event, context)
