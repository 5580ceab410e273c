"""What the `orderflow` console needs from a running local cloud: where it is, and the metrics it reads.

`write_console_target` writes .localcloud/console.json: the AWS endpoint, region, the physical id of every
resource (as CloudFormation's ListStackResources gives them for a deployed stack), the event source
mappings and the folder of the functions' logs. `serve` writes it; `orderflow --local` reads it.

`MetricPublisher` puts each alarm evaluation's datapoint into moto's CloudWatch as the AWS service would
(AWS/SQS ApproximateAgeOfOldestMessage, AWS/Lambda IteratorAge, ...), so the console reads a queue's age
and the audit stream's iterator age with GetMetricStatistics on both targets. Values are on the local
cloud's clock, like the alarms' (alarm_metrics.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.console.target import TARGET_FILE, write_local
from tools.localcloud.mappings import KinesisMapping, SqsMapping

if TYPE_CHECKING:
    from tools.localcloud.cloud import LocalCloud

PUBLISH_INTERVAL = 0.5


def console_document(cloud: LocalCloud) -> dict[str, Any]:
    resources = [
        {"LogicalResourceId": logical_id, "PhysicalResourceId": str(physical.ref), "ResourceType": resource["Type"]}
        for logical_id, resource in cloud.template.resources.items()
        if (physical := cloud.physical.get(logical_id)) is not None and physical.ref is not None
    ]
    mappings = []
    for mapping in cloud.mappings.values():
        source = mapping.queue_arn if isinstance(mapping, SqsMapping) else None
        if isinstance(mapping, KinesisMapping):
            source = mapping.stream_arn
        if source:
            spec = mapping.function.spec
            mappings.append({"FunctionName": spec.name, "FunctionLogicalId": spec.logical_id, "EventSourceArn": source})
    return {
        "stack_name": cloud.stack_name,
        "endpoint": cloud.endpoint,
        "region": cloud.client("sqs").meta.region_name,
        "api_url": cloud.api_url if cloud.http_api is not None else None,
        "time_scale": cloud.time_scale,
        "log_dir": str((cloud.work_dir / "logs").resolve()),
        "resources": sorted(resources, key=lambda item: item["LogicalResourceId"]),
        "event_source_mappings": sorted(mappings, key=lambda item: item["FunctionLogicalId"]),
    }


def write_console_target(cloud: LocalCloud, directory: Path | None = None) -> Path:
    """Write console.json into the local cloud's work directory (or `directory`)."""
    return write_local((directory or cloud.work_dir) / TARGET_FILE, console_document(cloud))


class MetricPublisher:
    """Publishes each alarm evaluation's datapoint to moto's CloudWatch, in one thread."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self._published: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="metric-publisher", daemon=True)

    def start(self) -> MetricPublisher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(PUBLISH_INTERVAL):
            with suppress(Exception):  # moto going away at shutdown
                self.publish_once()

    def publish_once(self) -> int:
        evaluator = self.cloud.alarm_evaluator
        if evaluator is None:
            return 0
        cloudwatch = self.cloud.client("cloudwatch")
        published = 0
        now_wall, now_monotonic = datetime.now(UTC), time.monotonic()
        for logical_id, alarm in evaluator.alarms.items():
            props = alarm.spec.props
            last = self._published.get(logical_id, float("-inf"))
            fresh = [sample for sample in evaluator.samples(logical_id) if sample.at > last]
            data = [
                {
                    "MetricName": props["MetricName"],
                    "Dimensions": [{"Name": d["Name"], "Value": str(d["Value"])} for d in props.get("Dimensions", [])],
                    "Value": float(sample.value),
                    "Timestamp": now_wall - timedelta(seconds=now_monotonic - sample.at),
                }
                for sample in fresh
                if sample.value is not None
            ]
            if fresh:
                self._published[logical_id] = fresh[-1].at
            for start in range(0, len(data), 20):
                cloudwatch.put_metric_data(Namespace=props["Namespace"], MetricData=data[start : start + 20])
                published += len(data[start : start + 20])
        return published


@contextmanager
def console_attached(cloud: LocalCloud, directory: Path | None = None) -> Iterator[Path]:
    """The console can find this local cloud and read its metrics for the duration of the block."""
    path = write_console_target(cloud, directory)
    publisher = MetricPublisher(cloud).start()
    try:
        yield path
    finally:
        publisher.stop()
        path.unlink(missing_ok=True)  # the cloud is going away: the console must not find it
