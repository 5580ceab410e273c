"""Event source mappings with Lambda's semantics, polling moto's SQS queues and Kinesis streams.

The base poller is in mapping_base.py, the SQS mapping in sqs_mapping.py and the Kinesis
mapping in kinesis_mapping.py; this module builds one from a template's MappingSpec.
"""

from __future__ import annotations

import json
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
        queue_url = ref(spec.source_id)
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["VisibilityTimeout", "RedrivePolicy"]
        )["Attributes"]
        redrive = json.loads(attributes["RedrivePolicy"]) if "RedrivePolicy" in attributes else None
        max_receive_count = int(redrive["maxReceiveCount"]) if redrive else None
        visibility = int(attributes["VisibilityTimeout"])
        return SqsMapping(spec, function, sqs, queue_url, visibility, time_scale, faults, max_receive_count)
    on_failure = on_failure_to_sqs(sqs, ref(spec.on_failure_id)) if spec.on_failure_id else None
    return KinesisMapping(spec, function, client("kinesis"), ref(spec.source_id), on_failure, time_scale)
