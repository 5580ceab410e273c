"""An HTTP API probe: each path answers in one of the shapes payload format 2.0 allows."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

BINARY = bytes(range(256))


def respond(event: dict[str, Any], context: Any) -> Any:
    path = event["rawPath"]
    if path == "/echo":  # the event itself, so a test can see what API Gateway passed
        return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}
    if path == "/string":
        return "plain text, not JSON"
    if path == "/dict":
        return {"hello": "world"}
    if path == "/cookies":
        return {"statusCode": 200, "cookies": ["session=abc; Path=/; HttpOnly", "theme=dark"], "body": "ok"}
    if path == "/binary":
        body = base64.b64encode(BINARY).decode()
        return {"statusCode": 200, "headers": {"content-type": "image/png"}, "body": body, "isBase64Encoded": True}
    if path == "/slow":
        time.sleep(float((event.get("queryStringParameters") or {}).get("seconds", "1")))
        return {"statusCode": 200, "body": "slept"}
    return {"statusCode": 418, "body": "unexpected path"}
