"""Start the order saga: one execution per order, named after it."""

from __future__ import annotations

from orderflow import aws
from orderflow.saga import SagaInput


def start_saga(state_machine_arn: str, saga_input: SagaInput) -> bool:
    """Start the order's execution; False when it already exists (a duplicate OrderPlaced), which is done too."""
    return aws.succeeded(
        lambda: aws.client("stepfunctions").start_execution(
            stateMachineArn=state_machine_arn, name=saga_input.order_id, input=saga_input.model_dump_json()
        ),
        "ExecutionAlreadyExists",
    )
