"""A function's runtime process: imports the real handler once, then serves invocations.

Run as a script by the local cloud, like a Lambda execution environment: the
function's code and layers on sys.path, the template's environment, one
invocation at a time. Requests and responses are JSON lines on the pipes that
were stdin/stdout; everything the handler prints goes to stderr (the log file).

Each request may carry faults (tools/localcloud/faults.py): the worker applies
them around botocore's `BaseClient._make_api_call`, so the handler sees an AWS
call fail, some PutEvents entries fail, a transaction conflict, or its
environment dies mid-record, without any of that being written in its code.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import sys
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

KILLED_EXIT_CODE = 137  # what Lambda reports for an environment that died (SIGKILL)

ApiCall = Callable[[Any, str, dict[str, Any]], Any]


class InvocationContext:
    """The Lambda context object handlers receive."""

    def __init__(self, function_name: str, memory_mb: int, timeout_seconds: float, request_id: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "localcloud"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def client_error(code: str, message: str, operation: str, status: int, **extra: Any) -> Exception:
    """A botocore ClientError as the service would return it."""
    from botocore.exceptions import ClientError

    metadata = {"HTTPStatusCode": status}
    response: Any = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": metadata, **extra}
    return ClientError(response, operation)


class FaultInjector:
    """Applies the faults one invocation request carries to every AWS call the handler makes."""

    def __init__(self) -> None:
        self.rules: dict[str, dict[str, Any]] = {}
        self.random = random.Random()
        self.injected: Counter[str] = Counter()

    def begin(self, settings: dict[str, Any] | None) -> None:
        settings = settings or {}
        self.rules = dict(settings.get("rules") or {})
        self.random.seed(settings.get("seed", 0))
        self.injected = Counter()

    def fires(self, kind: str, operation: str) -> bool:
        rule = self.rules.get(kind)
        if not rule or (rule["operations"] and operation not in rule["operations"]):
            return False
        remaining = rule.get("remaining")
        if remaining is not None and self.injected[kind] >= remaining:
            return False
        return self.random.random() < float(rule["rate"])

    def call(self, original: ApiCall, client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        operation = f"{client.meta.service_model.service_name}.{operation_name}"
        if self.fires("kill", operation):
            # As an environment that dies mid-record: no response, no cleanup, nothing flushed by the handler.
            sys.stderr.write(f"localcloud: injected fault: worker killed before {operation}\n")
            sys.stderr.flush()
            os._exit(KILLED_EXIT_CODE)
        if self.fires("raise", operation):
            self.injected["raise"] += 1
            raise client_error("ServiceUnavailable", "injected by the local cloud", operation_name, 503)
        if operation == "dynamodb.TransactWriteItems" and self.fires("transaction-conflict", operation):
            self.injected["transaction-conflict"] += 1
            raise self.transaction_conflict(operation_name, api_params)
        if operation == "events.PutEvents" and "put-events-partial" in self.rules:
            return self.put_events_partially(original, client, operation_name, api_params)
        return original(client, operation_name, api_params)

    def transaction_conflict(self, operation_name: str, api_params: dict[str, Any]) -> Exception:
        """DynamoDB's answer when another transaction holds one of the items: nothing is written."""
        items = api_params.get("TransactItems", [])
        conflicting = self.random.randrange(len(items)) if items else 0
        reasons = [
            {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
            if index == conflicting
            else {"Code": "None"}
            for index in range(len(items))
        ]
        codes = ", ".join(reason["Code"] for reason in reasons)
        message = f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]"
        return client_error("TransactionCanceledException", message, operation_name, 400, CancellationReasons=reasons)

    def put_events_partially(
        self, original: ApiCall, client: Any, operation_name: str, api_params: dict[str, Any]
    ) -> Any:
        """Fail some entries as EventBridge does: positional results, ErrorCode on the failed ones."""
        entries = list(api_params.get("Entries", []))
        failing = [self.fires("put-events-partial", "events.PutEvents") for _ in entries]
        # Count per entry, so a budget ("limit") bounds the number of failed entries.
        self.injected["put-events-partial"] += sum(failing)
        if not any(failing):
            return original(client, operation_name, api_params)
        passing = [entry for entry, fails in zip(entries, failing, strict=True) if not fails]
        response: dict[str, Any] = {"Entries": [], "FailedEntryCount": 0}
        if passing:
            response = original(client, operation_name, {**api_params, "Entries": passing})
        real_results = iter(response.get("Entries", []))
        failure = {"ErrorCode": "InternalFailure", "ErrorMessage": "injected by the local cloud"}
        merged = [dict(failure) if fails else next(real_results) for fails in failing]
        return {**response, "Entries": merged, "FailedEntryCount": sum(1 for result in merged if "ErrorCode" in result)}


def install(injector: FaultInjector) -> None:
    """Route every botocore API call in this process through the injector."""
    from botocore.client import BaseClient

    original: ApiCall = getattr(BaseClient, "_make_api_call")  # noqa: B009  # a private method, typed by no stub

    def _make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        return injector.call(original, client, operation_name, api_params)

    setattr(BaseClient, "_make_api_call", _make_api_call)  # noqa: B010


def main() -> None:
    handler_string = sys.argv[1]
    # The worker's own folder must not shadow the function's modules.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [path for path in sys.path if os.path.abspath(path or ".") != here]
    protocol_out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # the handler's prints and logs go to the log file
    protocol_in = sys.stdin

    injector = FaultInjector()
    install(injector)
    module_name, function_name = handler_string.rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), function_name)
    protocol_out.write(json.dumps({"ready": True}) + "\n")

    name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", module_name)
    memory = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
    # The context reports the function's Timeout scaled like every other local wait (see functions.py).
    context_timeout = float(
        os.environ.get("LOCALCLOUD_CONTEXT_TIMEOUT", os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))
    )
    for line in protocol_in:
        request = json.loads(line)
        injector.begin(request.get("faults"))
        context = InvocationContext(name, memory, context_timeout, request.get("request_id") or str(uuid.uuid4()))
        response: dict[str, Any]
        try:
            result = handler(request["event"], context)
            response = {"ok": True, "result": result}
        except Exception as error:  # the runtime reports any handler error, as Lambda does
            traceback.print_exc()
            response = {"ok": False, "error": {"errorType": type(error).__name__, "errorMessage": str(error)}}
        response["faults"] = dict(injector.injected)
        sys.stdout.flush()
        sys.stderr.flush()
        protocol_out.write(json.dumps(response, default=str) + "\n")


if __name__ == "__main__":
    main()
