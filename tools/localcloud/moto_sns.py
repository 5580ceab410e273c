"""SNS deliveries to SQS as SNS makes them: a failed delivery goes to the subscription's DLQ, never to the publisher.

Applied in moto's server process by moto_server.py. moto delivers to a subscribed queue inside
the Publish call, so a delivery that fails (the endpoint queue is gone: SNS's client-side
error) fails the publisher's call, and the subscription's RedrivePolicy is never used. On AWS,
Publish succeeds once the topic has the message; a delivery SNS cannot make goes to the
subscription's dead-letter queue, or is dropped without one. This patch does the same: the
failed delivery is made again to the DLQ, exactly as the subscription would have made it
(raw or in the SNS envelope, with its message attributes), or logged and dropped.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("localcloud.sns")


def dead_letter_failed_deliveries() -> Callable[[], None]:
    """Patch moto's Subscription.publish; returns a function that undoes the patch."""
    from moto.sns.models import Subscription

    original: Callable[..., None] = Subscription.publish

    def publish(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            original(self, *args, **kwargs)
        except Exception as error:
            policy = json.loads(self.attributes.get("RedrivePolicy") or "{}")
            dead_letter_arn = policy.get("deadLetterTargetArn")
            if not dead_letter_arn:
                logger.warning("SNS dropped a message for %s (%s): no RedrivePolicy", self.endpoint, error)
                return
            to_dead_letter_queue = copy.copy(self)
            to_dead_letter_queue.endpoint = dead_letter_arn
            original(to_dead_letter_queue, *args, **kwargs)

    Subscription.publish = publish  # type: ignore[method-assign]

    def undo() -> None:
        Subscription.publish = original  # type: ignore[method-assign]

    return undo
