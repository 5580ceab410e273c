"""Run a template function as its real handler in its own process (one per function)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

WORKER = Path(__file__).with_name("worker.py")


@dataclass
class FunctionSpec:
    """What the template says about one function, resolved to local paths and values."""

    logical_id: str
    name: str
    handler: str
    code_dir: Path
    layer_dirs: list[Path]
    environment: dict[str, str]
    timeout_seconds: float
    memory_mb: int


@dataclass
class InvocationResult:
    ok: bool
    result: Any = None
    error: dict[str, str] = field(default_factory=dict)


class FunctionRuntime:
    """One warm execution environment; invocations are serialised like a reserved concurrency of 1."""

    def __init__(self, spec: FunctionSpec, base_environment: dict[str, str], log_dir: Path) -> None:
        self.spec = spec
        self._base_environment = base_environment
        self._log_path = log_dir / f"{spec.logical_id}.log"
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._responses: queue.Queue[str] = queue.Queue()
        self.invocations = 0
        self.errors = 0

    @property
    def log_path(self) -> Path:
        return self._log_path

    def _environment(self) -> dict[str, str]:
        spec = self.spec
        paths = [str(spec.code_dir), *(str(path) for path in spec.layer_dirs)]
        return {
            **self._base_environment,
            **spec.environment,
            "PYTHONPATH": os.pathsep.join(paths),
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(spec.timeout_seconds),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
        }

    def _start(self) -> subprocess.Popen[str]:
        log = self._log_path.open("a")
        process = subprocess.Popen(
            [sys.executable, str(WORKER), self.spec.handler],
            cwd=self.spec.code_dir,
            env=self._environment(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        self._responses = queue.Queue()
        threading.Thread(target=self._read, args=(process.stdout, self._responses), daemon=True).start()
        try:
            ready = self._responses.get(timeout=60)
        except queue.Empty:
            process.kill()
            raise RuntimeError(f"{self.spec.logical_id} did not start; see {self._log_path}") from None
        if not json.loads(ready).get("ready"):
            raise RuntimeError(f"{self.spec.logical_id} failed to start; see {self._log_path}")
        return process

    @staticmethod
    def _read(stream: IO[str] | None, responses: queue.Queue[str]) -> None:
        if stream is None:
            return
        for line in stream:
            responses.put(line)
        responses.put('{"ok": false, "error": {"errorType": "Runtime.ExitError", "errorMessage": "process exited"}}')

    def start(self) -> None:
        """Start the environment now (an init error surfaces at startup, not on the first event)."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = self._start()

    def invoke(self, event: Any) -> InvocationResult:
        """Invoke the handler; a timeout kills the environment, as Lambda does."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = self._start()
            process = self._process
            assert process.stdin is not None
            self.invocations += 1
            process.stdin.write(json.dumps({"event": event, "request_id": str(uuid.uuid4())}) + "\n")
            process.stdin.flush()
            try:
                response = json.loads(self._responses.get(timeout=self.spec.timeout_seconds + 1))
            except queue.Empty:
                process.kill()
                self._process = None
                self.errors += 1
                message = f"Task timed out after {self.spec.timeout_seconds:.0f} seconds"
                return InvocationResult(ok=False, error={"errorType": "Sandbox.Timedout", "errorMessage": message})
            if not response["ok"]:
                self.errors += 1
                return InvocationResult(ok=False, error=response["error"])
            return InvocationResult(ok=True, result=response["result"])

    def stop(self) -> None:
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._process.kill()
            self._process = None
