"""A function's execution environments on the local cloud: twins run at once, up to the concurrency cap.

The handler is a rendezvous: each invocation leaves its process id in a folder and waits (as long as
its event says) for another process's. Two invocations meet only if they run at the same time, in
different environments; one environment never meets itself, however long it waits. No timing is asserted.
"""

from __future__ import annotations

import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from tools.localcloud.functions import FunctionRuntime, FunctionSpec

RENDEZVOUS = textwrap.dedent(
    """
    import os, time
    from pathlib import Path

    def handler(event, context):
        folder = Path(event["folder"])
        (folder / str(os.getpid())).touch()
        deadline = time.monotonic() + event["wait_seconds"]
        while time.monotonic() < deadline:
            others = [path.name for path in folder.iterdir() if path.name != str(os.getpid())]
            if others:
                return {"pid": os.getpid(), "met": True}
            time.sleep(0.05)
        return {"pid": os.getpid(), "met": False}
    """
)


@pytest.fixture
def runtime_for(tmp_path: Path) -> Any:
    code = tmp_path / "code"
    code.mkdir()
    (code / "rendezvous.py").write_text(RENDEZVOUS)
    runtimes: list[FunctionRuntime] = []

    def build(concurrency: int, reserved: int | None = None) -> FunctionRuntime:
        spec = FunctionSpec("Twin", "twin", "rendezvous.handler", code, [], {}, 30.0, 128, reserved)
        runtime = FunctionRuntime(spec, {}, tmp_path, concurrency=concurrency)
        runtimes.append(runtime)
        return runtime

    yield build
    for runtime in runtimes:
        runtime.stop()


def invoke_twice_at_once(runtime: FunctionRuntime, folder: Path, wait_seconds: float) -> list[dict[str, Any]]:
    folder.mkdir()
    results: list[dict[str, Any]] = []

    def invoke() -> None:
        result = runtime.invoke({"folder": str(folder), "wait_seconds": wait_seconds})
        assert result.ok, result.error
        results.append(result.result)

    threads = [threading.Thread(target=invoke) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    return results


def test_two_invocations_at_once_run_in_two_environments_at_the_same_time(runtime_for: Any, tmp_path: Path) -> None:
    runtime = runtime_for(concurrency=2)

    # Long enough for the second environment to start on a loaded machine; a meeting ends the wait.
    results = invoke_twice_at_once(runtime, tmp_path / "meet", wait_seconds=25)

    assert [result["met"] for result in results] == [True, True]
    assert len({result["pid"] for result in results}) == 2
    assert len(runtime.pids) == 2


def test_reserved_concurrency_of_one_runs_them_one_after_the_other_in_one_environment(
    runtime_for: Any, tmp_path: Path
) -> None:
    runtime = runtime_for(concurrency=2, reserved=1)

    results = invoke_twice_at_once(runtime, tmp_path / "alone", wait_seconds=0.5)

    # The second waited for the first's environment, so neither met another process.
    assert [result["met"] for result in results] == [False, False]
    assert len({result["pid"] for result in results}) == 1
    assert runtime.concurrency == 1
