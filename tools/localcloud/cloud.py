"""Provision template.yaml on a moto server and run it: functions, mappings, bridges, HTTP API, alarms.

Everything about the topology comes from the template: the provisioners (provisioners.py)
walk its (translated) resources by type, so a new rule, queue and function there runs here
with no change to this code. `LocalCloud` puts the parts together: the moto server process
(moto_process.py), its clients (aws_endpoint.py), the resources (stack.py and the
provisioners), what runs (function environments, mappings, bridges, the HTTP API, the alarm
evaluator) and the quiet checks (quiet.py).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tools.dead_letters import dead_letter_targets
from tools.localcloud import quiet
from tools.localcloud.alarms import AlarmEvaluator
from tools.localcloud.aws_endpoint import AwsEndpoint, free_port
from tools.localcloud.bridges import Bridge
from tools.localcloud.cognito import Customers
from tools.localcloud.faults import Faults
from tools.localcloud.fidelity import Unemulated, warn_unemulated
from tools.localcloud.functions import FunctionRuntime
from tools.localcloud.httpapi import ApiSecurity, HttpApi, Route
from tools.localcloud.intrinsics import Resolver
from tools.localcloud.mappings import EventSourceMapping, mapping_from_spec
from tools.localcloud.moto_process import MotoServer
from tools.localcloud.pipes import PipeRunner
from tools.localcloud.provisioners import provision
from tools.localcloud.stack import Physical, Stack, stack_parameters
from tools.localcloud.template import REPO_ROOT, Template, load_template

__all__ = ["DEFAULT_CONCURRENCY", "DEFAULT_TIME_SCALE", "LocalCloud", "Physical"]

DEFAULT_TIME_SCALE = 0.02  # a 60 s visibility timeout becomes ~1 s locally
# Execution environments per function at most (Lambda's limit is the account's concurrency). Two, so
# twin invocations of one function really run at once, as on Lambda; more buys no throughput on a
# small machine, whose cores moto and the handlers already keep busy (make bench measures it).
DEFAULT_CONCURRENCY = 2


class LocalCloud:
    """orderflow's template running on one machine."""

    def __init__(
        self,
        template: Template | None = None,
        *,
        stack_name: str = "orderflow",
        parameter_overrides: dict[str, Any] | None = None,
        moto_port: int | None = None,
        api_port: int | None = None,
        time_scale: float = DEFAULT_TIME_SCALE,
        work_dir: Path | None = None,
        listen: str = "127.0.0.1",
        fault_seed: int | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self.template = template or load_template()
        self.concurrency = concurrency
        self.faults = Faults(fault_seed)  # switched on at run time by tests and the chaos driver
        self.stack_name = stack_name
        self.time_scale = time_scale
        self.moto_port = moto_port or free_port()
        self.api_port = api_port or 0
        self.listen = listen  # 0.0.0.0 lets `sam local invoke` containers reach the AWS APIs
        self.endpoint = f"http://127.0.0.1:{self.moto_port}"
        self.work_dir = work_dir or REPO_ROOT / ".localcloud"
        self.aws = AwsEndpoint(self.endpoint)
        self.parameters = stack_parameters(self.template, stack_name, parameter_overrides or {})
        self.stack = Stack(self.template, stack_name, self.parameters, self.aws.client, time_scale)
        self.functions: dict[str, FunctionRuntime] = {}
        self.mappings: dict[str, EventSourceMapping] = {}
        self.bridges: list[Bridge] = []
        self.pipes: dict[str, PipeRunner] = {}
        self.http_api: HttpApi | None = None
        self.alarm_evaluator: AlarmEvaluator | None = None
        self.unemulated: list[Unemulated] = []  # what the template asks for that runs differently here
        self._server: MotoServer | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------ lifecycle --
    def start(self) -> LocalCloud:
        """Start moto, provision every resource, start functions, mappings, bridges and the API."""
        if self.work_dir.exists():
            shutil.rmtree(self.work_dir / "logs", ignore_errors=True)
        (self.work_dir / "logs").mkdir(parents=True, exist_ok=True)
        self._server = MotoServer(self.moto_port, self.listen, self.work_dir / "logs" / "moto.log")
        try:
            self._server.start()
            provision(self.stack)
            self.unemulated = warn_unemulated(self.template, self.resolver.condition)
            self._run()
        except Exception:
            self.stop()
            raise
        return self

    def _run(self) -> None:
        """Start what the provisioners found: function environments, bridges, mappings, the HTTP API, alarms."""
        base = {
            **self.environment(),
            "AWS_SESSION_TOKEN": "localcloud",
            # No X-Ray daemon locally; Powertools Tracer becomes a no-op instead of failing.
            "POWERTOOLS_TRACE_DISABLED": "true",
            "PYTHONUNBUFFERED": "1",
            "PATH": os.environ.get("PATH", ""),
        }
        logs = self.work_dir / "logs"
        for logical_id, spec in self.stack.function_specs.items():
            self.functions[logical_id] = FunctionRuntime(
                spec, base, logs, self.faults, self.time_scale, concurrency=self.concurrency
            )
        # Start the environments in parallel: each imports Powertools and pydantic once.
        self._in_parallel([runtime.start for runtime in self.functions.values()])
        for bridge_spec in self.stack.bridge_specs:
            bridge = Bridge(bridge_spec, self.client, self.time_scale)
            self.bridges.append(bridge)
            self._start_thread(f"bridge-{bridge.rule_id}", bridge.run)
        for logical_id, mapping_spec in self.stack.mapping_specs.items():
            function = self.functions[mapping_spec.function_id]
            mapping = mapping_from_spec(mapping_spec, function, self.client, self.ref, self.faults, self.time_scale)
            self.mappings[logical_id] = mapping
            if not mapping_spec.enabled:
                mapping.pause()  # Enabled: false, as a disabled mapping: it polls nothing
            mapping.start()
        for logical_id, pipe_spec in self.stack.pipe_specs.items():
            enrichment = self.functions[pipe_spec.enrichment_id] if pipe_spec.enrichment_id else None
            dead_letter_url = self.ref(pipe_spec.dead_letter_id) if pipe_spec.dead_letter_id else None
            pipe = PipeRunner(
                pipe_spec,
                self.client("dynamodbstreams"),
                self.client("events"),
                self.client("sqs"),
                enrichment,
                dead_letter_url,
                self.faults,
                self.time_scale,
            )
            self.pipes[logical_id] = pipe
            pipe.start()
        if self.stack.routes:
            routes = [
                Route(route.method, route.path, self.functions[route.function_id], route.authorization)
                for route in self.stack.routes
            ]
            environment = self.environment()
            security = ApiSecurity(
                self.endpoint, {environment["AWS_ACCESS_KEY_ID"]: environment["AWS_SECRET_ACCESS_KEY"]}
            )
            self.http_api = HttpApi(
                routes, self.api_port, self.stack.api_settings, security, self.work_dir / "logs" / "http-api-access.log"
            )
            self.http_api.start()
        self.alarm_evaluator = AlarmEvaluator(self).start()  # CloudWatch evaluates alarms from their creation

    @staticmethod
    def _in_parallel(calls: list[Any]) -> None:
        threads = [threading.Thread(target=call) for call in calls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _start_thread(self, name: str, run: Any) -> None:
        thread = threading.Thread(target=run, args=(self._stop,), name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        if self.alarm_evaluator is not None:
            self.alarm_evaluator.stop()
        # Every poller may be in a long poll: ask them all first, so their waits overlap.
        for mapping in self.mappings.values():
            mapping.request_stop()
        for mapping in self.mappings.values():
            mapping.stop()
        for pipe in self.pipes.values():
            pipe.stop()
        for thread in self._threads:
            thread.join(timeout=5)
        if self.http_api is not None:
            self.http_api.stop()
        for function in self.functions.values():
            function.stop()
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --------------------------------------------------------------- access --
    def client(self, service: str) -> Any:
        """A boto3 client for this local cloud (thread-safe to share: boto3 clients are)."""
        return self.aws.client(service)

    def environment(self) -> dict[str, str]:
        """Environment that points AWS SDKs and the AWS CLI at this local cloud."""
        return self.aws.environment()

    @property
    def physical(self) -> dict[str, Physical]:
        return self.stack.physical

    @property
    def resolver(self) -> Resolver:
        return self.stack.resolver

    def ref(self, logical_id: str) -> Any:
        """The Ref value of a resource (queue URL, table name, topic ARN...)."""
        return self.stack.ref(logical_id)

    def attribute(self, logical_id: str, name: str) -> Any:
        return self.stack.attribute(logical_id, name)

    def write_sam_env_vars(self, path: Path) -> Path:
        """An `--env-vars` file so `sam local invoke` functions use this local cloud's resources.

        A Lambda container reaches the host as host.docker.internal (`--add-host
        host.docker.internal:host-gateway`), which needs the AWS APIs listening beyond loopback.
        """
        container_endpoint = self.endpoint.replace("127.0.0.1", "host.docker.internal")
        overrides = {
            logical_id: {**runtime.spec.environment, "AWS_ENDPOINT_URL": container_endpoint}
            for logical_id, runtime in self.functions.items()
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(overrides, indent=2, sort_keys=True) + "\n")
        return path

    def mapping_for_function(self, function_logical_id: str) -> EventSourceMapping:
        for mapping in self.mappings.values():
            if mapping.function.spec.logical_id == function_logical_id:
                return mapping
        raise KeyError(f"{function_logical_id} has no event source mapping")

    @contextmanager
    def outage(self, function_logical_id: str) -> Iterator[None]:
        """Stop delivering to a function (its queue keeps filling), as in a regional outage of one consumer."""
        mapping = self.mapping_for_function(function_logical_id)
        mapping.pause()
        try:
            yield
        finally:
            mapping.resume()

    @property
    def moto_pid(self) -> int:
        """The moto server's process id (its CPU time is the local cloud's main cost)."""
        pid = self._server.pid if self._server is not None else None
        if pid is None:
            raise RuntimeError("the local cloud is not running")
        return pid

    @functools.cached_property
    def customers(self) -> Customers:
        """Sign local customers in to the template's user pool (bearer tokens for the orders API)."""
        return Customers.of_stack(self.stack)

    @property
    def api_url(self) -> str:
        if self.http_api is None:
            raise RuntimeError("the template defines no HTTP API routes")
        return self.http_api.url

    # ---------------------------------------------------------- observation --
    def queue_depths(self, logical_id: str) -> tuple[int, int]:
        """(visible, in flight) for a queue."""
        return quiet.queue_depths(self, logical_id)

    def dead_letter_queue_ids(self) -> set[str]:
        """Queues that something dead-letters into (redrive policies, rule DLQs, on-failure destinations)."""
        properties = {lid: self.resolver.resolve(r.get("Properties", {})) for lid, r in self.template.resources.items()}
        targets = dead_letter_targets(properties, self.stack.logical_id_of_arn)
        return targets & set(self.stack.resources("AWS::SQS::Queue"))

    def is_quiet(self) -> bool:
        """Nothing queued, in flight, running or unread anywhere in the system."""
        return quiet.is_quiet(self)

    def wait_until_quiet(self, timeout: float = 120.0, settle_checks: int = 3, interval: float = 0.3) -> float:
        """Block until the system has been quiet for `settle_checks` checks in a row; returns seconds waited."""
        return quiet.wait_until_quiet(self, timeout, settle_checks, interval)

    def busy_report(self) -> str:
        return quiet.busy_report(self)
