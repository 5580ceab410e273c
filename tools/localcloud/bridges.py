"""Rule targets moto's EventBridge cannot deliver to (Kinesis, Step Functions), bridged as EventBridge delivers.

moto delivers such a target's events to a bridge queue (provision_runtime.py); a bridge
thread per target receives them and delivers each as the rule's target says
(`KinesisParameters.PartitionKeyPath` included). A failed delivery is handled as EventBridge
handles it: a retryable error (throttling, a 5xx, a lost connection) is retried with
exponential backoff and jitter until the target's RetryPolicy runs out
(MaximumRetryAttempts, default 185; MaximumEventAgeInSeconds, default 86,400, on the local
cloud's clock); any other error is not retried. The event then goes to the target's DLQ
with EventBridge's message attributes or, without one, is dropped and logged. The bridge
queue is the retry schedule: a failed event waits on it, invisible, for its backoff, and its
receive count is its attempt number.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from tools.localcloud.bridge_targets import TargetInputError, deliver
from tools.localcloud.mapping_base import LONG_POLL_SECONDS
from tools.localcloud.provision_runtime import BridgeSpec

logger = logging.getLogger(__name__)

DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 185
DEFAULT_MAXIMUM_EVENT_AGE = 86_400  # seconds
BACKOFF_FIRST, BACKOFF_CAP = 1.0, 480.0  # seconds on AWS's clock: about 185 attempts in 24 hours
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "KMSThrottlingException",
    }
)


@dataclass(frozen=True)
class RetryPolicy:
    maximum_retry_attempts: int = DEFAULT_MAXIMUM_RETRY_ATTEMPTS
    maximum_event_age: int = DEFAULT_MAXIMUM_EVENT_AGE

    @classmethod
    def of(cls, target: dict[str, Any]) -> RetryPolicy:
        policy = target.get("RetryPolicy", {})
        return cls(
            int(policy.get("MaximumRetryAttempts", DEFAULT_MAXIMUM_RETRY_ATTEMPTS)),
            int(policy.get("MaximumEventAgeInSeconds", DEFAULT_MAXIMUM_EVENT_AGE)),
        )


def backoff(retries: int, rng: random.Random) -> float:
    """Seconds (on AWS's clock) before the next attempt: exponential, capped, with jitter."""
    ceiling = min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** min(retries, 16))
    return rng.uniform(ceiling / 2, ceiling)


def classify(error: Exception) -> tuple[str, bool]:
    """EventBridge's ERROR_CODE for a failed delivery, and whether it retries it."""
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400))
        if code in THROTTLING_CODES or status == 429:
            return "THROTTLING", True
        if status >= 500:
            return "INTERNAL_ERROR", True
        if code.endswith(("NotFound", "NotFoundException", "DoesNotExist")):
            return "NO_RESOURCE", False
        if code in ("AccessDenied", "AccessDeniedException"):
            return "NO_PERMISSIONS", False
        return "SDK_CLIENT_ERROR", False
    if isinstance(error, ConnectionError | HTTPClientError):
        return "CONNECTION_FAILURE", True
    if isinstance(error, TargetInputError):
        return "INVALID_PARAMETER", False
    return "INTERNAL_ERROR", False


def _attribute(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


@dataclass
class Bridge:
    """One bridged rule target: where moto puts its events, and what the bridge did with them."""

    spec: BridgeSpec
    client: Any = field(repr=False)  # the local cloud's client(service)
    time_scale: float = 1.0
    rng: random.Random = field(default_factory=random.Random, repr=False)
    forwarded: int = 0
    retried: int = 0
    dead_lettered: int = 0
    dropped: int = 0
    busy: bool = False
    rule_id: str = field(init=False)
    target: dict[str, Any] = field(init=False)
    queue_url: str = field(init=False)
    retry_policy: RetryPolicy = field(init=False)

    def __post_init__(self) -> None:
        self.rule_id, self.target, self.queue_url = self.spec.rule_id, self.spec.target, self.spec.queue_url
        self.retry_policy = RetryPolicy.of(self.target)

    def run(self, stop: threading.Event) -> None:
        """Deliver until stopped; a failure of the bridge itself is logged and polling goes on."""
        while not stop.is_set():
            try:
                if not self.poll_once():
                    stop.wait(0.1)
            except Exception:
                logger.exception("bridge %s/%s", self.rule_id, self.target.get("Id"))
                stop.wait(0.5)

    def poll_once(self, wait_seconds: int = LONG_POLL_SECONDS) -> bool:
        messages = (
            self.client("sqs")
            .receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=wait_seconds,
                AttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            )
            .get("Messages", [])
        )
        if not messages:
            return False
        self.busy = True
        try:
            done = [message for message in messages if self.handle(message)]
            if done:  # one request for the batch: the bridge queue is the local cloud's, not the product's
                self.client("sqs").delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
                )
        finally:
            self.busy = False
        return True

    def handle(self, message: dict[str, Any]) -> bool:
        """One attempt to deliver one event; True when the message is to leave the bridge queue (delivered,
        dead-lettered or dropped), False when it waits there for its retry."""
        sqs = self.client("sqs")
        retries = int(message["Attributes"]["ApproximateReceiveCount"]) - 1
        try:
            deliver(self.target, message["Body"], self.client)
            self.forwarded += 1
        except Exception as error:
            code, retryable = classify(error)
            if retryable:
                policy = self.retry_policy
                delay = backoff(retries, self.rng) * self.time_scale
                age = time.time() - int(message["Attributes"]["SentTimestamp"]) / 1000
                if retries >= policy.maximum_retry_attempts:
                    self._give_up(message["Body"], error, code, retries, "MaximumRetryAttempts")
                elif age + delay > policy.maximum_event_age * self.time_scale:
                    self._give_up(message["Body"], error, code, retries, "MaximumEventAgeInSeconds")
                else:
                    sqs.change_message_visibility(
                        QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=round(delay)
                    )
                    self.retried += 1
                    return False
            else:
                self._give_up(message["Body"], error, code, retries, None)
        return True

    def _give_up(self, body: str, error: Exception, code: str, retries: int, exhausted: str | None) -> None:
        """To the target's DLQ with EventBridge's attributes; without a DLQ the event is dropped (and logged)."""
        dead_letter = self.target.get("DeadLetterConfig", {}).get("Arn")
        if not dead_letter:
            self.dropped += 1
            logger.warning(
                "rule %s dropped an event for target %s after %d retries (%s: %s); the target has no DLQ",
                self.rule_id, self.target["Arn"], retries, code, error,
            )  # fmt: skip
            return
        attributes = {
            "RULE_ARN": _attribute(self.spec.rule_arn),
            "TARGET_ARN": _attribute(self.target["Arn"]),
            "ERROR_CODE": _attribute(code),
            "ERROR_MESSAGE": _attribute(str(error)[:256] or type(error).__name__),
            "RETRY_ATTEMPTS": {"DataType": "Number", "StringValue": str(retries)},
        }
        if exhausted:
            attributes["EXHAUSTED_RETRY_CONDITION"] = _attribute(exhausted)
        sqs = self.client("sqs")
        queue_url = sqs.get_queue_url(QueueName=dead_letter.rsplit(":", 1)[1])["QueueUrl"]
        sqs.send_message(QueueUrl=queue_url, MessageBody=body, MessageAttributes=attributes)
        self.dead_lettered += 1
