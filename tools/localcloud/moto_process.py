"""moto's server (moto_server.py) in its own process, as the local cloud runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

MOTO_SERVER = Path(__file__).with_name("moto_server.py")  # moto's server, quiet and with its hot paths cached


class MotoServer:
    """moto in its own process: its own GIL, and its own MOTO_PORT (the Step Functions interpreter
    calls the other services back on that port), with state machine execution switched on."""

    def __init__(self, port: int, listen: str, log_path: Path) -> None:
        self.port = port
        self.listen = listen  # 0.0.0.0 lets `sam local invoke` containers reach the AWS APIs
        self.log_path = log_path
        self.endpoint = f"http://127.0.0.1:{port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> None:
        with self.log_path.open("a") as log:
            self._process = subprocess.Popen(
                [sys.executable, str(MOTO_SERVER), "-H", self.listen, "-p", str(self.port)],
                env={**os.environ, "MOTO_PORT": str(self.port)},
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own session: a Ctrl-C in the terminal reaches only the local cloud, which stops
                # the pollers first and moto last (moto dying first made every poller log a traceback).
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self._process.poll() is not None:
                raise RuntimeError(f"moto server exited; see {self.log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"moto server did not answer on {self.endpoint}")
            time.sleep(0.1)
        self._configure({"stepfunctions": {"execute_state_machine": True}})

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1):
                return True
        except OSError:
            return False

    def _configure(self, config: dict[str, Any]) -> None:
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/config",
            data=json.dumps(config).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
        self._process = None
