"""Answer the saga: SendTaskSuccess / SendTaskFailure for a command's task token."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from pydantic import BaseModel

from orderflow import aws

logger = Logger(child=True)

# The token is dead (timed out, already answered, execution gone): retrying can never succeed.
_DEAD_TOKEN_ERRORS = ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist")


def _unless_dead(call: Callable[[], object], task_token: str) -> bool:
    """Make a call on a task token; False (logged, not retried) when the token is dead."""
    try:
        call()
    except ClientError as error:
        if not aws.is_error(error, *_DEAD_TOKEN_ERRORS):
            raise
        logger.warning(
            "Saga callback dropped: task token no longer valid",
            extra={"error_code": aws.error_code(error), "task_token": task_token[:24]},
        )
        return False
    return True


def saga_waits_for(task_token: str) -> bool:
    """True while the saga still waits on this token (SendTaskHeartbeat); False once it is dead."""
    return _unless_dead(lambda: _stepfunctions().send_task_heartbeat(taskToken=task_token), task_token)


def send_task_success(task_token: str, output: BaseModel | dict[str, Any]) -> bool:
    """Report success; False when the token had already expired (logged, not retried)."""
    body = output.model_dump_json() if isinstance(output, BaseModel) else json.dumps(output)
    return _unless_dead(lambda: _stepfunctions().send_task_success(taskToken=task_token, output=body), task_token)


def send_task_failure(task_token: str, error: str, cause: str) -> bool:
    """Report a named business failure; False when the token had already expired."""
    return _unless_dead(
        lambda: _stepfunctions().send_task_failure(taskToken=task_token, error=error, cause=cause[:32768]), task_token
    )


def _stepfunctions() -> Any:
    return aws.client("stepfunctions")
