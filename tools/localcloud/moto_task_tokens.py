"""A task token is live, and answerable, from the moment its command is sent, as on AWS.

Applied in moto's server process by moto_server.py, and by the tests that run the saga's ASL in
process. moto's `.waitForTaskToken` task registers the token, sends the command, and only then
creates the heartbeat endpoint its wait listens on. A service fast enough to act in between (a
loaded machine is enough) met two faults Step Functions does not have:
- its SendTaskHeartbeat was refused as InvalidToken, so it dropped a live command as expired;
- its SendTaskSuccess or SendTaskFailure was stored but never woke the wait, so the step failed
  with a heartbeat timeout while the answer sat there.
This patch accepts a heartbeat sent before the wait (the token is live) and wakes the wait at once
when an answer or a heartbeat came first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def keep_early_task_token_signals() -> Callable[[], None]:
    """Patch moto's CallbackEndpoint; returns a function that undoes the patch."""
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint

    setup_heartbeat_endpoint: Callable[..., Any] = CallbackEndpoint.setup_heartbeat_endpoint
    notify_heartbeat: Callable[..., bool] = CallbackEndpoint.notify_heartbeat

    def heartbeat_before_the_wait(self: Any) -> bool:
        if self._heartbeat_endpoint is None and self.get_outcome() is None:
            self.early_heartbeat = True  # unanswered: the token is live; the wait starts awake
            return True
        return notify_heartbeat(self)

    def setup_awake_if_signalled(self: Any, heartbeat_seconds: int) -> Any:
        endpoint = setup_heartbeat_endpoint(self, heartbeat_seconds=heartbeat_seconds)
        # notify() stores the outcome before it looks for this endpoint, and the endpoint is stored
        # before this looks for the outcome: whichever runs second sees the other, so none is lost.
        if self.get_outcome() is not None or getattr(self, "early_heartbeat", False):
            endpoint.notify()
        return endpoint

    CallbackEndpoint.notify_heartbeat = heartbeat_before_the_wait  # type: ignore[method-assign]
    CallbackEndpoint.setup_heartbeat_endpoint = setup_awake_if_signalled  # type: ignore[method-assign]

    def undo() -> None:
        CallbackEndpoint.notify_heartbeat = notify_heartbeat  # type: ignore[method-assign]
        CallbackEndpoint.setup_heartbeat_endpoint = setup_heartbeat_endpoint  # type: ignore[method-assign]

    return undo
