"""Event source mappings with Lambda's semantics, polling moto's SQS queues and Kinesis streams.

The base poller is in mapping_base.py, the SQS mapping in sqs_mapping.py and the Kinesis
mapping in kinesis_mapping.py; this module builds one from a template's MappingSpec.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tools.localcloud.faults import Faults
from tools.localcloud.functions import FunctionRuntime
from tools.localcloud.kinesis_mapping import KinesisMapping, on_failure_to_sqs
from tools.localcloud.mapping_base import LONG_POLL_SECONDS, EventSourceMapping, MappingStats
from tools.localcloud.provision_runtime import MappingSpec
from tools.localcloud.sqs_mapping import SqsMapping

__all__ = [
    "LONG_POLL_SECONDS",
    "EventSourceMapping",
    "KinesisMapping",
    "MappingStats",
    "SqsMapping",
    "mapping_from_spec",
    "on_failure_to_sqs",
]


def mapping_from_spec(
    spec: MappingSpec,
    function: FunctionRuntime,
    client: Callable[[str], Any],
    ref: Callable[[str], Any],
    faults: Faults | None,
    time_scale: float,
) -> EventSourceMapping:
    """The poller for a mapping: `client` gives boto3 clients, `ref` a resource's Ref value."""
    sqs = client("sqs")
    if spec.source_type == "AWS::SQS::Queue":
        visibility = sqs.get_queue_attributes(QueueUrl=ref(spec.source_id), AttributeNames=["VisibilityTimeout"])
        return SqsMapping(
            spec.logical_id,
            function,
            sqs,
            queue_url=ref(spec.source_id),
            queue_arn=spec.source_arn,
            batch_size=spec.batch_size,
            report_batch_item_failures=spec.report_batch_item_failures,
            visibility_timeout=int(visibility["Attributes"]["VisibilityTimeout"]),
            time_scale=time_scale,
            faults=faults,
            batching_window=spec.batching_window,
            filters=spec.filters,
        )
    return KinesisMapping(
        spec.logical_id,
        function,
        client("kinesis"),
        stream_name=ref(spec.source_id),
        stream_arn=spec.source_arn,
        batch_size=spec.batch_size,
        starting_position=spec.starting_position,
        bisect_on_error=spec.bisect_on_error,
        maximum_retry_attempts=spec.maximum_retry_attempts,
        report_batch_item_failures=spec.report_batch_item_failures,
        on_failure=on_failure_to_sqs(sqs, ref(spec.on_failure_id)) if spec.on_failure_id else None,
        maximum_record_age=spec.maximum_record_age,
        retention_hours=spec.retention_hours,
        time_scale=time_scale,
        filters=spec.filters,
        batching_window=spec.batching_window,
    )
