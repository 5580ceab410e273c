"""boto3 clients, created on first use and cached for the life of the container, and the AWS errors callers expect.

boto3 itself is imported on first use too: a function's init imports only what parsing and its
rules need, and the first invocation pays for boto3 and its clients (see README, "Cold start").
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError  # light: no botocore session, no boto3

if TYPE_CHECKING:
    from botocore.config import Config


@cache
def _config() -> Config:
    from botocore.config import Config

    # Standard retry mode backs off on throttling; adaptive would need client-side state we don't want.
    return Config(retries={"mode": "standard", "max_attempts": 5})


@cache
def client(service_name: str) -> Any:
    """A cached boto3 client for `service_name` (endpoint and region come from the environment)."""
    import boto3

    return boto3.client(service_name, config=_config())  # type: ignore[call-overload]


@cache
def resource(service_name: str) -> Any:
    """A cached boto3 resource for `service_name`."""
    import boto3

    return boto3.resource(service_name, config=_config())  # type: ignore[call-overload]


class DynamoDBTable:
    """Base of a table adapter: the table it owns, and the cached clients it talks through."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _dynamodb(self) -> Any:
        """The low-level client (typed attribute values, transactions)."""
        return client("dynamodb")

    @property
    def _table(self) -> Any:
        """The table resource (plain Python values)."""
        return resource("dynamodb").Table(self.table_name)


def attribute(name: str) -> Any:
    """A condition on an item's attribute (boto3's Attr), imported with the table resource's first use."""
    from boto3.dynamodb.conditions import Attr

    return Attr(name)


def key(name: str) -> Any:
    """A key condition on a query (boto3's Key), imported with the table resource's first use."""
    from boto3.dynamodb.conditions import Key

    return Key(name)


def reset_clients() -> None:
    """Forget cached clients (tests that switch endpoints or moto contexts call this)."""
    client.cache_clear()
    resource.cache_clear()


# The error codes the services expect from AWS as answers, not failures.
CONDITION_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CANCELLED = "TransactionCanceledException"
# A cancelled transaction's reason per item: its condition failed, or another transaction held the item.
CONDITION_CHECK_FAILED = "ConditionalCheckFailed"
TRANSACTION_CONFLICT = "TransactionConflict"


def error_code(error: ClientError) -> str:
    """The AWS error code of a failed call ("" when the response names none)."""
    return str(error.response.get("Error", {}).get("Code", ""))


def is_error(error: BaseException, *codes: str) -> bool:
    """True for a ClientError whose code is one of `codes`: an answer the caller expects."""
    return isinstance(error, ClientError) and error_code(error) in codes


def cancellation_reasons(error: ClientError) -> list[str]:
    """The code per item of a cancelled transaction, in the order of its items ("None" for an item that was fine)."""
    return [str(reason.get("Code", "None")) for reason in error.response.get("CancellationReasons") or []]


def cancelled_by_condition(error: ClientError) -> bool:
    """A transaction refused because one of its conditions failed (not a conflict or a throttle, which are retried)."""
    return is_error(error, TRANSACTION_CANCELLED) and CONDITION_CHECK_FAILED in cancellation_reasons(error)


def succeeded(call: Callable[[], object], *codes: str, refused: Callable[[ClientError], bool] | None = None) -> bool:
    """Make the call; False when AWS refused it with one of `codes`, or as `refused` says (a failed condition).

    Any other error raises: only the refusals a caller names are answers, the rest are failures to retry.
    """
    try:
        call()
    except ClientError as error:
        if error_code(error) in codes or (refused is not None and refused(error)):
            return False
        raise
    return True
