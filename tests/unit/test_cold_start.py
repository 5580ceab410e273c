"""What a function's init imports (the handler module's import, as Lambda's init runs it).

Tracing off: no X-Ray SDK. Never: boto3, which the first invocation imports with its first client.
Each check runs in a fresh interpreter with the function's environment from template.yaml.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tools.bench.imports import template_functions
from tools.lambda_code import FUNCTIONS, SHARED_LAYER

TEMPLATE_FUNCTIONS = template_functions()


def loaded_after_import(logical_id: str, **environment: str) -> dict[str, bool | str]:
    """Which of the heavy packages importing the function's handler module loaded, and the tracer's type."""
    module, template_environment = TEMPLATE_FUNCTIONS[logical_id]
    script = (
        f"import sys, json, {module}\n"
        "from orderflow.observability import tracer\n"
        "print(json.dumps({'aws_xray_sdk': 'aws_xray_sdk' in sys.modules, 'boto3': 'boto3' in sys.modules,"
        " 'tracer': type(tracer).__name__}))"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONPATH": os.pathsep.join([str(FUNCTIONS), str(SHARED_LAYER)]),
        **template_environment,
        **environment,
    }
    finished = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=FUNCTIONS, capture_output=True, text=True, check=False
    )
    assert finished.returncode == 0, finished.stderr
    loaded: dict[str, bool | str] = json.loads(finished.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("logical_id", sorted(TEMPLATE_FUNCTIONS))
def test_with_tracing_off_the_init_imports_neither_the_xray_sdk_nor_boto3(logical_id: str) -> None:
    loaded = loaded_after_import(logical_id, POWERTOOLS_TRACE_DISABLED="true")

    assert loaded == {"aws_xray_sdk": False, "boto3": False, "tracer": "Untraced"}


def test_with_tracing_on_the_function_traces_with_powertools_tracer() -> None:
    # In Lambda (LAMBDA_TASK_ROOT set) with tracing not disabled, as the template's Tracing: Active runs it.
    loaded = loaded_after_import("PaymentFunction", LAMBDA_TASK_ROOT=str(FUNCTIONS))

    assert loaded["tracer"] == "Tracer"
    assert loaded["aws_xray_sdk"]
