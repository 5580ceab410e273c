"""A function's runtime process: imports the real handler once, then serves invocations.

Run as a script by the local cloud, like a Lambda execution environment: the
function's code and layers on sys.path, the template's environment, one
invocation at a time. Requests and responses are JSON lines on the pipes that
were stdin/stdout; everything the handler prints goes to stderr (the log file).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
import uuid
from typing import Any


class InvocationContext:
    """The Lambda context object handlers receive."""

    def __init__(self, function_name: str, memory_mb: int, timeout_seconds: float, request_id: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "localcloud"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main() -> None:
    handler_string = sys.argv[1]
    # The worker's own folder must not shadow the function's modules.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [path for path in sys.path if os.path.abspath(path or ".") != here]
    protocol_out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # the handler's prints and logs go to the log file
    protocol_in = sys.stdin

    module_name, function_name = handler_string.rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), function_name)
    protocol_out.write(json.dumps({"ready": True}) + "\n")

    name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", module_name)
    memory = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
    timeout = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))
    for line in protocol_in:
        request = json.loads(line)
        context = InvocationContext(name, memory, timeout, request.get("request_id") or str(uuid.uuid4()))
        response: dict[str, Any]
        try:
            result = handler(request["event"], context)
            response = {"ok": True, "result": result}
        except Exception as error:  # the runtime reports any handler error, as Lambda does
            traceback.print_exc()
            response = {"ok": False, "error": {"errorType": type(error).__name__, "errorMessage": str(error)}}
        sys.stdout.flush()
        sys.stderr.flush()
        protocol_out.write(json.dumps(response, default=str) + "\n")


if __name__ == "__main__":
    main()
