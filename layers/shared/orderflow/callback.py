"""Answer the saga: SendTaskSuccess / SendTaskFailure for a command's task token."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from pydantic import BaseModel

from orderflow import aws

logger = Logger(child=True)

# The token is dead (timed out, already answered, execution gone): retrying can never succeed.
_DEAD_TOKEN_ERRORS = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})


def _drop_if_dead(error: ClientError, task_token: str) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    if code in _DEAD_TOKEN_ERRORS:
        logger.warning(
            "Saga callback dropped: task token no longer valid",
            extra={"error_code": code, "task_token": task_token[:24]},
        )
        return True
    return False


def saga_waits_for(task_token: str) -> bool:
    """True while the saga still waits on this token (SendTaskHeartbeat); False once it is dead."""
    try:
        aws.client("stepfunctions").send_task_heartbeat(taskToken=task_token)
    except ClientError as error:
        if _drop_if_dead(error, task_token):
            return False
        raise
    return True


def send_task_success(task_token: str, output: BaseModel | dict[str, Any]) -> bool:
    """Report success; False when the token had already expired (logged, not retried)."""
    body = output.model_dump_json() if isinstance(output, BaseModel) else json.dumps(output)
    try:
        aws.client("stepfunctions").send_task_success(taskToken=task_token, output=body)
    except ClientError as error:
        if _drop_if_dead(error, task_token):
            return False
        raise
    return True


def send_task_failure(task_token: str, error: str, cause: str) -> bool:
    """Report a named business failure; False when the token had already expired."""
    try:
        aws.client("stepfunctions").send_task_failure(taskToken=task_token, error=error, cause=cause[:32768])
    except ClientError as client_error:
        if _drop_if_dead(client_error, task_token):
            return False
        raise
    return True
