"""Run a template function as its real handler: execution environments, each its own process.

Timings keep AWS's relations when the local cloud scales time (`time_scale`):
on AWS a queue's visibility timeout (60 s) is at least 6 x the function's
Timeout (10 s), which bounds Powertools idempotency's IN_PROGRESS window (it
expires when the context's remaining time runs out). The mappings scale the
visibility timeout a failed message waits, so the context the handler sees
reports the Timeout scaled by the same factor: a record whose environment died
mid-record is IN_PROGRESS for at most 0.2 s when its message is visible again
after 1.2 s, exactly as 10 s < 60 s on AWS. The kill deadline stays the real
Timeout: handlers need real time to run, and a message stays invisible for the
queue's real visibility timeout while it is being processed (see mappings.py).
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tools.localcloud.faults import FaultKind, Faults

WORKER = Path(__file__).with_name("worker.py")
KILLED_EXIT_CODE = 137  # the worker's injected death (worker.py); a timeout kill is -9
EXIT_SENTINEL = json.dumps(
    {"ok": False, "exited": True, "error": {"errorType": "Runtime.ExitError", "errorMessage": "process exited"}}
)


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
    reserved_concurrency: int | None = None  # ReservedConcurrentExecutions: at most this many environments


@dataclass
class InvocationResult:
    ok: bool
    result: Any = None
    error: dict[str, str] = field(default_factory=dict)


class FunctionRuntime:
    """A function's execution environments, as Lambda runs them: one invocation per environment at a time,
    a new environment when every one is busy, up to `concurrency` of them (the local cloud's cap, or the
    function's ReservedConcurrentExecutions when lower). An idle environment is reused, the warmest first."""

    def __init__(
        self,
        spec: FunctionSpec,
        base_environment: dict[str, str],
        log_dir: Path,
        faults: Faults | None = None,
        time_scale: float = 1.0,
        concurrency: int = 1,
    ) -> None:
        self.spec = spec
        cap = spec.reserved_concurrency if spec.reserved_concurrency is not None else concurrency
        self.concurrency = max(1, min(concurrency, cap))
        self._new_environment: Callable[[], ExecutionEnvironment] = lambda: ExecutionEnvironment(
            self, base_environment, log_dir
        )
        self.faults = faults
        self.time_scale = time_scale
        self._environments: list[ExecutionEnvironment] = []
        self._idle: list[ExecutionEnvironment] = []
        self._available = threading.Condition()

    def _acquire(self) -> ExecutionEnvironment:
        with self._available:
            while True:
                if self._idle:
                    return self._idle.pop()  # the most recently used: warm, like Lambda's reuse
                if len(self._environments) < self.concurrency:
                    environment = self._new_environment()
                    self._environments.append(environment)
                    return environment
                self._available.wait()

    def _release(self, environment: ExecutionEnvironment) -> None:
        with self._available:
            self._idle.append(environment)
            self._available.notify()

    def invoke(self, event: Any, transient_faults: bool = True) -> InvocationResult:
        """Invoke the handler in an idle environment (a new one if all are busy and the cap allows).

        `transient_faults=False`: the worker-side faults (raise, kill, partial PutEvents, transaction
        conflicts) stay off for this invocation; fail-records, which stands for poison, still applies.
        """
        environment = self._acquire()
        try:
            return environment.invoke(event, transient_faults)
        finally:
            self._release(environment)

    def start(self) -> None:
        """Start one environment now (an init error surfaces at startup, not on the first event)."""
        environment = self._acquire()
        try:
            environment.start()
        finally:
            self._release(environment)

    @property
    def pid(self) -> int | None:
        """The warmest live environment's process id, None when there is none."""
        with self._available:
            ordered = [*reversed(self._idle), *self._environments]
        return next((environment.pid for environment in ordered if environment.pid is not None), None)

    @property
    def pids(self) -> list[int]:
        """Every live execution environment's process id."""
        return [pid for environment in list(self._environments) if (pid := environment.pid) is not None]

    @property
    def invocations(self) -> int:
        return sum(environment.invocations for environment in list(self._environments))

    @property
    def errors(self) -> int:
        return sum(environment.errors for environment in list(self._environments))

    def stop(self) -> None:
        for environment in list(self._environments):
            environment.stop()


class ExecutionEnvironment:
    """One execution environment: a worker process that serves one invocation at a time."""

    def __init__(self, function: FunctionRuntime, base_environment: dict[str, str], log_dir: Path) -> None:
        spec = function.spec
        self.spec = spec
        self.faults = function.faults
        self.time_scale = function.time_scale
        self._base_environment = base_environment
        self._log_path = log_dir / f"{spec.logical_id}.log"
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._responses: queue.Queue[str] = queue.Queue()
        self.invocations = 0
        self.errors = 0

    @property
    def pid(self) -> int | None:
        """The live environment's process id, None when there is none (not started yet, or died)."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

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
            # What the context's remaining time starts from: the Timeout on the local cloud's clock.
            "LOCALCLOUD_CONTEXT_TIMEOUT": str(spec.timeout_seconds * self.time_scale),
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
            start_new_session=True,  # stopped by the local cloud, not by a Ctrl-C meant for it
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
        responses.put(EXIT_SENTINEL)

    def start(self) -> None:
        """Start the process now, if it is not running."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = self._start()

    def invoke(self, event: Any, transient_faults: bool = True) -> InvocationResult:
        """Invoke the handler; a timeout kills the environment, as Lambda does."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = self._start()
            process = self._process
            assert process.stdin is not None
            self.invocations += 1
            faults = self.faults.for_worker(self.spec.logical_id) if self.faults and transient_faults else None
            event = self.faults.fail_records(self.spec.logical_id, event) if self.faults else event
            request = {"event": event, "request_id": str(uuid.uuid4()), "faults": faults}
            try:
                process.stdin.write(json.dumps(request) + "\n")
                process.stdin.flush()
                response = json.loads(self._responses.get(timeout=self.spec.timeout_seconds + 1))
            except queue.Empty:
                return self._timed_out(process)
            except (BrokenPipeError, OSError):
                response = json.loads(EXIT_SENTINEL)  # it died between invocations
            self._count_faults(response.get("faults") or {})
            if response.get("exited"):
                return self._exited(process, response)
            if not response["ok"]:
                self.errors += 1
                return InvocationResult(ok=False, error=response["error"])
            return InvocationResult(ok=True, result=response["result"])

    def _timed_out(self, process: subprocess.Popen[str]) -> InvocationResult:
        process.kill()
        process.wait()
        self._process = None
        self.errors += 1
        message = f"Task timed out after {self.spec.timeout_seconds:.0f} seconds"
        return InvocationResult(ok=False, error={"errorType": "Sandbox.Timedout", "errorMessage": message})

    def _exited(self, process: subprocess.Popen[str], response: dict[str, Any]) -> InvocationResult:
        """The environment died mid-invocation: the invocation failed and the next one starts a new one."""
        # Reap it now, so the next invoke never writes to a dead process that poll() has not noticed.
        try:
            code = process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        self._process = None
        self.errors += 1
        if code == KILLED_EXIT_CODE and self.faults is not None:
            self.faults.record(FaultKind.KILL.value, self.spec.logical_id)
        error = {**response["error"], "errorMessage": f"process exited with status {code}"}
        return InvocationResult(ok=False, error=error)

    def _count_faults(self, injected: dict[str, int]) -> None:
        if self.faults is not None:
            for kind, count in injected.items():
                self.faults.record(kind, self.spec.logical_id, int(count))

    def stop(self) -> None:
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._process.kill()
            self._process = None
