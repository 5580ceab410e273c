"""Rule targets moto's EventBridge cannot deliver to (Kinesis, Step Functions), bridged as EventBridge delivers.

moto delivers such a target's events to a bridge queue (provision_runtime.py); a bridge
thread per target receives them and forwards each as the rule's target says
(`KinesisParameters.PartitionKeyPath` included), or puts it on the target's DLQ.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from tools.localcloud.intrinsics import UnresolvedError
from tools.localcloud.mapping_base import LONG_POLL_SECONDS
from tools.localcloud.provision_runtime import BridgeSpec


def json_path(document: Any, path: str) -> Any:
    """Evaluate a simple `$.a.b.c` JSONPath, as EventBridge's PartitionKeyPath uses."""
    if not path.startswith("$"):
        raise ValueError(f"not a JSONPath: {path}")
    value = document
    for part in [segment for segment in path[1:].split(".") if segment]:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


@dataclass
class Bridge:
    """One bridged rule target: where moto puts its events, and what the bridge did with them."""

    spec: BridgeSpec
    client: Any = field(repr=False)  # the local cloud's client(service)
    forwarded: int = 0
    dead_lettered: int = 0
    busy: bool = False

    @property
    def rule_id(self) -> str:
        return self.spec.rule_id

    @property
    def target(self) -> dict[str, Any]:
        return self.spec.target

    @property
    def queue_url(self) -> str:
        return self.spec.queue_url

    def run(self, stop: threading.Event) -> None:
        sqs = self.client("sqs")
        while not stop.is_set():
            try:
                messages = sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=LONG_POLL_SECONDS
                ).get("Messages", [])
            except Exception:
                stop.wait(0.5)
                continue
            if not messages:
                stop.wait(0.1)
                continue
            self.busy = True
            try:
                for message in messages:
                    self.forward(json.loads(message["Body"]))
                    sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            finally:
                self.busy = False

    def deliver(self, event: dict[str, Any]) -> None:
        """Deliver an event to the target as the rule says."""
        target = self.target
        service = target["Arn"].split(":")[2]
        if service == "kinesis":
            partition_path = target.get("KinesisParameters", {}).get("PartitionKeyPath")
            partition_key = json_path(event, partition_path) if partition_path else event["id"]
            if not isinstance(partition_key, str) or not partition_key:
                raise ValueError(f"partition key path {partition_path} did not select a string")
            self.client("kinesis").put_record(
                StreamName=target["Arn"].rsplit("/", 1)[1], Data=json.dumps(event).encode(), PartitionKey=partition_key
            )
        elif service == "states":
            self.client("stepfunctions").start_execution(stateMachineArn=target["Arn"], input=json.dumps(event))
        else:
            raise UnresolvedError(f"rule target service {service} is not supported locally")

    def forward(self, event: dict[str, Any]) -> None:
        """Deliver the event; if that fails, put it on the target's DLQ with the reason attached."""
        try:
            self.deliver(event)
            self.forwarded += 1
        except Exception as error:
            dead_letter = self.target.get("DeadLetterConfig", {}).get("Arn")
            if not dead_letter:
                raise
            sqs = self.client("sqs")
            queue_url = sqs.get_queue_url(QueueName=dead_letter.rsplit(":", 1)[1])["QueueUrl"]
            sqs.send_message(
                QueueUrl=queue_url,
                MessageBody=json.dumps(event),
                MessageAttributes={
                    "RULE_ARN": {"DataType": "String", "StringValue": self.spec.rule_arn},
                    "ERROR_MESSAGE": {"DataType": "String", "StringValue": str(error)[:256]},
                },
            )
            self.dead_lettered += 1
