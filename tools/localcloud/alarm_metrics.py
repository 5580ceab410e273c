"""The metrics alarms watch, read from what the local cloud can observe, one period at a time.

Each read returns the samples CloudWatch would have for the period just ended (the
alarm's Statistic turns them into its datapoint), an empty list when the service
would have published nothing, or None when the local cloud cannot see the metric.

- AWS/SQS ApproximateNumberOfMessagesVisible / NotVisible / Delayed: the queue's
  attributes, one sample per period (SQS publishes them once a minute);
  ApproximateAgeOfOldestMessage: see queue_age.py.
- AWS/States ExecutionsFailed / TimedOut / Aborted / Succeeded: one sample of 1 for each
  execution first seen in that status during the period, none otherwise (Step Functions
  publishes the metric only when an execution ends), so an alarm on it clears once a
  period passes without one.
- AWS/Lambda Invocations, Errors: one sample per invocation in the period (Errors 1 or 0);
  IteratorAge: the Kinesis mapping's lag behind the last record it processed, 0 when caught up.

Durations are reported on the local cloud's clock, like its visibility timeouts: a real
second is 1 / time_scale seconds (50 at the default 0.02), so an age threshold of 900 s is
crossed after 18 real seconds, in proportion to the scaled alarm periods.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from tools.localcloud.alarm_rules import AlarmSpec
from tools.localcloud.mappings import KinesisMapping
from tools.localcloud.queue_age import QueueAges

if TYPE_CHECKING:
    from tools.localcloud.cloud import LocalCloud

QUEUE_ATTRIBUTES = {
    "ApproximateNumberOfMessagesVisible": "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible": "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed": "ApproximateNumberOfMessagesDelayed",
}
EXECUTION_STATUSES = {
    "ExecutionsFailed": "FAILED",
    "ExecutionsTimedOut": "TIMED_OUT",
    "ExecutionsAborted": "ABORTED",
    "ExecutionsSucceeded": "SUCCEEDED",
}


class MetricReader:
    """Reads each alarm's metric for the period just ended; keeps what counting needs between periods."""

    def __init__(self, cloud: LocalCloud, specs: list[AlarmSpec]) -> None:
        self.cloud = cloud
        self.sqs = cloud.client("sqs")
        self.ages = QueueAges(self.sqs)
        self._queue_urls = {
            str(physical.attributes["QueueName"]): str(physical.ref)
            for physical in cloud.physical.values()
            if "QueueName" in physical.attributes
        }
        self._attributes: dict[str, dict[str, str]] = {}  # per round: one read per queue
        self._ended: dict[tuple[str, str], set[str]] = {}  # executions already counted
        self._lambda: dict[tuple[str, str], tuple[int, int]] = {}  # (invocations, errors) at the last read
        for spec in specs:
            self._prepare(spec)

    def _prepare(self, spec: AlarmSpec) -> None:
        """Baselines, so the first period counts only what happened after the alarm was created."""
        namespace = spec.props.get("Namespace")
        queue = spec.dimension("QueueName")
        if namespace == "AWS/SQS" and queue and spec.metric == "ApproximateAgeOfOldestMessage":
            url = self._queue_url(queue)
            policy = self._queue(url).get("RedrivePolicy")
            self.ages.track(url, int(json.loads(policy)["maxReceiveCount"]) if policy else None)
        arn = spec.dimension("StateMachineArn")
        if namespace == "AWS/States" and arn and spec.metric in EXECUTION_STATUSES:
            self._new_executions(arn, EXECUTION_STATUSES[spec.metric])
        function = spec.dimension("FunctionName")
        if namespace == "AWS/Lambda" and function and spec.metric in ("Invocations", "Errors"):
            self._lambda_samples(function, spec.metric)

    def begin_round(self) -> None:
        self._attributes.clear()

    def close(self) -> None:
        self.ages.close()

    def samples(self, spec: AlarmSpec) -> list[float] | None:
        namespace = spec.props.get("Namespace")
        if namespace == "AWS/SQS" and (queue := spec.dimension("QueueName")):
            return self._sqs_samples(queue, spec.metric)
        if namespace == "AWS/States" and (arn := spec.dimension("StateMachineArn")):
            status = EXECUTION_STATUSES.get(spec.metric)
            return None if status is None else [1.0] * self._new_executions(arn, status)
        if namespace == "AWS/Lambda" and (function := spec.dimension("FunctionName")):
            return self._lambda_samples(function, spec.metric)
        return None

    # ------------------------------------------------------------------ SQS --
    def _queue_url(self, name: str) -> str:
        if name not in self._queue_urls:
            self._queue_urls[name] = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        return self._queue_urls[name]

    def _queue(self, url: str) -> dict[str, str]:
        if url not in self._attributes:
            # Only the counts: "All" makes moto render policies and ARNs on every sample.
            names = [*QUEUE_ATTRIBUTES.values(), "RedrivePolicy"]
            response = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)
            self._attributes[url] = response["Attributes"]
        return self._attributes[url]

    def _sqs_samples(self, queue: str, metric: str) -> list[float] | None:
        url = self._queue_url(queue)
        attributes = self._queue(url)
        if metric in QUEUE_ATTRIBUTES:
            return [float(attributes.get(QUEUE_ATTRIBUTES[metric], 0))]
        if metric == "ApproximateAgeOfOldestMessage":
            depth = int(attributes.get("ApproximateNumberOfMessages", 0))
            depth += int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0))
            return [self.ages.sample(url, depth, time.time()) / self.cloud.time_scale]
        return None

    # ------------------------------------------------------- Step Functions --
    def _new_executions(self, state_machine_arn: str, status: str) -> int:
        """Executions in `status` not seen in it before (an ended execution never changes status)."""
        stepfunctions = self.cloud.client("stepfunctions")
        arns: set[str] = set()
        arguments: dict[str, Any] = {"stateMachineArn": state_machine_arn, "statusFilter": status}
        while True:
            page = stepfunctions.list_executions(**arguments)
            arns |= {execution["executionArn"] for execution in page["executions"]}
            if not page.get("nextToken"):
                break
            arguments["nextToken"] = page["nextToken"]
        seen = self._ended.setdefault((state_machine_arn, status), set())
        new = arns - seen
        seen |= new
        return len(new)

    # --------------------------------------------------------------- Lambda --
    def _lambda_samples(self, function_name: str, metric: str) -> list[float] | None:
        runtime = next((r for r in self.cloud.functions.values() if r.spec.name == function_name), None)
        if runtime is None:
            return None
        if metric == "IteratorAge":
            mapping = next(
                (m for m in self.cloud.mappings.values() if isinstance(m, KinesisMapping) and m.function is runtime),
                None,
            )
            if mapping is None or mapping.last_arrival is None:
                return [] if mapping is not None else None  # no record processed yet: no datapoint
            if mapping.caught_up:
                return [0.0]
            lag = time.time() - mapping.last_arrival.timestamp()
            return [max(0.0, lag) * 1000 / self.cloud.time_scale]
        if metric not in ("Invocations", "Errors"):
            return None
        invocations, errors = runtime.invocations, runtime.errors
        before = self._lambda.get((function_name, metric), (invocations, errors))
        self._lambda[(function_name, metric)] = (invocations, errors)
        calls, failed = invocations - before[0], min(errors - before[1], invocations - before[0])
        return [1.0] * calls if metric == "Invocations" else [1.0] * failed + [0.0] * (calls - failed)
