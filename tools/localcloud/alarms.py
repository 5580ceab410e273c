"""Evaluate the template's CloudWatch alarms against what the local cloud can observe."""

from __future__ import annotations

import operator
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tools.localcloud.cloud import LocalCloud
from tools.localcloud.mappings import KinesisMapping

_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}


@dataclass(frozen=True)
class AlarmEvaluation:
    logical_id: str
    name: str
    state: str  # OK | ALARM | INSUFFICIENT_DATA
    value: float | None
    reason: str


def _dimension(props: dict[str, Any], name: str) -> str | None:
    for dimension in props.get("Dimensions", []):
        if dimension["Name"] == name:
            return str(dimension["Value"])
    return None


def _queue_metric(cloud: LocalCloud, queue_name: str, metric: str) -> float | None:
    sqs = cloud.client("sqs")
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    visible = int(attributes.get("ApproximateNumberOfMessages", 0))
    if metric == "ApproximateNumberOfMessagesVisible":
        return float(visible)
    if metric == "ApproximateNumberOfMessagesNotVisible":
        return float(attributes.get("ApproximateNumberOfMessagesNotVisible", 0))
    if metric == "ApproximateAgeOfOldestMessage" and visible == 0:
        return 0.0  # moto does not report message age; an empty queue has none
    return None


def _states_metric(cloud: LocalCloud, state_machine_arn: str, metric: str) -> float | None:
    status = {"ExecutionsFailed": "FAILED", "ExecutionsTimedOut": "TIMED_OUT", "ExecutionsAborted": "ABORTED"}.get(
        metric
    )
    if status is None:
        return None
    executions = cloud.client("stepfunctions").list_executions(stateMachineArn=state_machine_arn, statusFilter=status)
    return float(len(executions["executions"]))


def _lambda_metric(cloud: LocalCloud, function_name: str, metric: str) -> float | None:
    runtimes = [runtime for runtime in cloud.functions.values() if runtime.spec.name == function_name]
    if not runtimes:
        return None
    runtime = runtimes[0]
    if metric == "Errors":
        return float(runtime.errors)
    if metric == "Invocations":
        return float(runtime.invocations)
    if metric == "IteratorAge":
        for mapping in cloud.mappings.values():
            if isinstance(mapping, KinesisMapping) and mapping.function is runtime:
                if mapping.caught_up or mapping.last_arrival is None:
                    return 0.0
                return (time.time() - mapping.last_arrival.timestamp()) * 1000
    return None


def observe(cloud: LocalCloud, props: dict[str, Any]) -> float | None:
    """The alarm metric's current value, or None when the local cloud cannot see it."""
    namespace, metric = props.get("Namespace"), props.get("MetricName", "")
    if namespace == "AWS/SQS" and (queue := _dimension(props, "QueueName")):
        return _queue_metric(cloud, queue, metric)
    if namespace == "AWS/States" and (arn := _dimension(props, "StateMachineArn")):
        return _states_metric(cloud, arn, metric)
    if namespace == "AWS/Lambda" and (function := _dimension(props, "FunctionName")):
        return _lambda_metric(cloud, function, metric)
    return None


def evaluate_alarms(cloud: LocalCloud, publish: bool = True) -> list[AlarmEvaluation]:
    """Each template alarm's state now; with `publish`, moto's CloudWatch gets the same state."""
    evaluations = []
    cloudwatch = cloud.client("cloudwatch")
    for logical_id, resource in cloud.template.of_type("AWS::CloudWatch::Alarm").items():
        if logical_id not in cloud.physical:
            continue
        props = cloud.resolver.resolve(resource["Properties"])
        name = cloud.ref(logical_id)
        value = observe(cloud, props)
        compare = _COMPARISONS.get(props.get("ComparisonOperator", ""))
        if value is None or compare is None:
            state, reason = "INSUFFICIENT_DATA", "metric not observable in the local cloud"
        elif compare(value, float(props["Threshold"])):
            state, reason = (
                "ALARM",
                f"{props['MetricName']} = {value:g} ({props['ComparisonOperator']} {props['Threshold']})",
            )
        else:
            state, reason = "OK", f"{props['MetricName']} = {value:g}"
        evaluations.append(AlarmEvaluation(logical_id, name, state, value, reason))
        if publish:
            cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)
    return evaluations
