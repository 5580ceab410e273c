"""Cold start: each template function's handler import against `import boto3`, whole-process, alternating runs.

The functions and their environment come from template.yaml (Globals and each function's Variables; values
the stack would resolve become placeholders), so a new function is measured without edits. Each run is a fresh
interpreter with the function's code folder and the shared layer on its path, as Lambda's init has them.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from tools.lambda_code import FUNCTIONS, SHARED_LAYER
from tools.localcloud.template import load_template

BASELINE = "boto3"


@dataclass
class ImportFigures:
    """Wall seconds and peak resident memory (MiB) of each run."""

    seconds: list[float] = field(default_factory=list)
    peak_mib: list[float] = field(default_factory=list)

    @property
    def median_seconds(self) -> float:
        return statistics.median(self.seconds)

    @property
    def median_peak_mib(self) -> float:
        return statistics.median(self.peak_mib)


def template_functions() -> dict[str, tuple[str, dict[str, str]]]:
    """Logical id -> (handler module, environment) for every AWS::Serverless::Function in the template."""
    sam = load_template().sam
    shared = sam.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    functions: dict[str, tuple[str, dict[str, str]]] = {}
    for logical_id, resource in sam["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        variables = {**shared, **properties.get("Environment", {}).get("Variables", {})}
        defaults = {name: spec.get("Default") for name, spec in sam.get("Parameters", {}).items()}
        resolved = {str(name): _placeholder(name, value, defaults) for name, value in variables.items()}
        environment = {name: value for name, value in resolved.items() if value is not None}
        environment["AWS_LAMBDA_FUNCTION_NAME"] = logical_id
        environment["LAMBDA_TASK_ROOT"] = str(FUNCTIONS)  # how Powertools knows it runs in Lambda
        environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = str(properties.get("MemorySize", 256))
        module = str(properties["Handler"]).rsplit(".", 1)[0]
        functions[logical_id] = (module, environment)
    return functions


def _placeholder(name: str, value: Any, defaults: dict[str, Any]) -> str | None:
    """A literal stays, a parameter takes its default, a resource becomes a name-shaped placeholder; the endpoint
    override goes (it is only set for the local cloud)."""
    if name == "AWS_ENDPOINT_URL":
        return None
    if isinstance(value, str | int | float | bool):
        return str(value)
    if isinstance(value, dict) and defaults.get(value.get("Ref", "")) is not None:
        return str(defaults[value["Ref"]])
    return f"bench-{name.lower().replace('_', '-')}"


def measure_once(module: str, environment: dict[str, str]) -> tuple[float, float]:
    """One fresh interpreter importing `module`: (wall seconds, peak MiB)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "PYTHONPATH": os.pathsep.join([str(FUNCTIONS), str(SHARED_LAYER)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        **environment,
    }
    # VmHWM is the process's own high-water mark (getrusage's maxrss would include the parent's at fork).
    script = f"import {module}\nprint(open('/proc/self/status').read())"
    started = time.perf_counter()
    command = [sys.executable, "-c", script]
    finished = subprocess.run(command, env=env, cwd=FUNCTIONS, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if finished.returncode != 0:
        raise RuntimeError(f"importing {module} failed (exit {finished.returncode}):\n{finished.stderr}")
    high_water = next(line for line in finished.stdout.splitlines() if line.startswith("VmHWM:"))
    return seconds, int(high_water.split()[1]) / 1024  # kB


def measure(rounds: int = 7, tracing: bool = False) -> tuple[ImportFigures, dict[str, ImportFigures]]:
    """Alternate the baseline with every function, `rounds` times, so drift in the machine hits both alike.

    With `tracing` the functions run as the template's `Tracing: Active` has them in Lambda, which
    imports the X-Ray SDK; without it, as with POWERTOOLS_TRACE_DISABLED=true.
    """
    functions = {
        logical_id: (module, environment if tracing else {**environment, "POWERTOOLS_TRACE_DISABLED": "true"})
        for logical_id, (module, environment) in template_functions().items()
    }
    baseline = ImportFigures()
    figures = {logical_id: ImportFigures() for logical_id in functions}
    for _ in range(rounds):
        for logical_id, (module, environment) in functions.items():
            for target, name, env in ((baseline, BASELINE, {}), (figures[logical_id], module, environment)):
                seconds, peak = measure_once(name, env)
                target.seconds.append(seconds)
                target.peak_mib.append(peak)
    return baseline, figures
