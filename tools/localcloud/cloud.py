"""Provision template.yaml on a moto server and run it: functions, mappings, bridges, HTTP API, alarms.

Everything about the topology comes from the template: the local cloud walks
its (translated) resources by type, so a new rule, queue and function there
runs here with no change to this code.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from tools.localcloud.alarms import AlarmEvaluator
from tools.localcloud.faults import Faults
from tools.localcloud.functions import FunctionRuntime, FunctionSpec
from tools.localcloud.httpapi import HttpApi, Route
from tools.localcloud.intrinsics import Resolver, UnresolvedError
from tools.localcloud.mappings import (
    LONG_POLL_SECONDS,
    EventSourceMapping,
    KinesisMapping,
    SqsMapping,
    on_failure_to_sqs,
)
from tools.localcloud.template import REPO_ROOT, Template, load_template

ACCOUNT = "123456789012"
REGION = "us-east-1"
DEFAULT_TIME_SCALE = 0.02  # a 60 s visibility timeout becomes ~1 s locally
MOTO_SERVER = Path(__file__).with_name("moto_server.py")  # moto's server, quiet and with its hot paths cached


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Physical:
    """The local cloud's id for a logical resource: its Ref value and attributes."""

    ref: Any = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Bridge:
    """A rule target moto cannot deliver: moto delivers to a bridge queue, the bridge forwards."""

    rule_id: str
    target: dict[str, Any]
    queue_url: str
    forwarded: int = 0
    dead_lettered: int = 0
    busy: bool = False


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
    ) -> None:
        self.template = template or load_template()
        self.faults = Faults(fault_seed)  # switched on at run time by tests and the chaos driver
        self.stack_name = stack_name
        self.time_scale = time_scale
        self.moto_port = moto_port or free_port()
        self.api_port = api_port or 0
        self.listen = listen  # 0.0.0.0 lets `sam local invoke` containers reach the AWS APIs
        self.endpoint = f"http://127.0.0.1:{self.moto_port}"
        self.work_dir = work_dir or REPO_ROOT / ".localcloud"
        self.parameters = self._parameters(parameter_overrides or {})
        self.physical: dict[str, Physical] = {}
        self.functions: dict[str, FunctionRuntime] = {}
        self.mappings: dict[str, EventSourceMapping] = {}
        self.bridges: list[Bridge] = []
        self.http_api: HttpApi | None = None
        self.alarm_evaluator: AlarmEvaluator | None = None
        self._server: subprocess.Popen[bytes] | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._clients: dict[str, Any] = {}
        self.resolver = Resolver(
            parameters=self.parameters,
            conditions=self.template.cfn.get("Conditions", {}),
            ref=self._ref,
            get_att=self._get_att,
        )

    # ------------------------------------------------------------ lifecycle --
    def _parameters(self, overrides: dict[str, Any]) -> dict[str, Any]:
        parameters = dict(self.template.parameter_defaults)
        parameters.update({name: str(value) for name, value in overrides.items()})
        unknown = set(overrides) - set(self.template.parameter_defaults)
        if unknown:
            raise ValueError(f"unknown template parameters: {sorted(unknown)}")
        parameters.update(
            {
                "AWS::Region": REGION,
                "AWS::AccountId": ACCOUNT,
                "AWS::StackName": self.stack_name,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{self.stack_name}/local",
            }
        )
        return parameters

    def start(self) -> LocalCloud:
        """Start moto, provision every resource, start functions, mappings, bridges and the API."""
        if self.work_dir.exists():
            shutil.rmtree(self.work_dir / "logs", ignore_errors=True)
        (self.work_dir / "logs").mkdir(parents=True, exist_ok=True)
        self._start_moto()
        try:
            self._configure_moto()
            self._provision()
        except Exception:
            self.stop()
            raise
        return self

    def _start_moto(self) -> None:
        """moto's server in its own process: its own GIL, and its own MOTO_PORT (the Step Functions
        interpreter calls the other services back on that port)."""
        log = (self.work_dir / "logs" / "moto.log").open("a")
        self._server = subprocess.Popen(
            [sys.executable, str(MOTO_SERVER), "-H", self.listen, "-p", str(self.moto_port)],
            env={**os.environ, "MOTO_PORT": str(self.moto_port)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._server.poll() is not None:
                raise RuntimeError(f"moto server exited; see {self.work_dir / 'logs' / 'moto.log'}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"moto server did not answer on {self.endpoint}")

    def stop(self) -> None:
        self._stop.set()
        if self.alarm_evaluator is not None:
            self.alarm_evaluator.stop()
        # Every poller may be in a long poll: ask them all first, so their waits overlap.
        for mapping in self.mappings.values():
            mapping.request_stop()
        for mapping in self.mappings.values():
            mapping.stop()
        for thread in self._threads:
            thread.join(timeout=5)
        if self.http_api is not None:
            self.http_api.stop()
        for function in self.functions.values():
            function.stop()
        if self._server is not None:
            self._server.terminate()
            try:
                self._server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._server.kill()
            self._server = None

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _configure_moto(self) -> None:
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/config",
            data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    # --------------------------------------------------------------- access --
    def client(self, service: str) -> Any:
        """A boto3 client for this local cloud (thread-safe to share: boto3 clients are)."""
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service,  # type: ignore[call-overload]
                endpoint_url=self.endpoint,
                region_name=REGION,
                aws_access_key_id="localcloud",
                aws_secret_access_key="localcloud",
                config=Config(retries={"mode": "standard", "max_attempts": 3}),
            )
        return self._clients[service]

    def environment(self) -> dict[str, str]:
        """Environment that points AWS SDKs and the AWS CLI at this local cloud."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "localcloud",
            "AWS_SECRET_ACCESS_KEY": "localcloud",
        }

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

    def ref(self, logical_id: str) -> Any:
        """The Ref value of a resource (queue URL, table name, topic ARN...)."""
        return self._ref(logical_id)

    def attribute(self, logical_id: str, name: str) -> Any:
        return self._get_att(logical_id, name)

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
    def api_url(self) -> str:
        if self.http_api is None:
            raise RuntimeError("the template defines no HTTP API routes")
        return self.http_api.url

    # ------------------------------------------------------------ resolving --
    def _ref(self, logical_id: str) -> Any:
        if logical_id in self.physical:
            return self.physical[logical_id].ref
        raise UnresolvedError(f"Ref {logical_id}: not provisioned")

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        physical = self.physical.get(logical_id)
        if physical is None or attribute not in physical.attributes:
            raise UnresolvedError(f"Fn::GetAtt {logical_id}.{attribute}: not provisioned")
        return physical.attributes[attribute]

    def _resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Resources of a type whose Condition holds, with their properties resolved lazily by callers."""
        return {
            logical_id: resource
            for logical_id, resource in self.template.of_type(resource_type).items()
            if "Condition" not in resource or self.resolver.condition(resource["Condition"])
        }

    def _props(self, resource: dict[str, Any]) -> dict[str, Any]:
        resolved: dict[str, Any] = self.resolver.resolve(resource.get("Properties", {}))
        return resolved

    def _name(self, logical_id: str) -> str:
        return f"{self.stack_name}-{logical_id}"

    # ----------------------------------------------------------- provision --
    def _provision(self) -> None:
        self._name_passive_resources()
        self._provision_keys()
        self._provision_buses()
        self._provision_topics()
        self._provision_queues()
        self._provision_tables()
        self._provision_streams()
        self._provision_subscriptions()
        self._provision_state_machines()
        self._provision_functions()
        self._provision_rules()
        self._provision_queue_policies()
        self._provision_archives()
        self._provision_mappings()
        self._provision_http_api()
        self._provision_alarms()

    def _name_passive_resources(self) -> None:
        """Resources that exist only as names here (roles, log groups, layers, APIs)."""
        for logical_id, resource in self.template.resources.items():
            kind = resource["Type"]
            name = self._name(logical_id)
            if kind == "AWS::IAM::Role":
                self.physical[logical_id] = Physical(
                    name, {"Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}", "RoleId": name}
                )
            elif kind == "AWS::Logs::LogGroup":
                arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}"
                self.physical[logical_id] = Physical(name, {"Arn": f"{arn}:*"})
            elif kind == "AWS::Lambda::LayerVersion":
                self.physical[logical_id] = Physical(f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{name}:1")
            elif kind == "AWS::ApiGatewayV2::Api":
                self.physical[logical_id] = Physical("localapi", {"ApiEndpoint": "http://127.0.0.1"})
            elif kind == "AWS::Lambda::Function":
                arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
                self.physical[logical_id] = Physical(name, {"Arn": arn})
            elif kind == "AWS::StepFunctions::StateMachine":
                arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
                self.physical[logical_id] = Physical(arn, {"Arn": arn, "Name": name})

    def _provision_keys(self) -> None:
        """KMS keys (with their key policy and rotation) and aliases, on moto's KMS."""
        kms = self.client("kms")
        for logical_id, resource in self._resources("AWS::KMS::Key").items():
            props = self._props(resource)
            metadata = kms.create_key(
                Description=props.get("Description", logical_id), Policy=json.dumps(props["KeyPolicy"])
            )["KeyMetadata"]
            if props.get("EnableKeyRotation"):
                kms.enable_key_rotation(KeyId=metadata["KeyId"])
            self.physical[logical_id] = Physical(
                metadata["KeyId"], {"Arn": metadata["Arn"], "KeyId": metadata["KeyId"]}
            )
        for logical_id, resource in self._resources("AWS::KMS::Alias").items():
            props = self._props(resource)
            kms.create_alias(AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"])
            self.physical[logical_id] = Physical(props["AliasName"])

    def _provision_buses(self) -> None:
        events = self.client("events")
        for logical_id, resource in self._resources("AWS::Events::EventBus").items():
            name = self._props(resource)["Name"]
            arn = events.create_event_bus(Name=name)["EventBusArn"]
            self.physical[logical_id] = Physical(name, {"Arn": arn, "Name": name})

    def _provision_topics(self) -> None:
        sns = self.client("sns")
        for logical_id, resource in self._resources("AWS::SNS::Topic").items():
            props = self._props(resource)
            name = props.get("TopicName", self._name(logical_id))
            attributes = {"KmsMasterKeyId": props["KmsMasterKeyId"]} if "KmsMasterKeyId" in props else {}
            arn = sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]
            self.physical[logical_id] = Physical(arn, {"TopicArn": arn, "TopicName": name})

    def _provision_queues(self) -> None:
        sqs = self.client("sqs")
        queues = self._resources("AWS::SQS::Queue")
        # Every queue first, then redrive policies: SQS checks the DLQ exists.
        for logical_id, resource in queues.items():
            props = resource.get("Properties", {})
            name = props.get("QueueName", self._name(logical_id))
            attributes = {
                key: str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
                for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "SqsManagedSseEnabled")
                if key in props
            }
            url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
            self.physical[logical_id] = Physical(url, {"Arn": arn, "QueueName": name, "QueueUrl": url})
        for logical_id, resource in queues.items():
            props = self._props(resource)
            if "RedrivePolicy" in props:
                sqs.set_queue_attributes(
                    QueueUrl=self.ref(logical_id), Attributes={"RedrivePolicy": json.dumps(props["RedrivePolicy"])}
                )

    def _provision_tables(self) -> None:
        dynamodb = self.client("dynamodb")
        for logical_id, resource in self._resources("AWS::DynamoDB::Table").items():
            props = self._props(resource)
            name = props.get("TableName", self._name(logical_id))
            arguments = {
                key: props[key]
                for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes")
                if key in props
            }
            description = dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **arguments)
            if props.get("TimeToLiveSpecification"):
                dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=props["TimeToLiveSpecification"])
            arn = description["TableDescription"]["TableArn"]
            self.physical[logical_id] = Physical(name, {"Arn": arn, "StreamArn": f"{arn}/stream/local"})

    def _provision_streams(self) -> None:
        kinesis = self.client("kinesis")
        for logical_id, resource in self._resources("AWS::Kinesis::Stream").items():
            props = self._props(resource)
            name = props.get("Name", self._name(logical_id))
            kinesis.create_stream(StreamName=name, ShardCount=int(props.get("ShardCount", 1)))
            encryption = props.get("StreamEncryption")
            if encryption:
                kinesis.start_stream_encryption(
                    StreamName=name, EncryptionType=encryption["EncryptionType"], KeyId=encryption["KeyId"]
                )
            arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{name}"
            self.physical[logical_id] = Physical(name, {"Arn": arn})

    def _provision_queue_policies(self) -> None:
        sqs = self.client("sqs")
        for logical_id, resource in self._resources("AWS::SQS::QueuePolicy").items():
            props = self._props(resource)
            for queue_url in props["Queues"]:
                sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(props["PolicyDocument"])})
            self.physical[logical_id] = Physical(logical_id)

    def _provision_subscriptions(self) -> None:
        sns = self.client("sns")
        for logical_id, resource in self._resources("AWS::SNS::Subscription").items():
            props = self._props(resource)
            attributes = {
                key: json.dumps(props[key])
                if isinstance(props[key], dict)
                else str(props[key]).lower()
                if isinstance(props[key], bool)
                else str(props[key])
                for key in ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy")
                if key in props
            }
            arn = sns.subscribe(
                TopicArn=props["TopicArn"],
                Protocol=props["Protocol"],
                Endpoint=props["Endpoint"],
                Attributes=attributes,
                ReturnSubscriptionArn=True,
            )["SubscriptionArn"]
            self.physical[logical_id] = Physical(arn)

    def _provision_state_machines(self) -> None:
        stepfunctions = self.client("stepfunctions")
        for logical_id, resource in self._resources("AWS::StepFunctions::StateMachine").items():
            props = resource.get("Properties", {})
            substitutions = self.resolver.resolve(props.get("DefinitionSubstitutions", {}))
            definition = self.state_machine_definition(logical_id, substitutions)
            name = self.physical[logical_id].attributes["Name"]
            arn = stepfunctions.create_state_machine(
                name=name,
                definition=definition,
                roleArn=self.resolver.resolve(props.get("RoleArn", f"arn:aws:iam::{ACCOUNT}:role/{name}")),
                type=props.get("StateMachineType", "STANDARD"),
            )["stateMachineArn"]
            self.physical[logical_id] = Physical(arn, {"Arn": arn, "Name": name})

    def state_machine_definition(self, logical_id: str, substitutions: dict[str, Any]) -> str:
        """The definition file named by DefinitionUri, with DefinitionSubstitutions applied."""
        translated = self.template.resources[logical_id]
        path = self.template.local_path(logical_id)
        if path is None:
            inline = translated["Properties"].get("Definition") or translated["Properties"].get("DefinitionString")
            if inline is None:
                raise UnresolvedError(f"{logical_id}: no definition")
            text = inline if isinstance(inline, str) else json.dumps(inline)
        else:
            text = path.read_text()
        for key, value in substitutions.items():
            text = text.replace("${" + key + "}", str(value))
        return text

    def _provision_functions(self) -> None:
        layers = {
            logical_id: self.template.local_path(logical_id)
            for logical_id in self.template.of_type("AWS::Lambda::LayerVersion")
        }
        layer_dir_by_arn = {self.ref(logical_id): path for logical_id, path in layers.items() if path}
        base = {
            **self.environment(),
            "AWS_SESSION_TOKEN": "localcloud",
            # No X-Ray daemon locally; Powertools Tracer becomes a no-op instead of failing.
            "POWERTOOLS_TRACE_DISABLED": "true",
            "PYTHONUNBUFFERED": "1",
            "PATH": os.environ.get("PATH", ""),
        }
        for logical_id, resource in self._resources("AWS::Lambda::Function").items():
            props = self._props(resource)
            code_dir = self.template.local_path(logical_id)
            if code_dir is None:
                raise UnresolvedError(f"{logical_id}: the local cloud runs functions with a local CodeUri only")
            spec = FunctionSpec(
                logical_id=logical_id,
                name=self.ref(logical_id),
                handler=props["Handler"],
                code_dir=code_dir,
                layer_dirs=[layer_dir_by_arn[arn] for arn in props.get("Layers", []) if arn in layer_dir_by_arn],
                environment={k: str(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()},
                timeout_seconds=float(props.get("Timeout", 3)),
                memory_mb=int(props.get("MemorySize", 128)),
            )
            runtime = FunctionRuntime(spec, base, self.work_dir / "logs", self.faults, self.time_scale)
            self.functions[logical_id] = runtime
        # Start the environments in parallel: each imports Powertools and pydantic once.
        starters = [threading.Thread(target=runtime.start) for runtime in self.functions.values()]
        for starter in starters:
            starter.start()
        for starter in starters:
            starter.join()

    def _provision_rules(self) -> None:
        events = self.client("events")
        sqs = self.client("sqs")
        for logical_id, resource in self._resources("AWS::Events::Rule").items():
            props = self._props(resource)
            bus = props.get("EventBusName", "default")
            name = props.get("Name", self._name(logical_id))
            arn = events.put_rule(
                Name=name,
                EventBusName=bus,
                EventPattern=json.dumps(props["EventPattern"]),
                State=props.get("State", "ENABLED"),
            )["RuleArn"]
            self.physical[logical_id] = Physical(f"{bus}|{name}", {"Arn": arn})
            targets = []
            for target in self.resolver.resolve(resource["Properties"].get("Targets", [])):
                service = target["Arn"].split(":")[2]
                if service == "sqs":
                    targets.append(_with_full_event_shape(target))
                    continue
                # moto's EventBridge only delivers to SQS (and logs/buses): bridge the rest.
                bridge_name = f"{self.stack_name}-bridge-{logical_id}-{target['Id']}"[:80]
                bridge_url = sqs.create_queue(QueueName=bridge_name)["QueueUrl"]
                self.bridges.append(Bridge(logical_id, target, bridge_url))
                targets.append(
                    _with_full_event_shape({"Id": target["Id"], "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{bridge_name}"})
                )
            if targets:
                events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        for bridge in self.bridges:
            thread = threading.Thread(
                target=self._run_bridge, args=(bridge,), name=f"bridge-{bridge.rule_id}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _provision_archives(self) -> None:
        events = self.client("events")
        for logical_id, resource in self._resources("AWS::Events::Archive").items():
            props = self._props(resource)
            name = props.get("ArchiveName", self._name(logical_id))[:48]
            arguments = {"ArchiveName": name, "EventSourceArn": props["SourceArn"]}
            if "RetentionDays" in props:
                arguments["RetentionDays"] = int(props["RetentionDays"])
            if "EventPattern" in props:
                arguments["EventPattern"] = json.dumps(props["EventPattern"])
            arn = events.create_archive(**arguments)["ArchiveArn"]
            self.physical[logical_id] = Physical(name, {"Arn": arn})

    def _provision_mappings(self) -> None:
        sqs = self.client("sqs")
        arn_to_logical = {
            physical.attributes.get("Arn"): logical_id
            for logical_id, physical in self.physical.items()
            if physical.attributes
        }
        function_by_name = {runtime.spec.name: runtime for runtime in self.functions.values()}
        for logical_id, resource in self._resources("AWS::Lambda::EventSourceMapping").items():
            props = self._props(resource)
            function = function_by_name[props["FunctionName"]]
            source_arn = props["EventSourceArn"]
            source_id = arn_to_logical[source_arn]
            source_type = self.template.resources[source_id]["Type"]
            report_failures = "ReportBatchItemFailures" in props.get("FunctionResponseTypes", [])
            mapping: EventSourceMapping
            if source_type == "AWS::SQS::Queue":
                visibility = int(
                    sqs.get_queue_attributes(QueueUrl=self.ref(source_id), AttributeNames=["VisibilityTimeout"])[
                        "Attributes"
                    ]["VisibilityTimeout"]
                )
                mapping = SqsMapping(
                    logical_id,
                    function,
                    sqs,
                    queue_url=self.ref(source_id),
                    queue_arn=source_arn,
                    batch_size=int(props.get("BatchSize", 10)),
                    report_batch_item_failures=report_failures,
                    visibility_timeout=visibility,
                    time_scale=self.time_scale,
                    faults=self.faults,
                )
            elif source_type == "AWS::Kinesis::Stream":
                destination = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
                on_failure = None
                if destination:
                    on_failure = on_failure_to_sqs(sqs, self.ref(arn_to_logical[destination]))
                mapping = KinesisMapping(
                    logical_id,
                    function,
                    self.client("kinesis"),
                    stream_name=self.ref(source_id),
                    stream_arn=source_arn,
                    batch_size=int(props.get("BatchSize", 100)),
                    starting_position=props.get("StartingPosition", "LATEST"),
                    bisect_on_error=bool(props.get("BisectBatchOnFunctionError", False)),
                    maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
                    report_batch_item_failures=report_failures,
                    on_failure=on_failure,
                )
            else:
                raise UnresolvedError(f"{logical_id}: event source {source_type} is not supported locally")
            self.mappings[logical_id] = mapping
            mapping.start()

    def _provision_http_api(self) -> None:
        routes: list[Route] = []
        for sam_id, resource in self.template.sam.get("Resources", {}).items():
            if resource.get("Type") != "AWS::Serverless::Function" or sam_id not in self.functions:
                continue
            for event in resource.get("Properties", {}).get("Events", {}).values():
                if event.get("Type") == "HttpApi":
                    properties = event.get("Properties", {})
                    routes.append(
                        Route(
                            properties.get("Method", "ANY").upper(), properties.get("Path", "/"), self.functions[sam_id]
                        )
                    )
        if routes:
            # Literal segments before parameters, as API Gateway prefers the most specific route.
            routes.sort(key=lambda route: (route.path.count("{"), -len(route.path)))
            self.http_api = HttpApi(routes, self.api_port)
            self.http_api.start()

    def _provision_alarms(self) -> None:
        cloudwatch = self.client("cloudwatch")
        for logical_id, resource in self._resources("AWS::CloudWatch::Alarm").items():
            props = self._props(resource)
            name = props.get("AlarmName", self._name(logical_id))
            arguments = {
                key: props[key]
                for key in (
                    "AlarmDescription",
                    "Namespace",
                    "MetricName",
                    "Dimensions",
                    "Statistic",
                    "Period",
                    "EvaluationPeriods",
                    "Threshold",
                    "ComparisonOperator",
                    "TreatMissingData",
                    "DatapointsToAlarm",
                    "ActionsEnabled",
                    "AlarmActions",
                    "OKActions",
                    "InsufficientDataActions",
                )
                if key in props
            }
            cloudwatch.put_metric_alarm(AlarmName=name, **arguments)
            self.physical[logical_id] = Physical(name, {"Arn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"})
        for logical_id, resource in self._resources("AWS::CloudWatch::Dashboard").items():
            props = self._props(resource)
            name = props.get("DashboardName", self._name(logical_id))
            cloudwatch.put_dashboard(DashboardName=name, DashboardBody=props["DashboardBody"])
            self.physical[logical_id] = Physical(name)
        self.alarm_evaluator = AlarmEvaluator(self).start()  # CloudWatch evaluates alarms from their creation

    # -------------------------------------------------------------- bridges --
    def _run_bridge(self, bridge: Bridge) -> None:
        sqs = self.client("sqs")
        while not self._stop.is_set():
            try:
                messages = sqs.receive_message(
                    QueueUrl=bridge.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=LONG_POLL_SECONDS
                ).get("Messages", [])
            except Exception:
                self._stop.wait(0.5)
                continue
            if not messages:
                self._stop.wait(0.1)
                continue
            bridge.busy = True
            try:
                for message in messages:
                    self._forward(bridge, json.loads(message["Body"]))
                    sqs.delete_message(QueueUrl=bridge.queue_url, ReceiptHandle=message["ReceiptHandle"])
            finally:
                bridge.busy = False

    def _forward(self, bridge: Bridge, event: dict[str, Any]) -> None:
        """Deliver an event to a target moto cannot reach, as the rule's target says; else its DLQ."""
        target = bridge.target
        service = target["Arn"].split(":")[2]
        try:
            if service == "kinesis":
                partition_path = target.get("KinesisParameters", {}).get("PartitionKeyPath")
                partition_key = json_path(event, partition_path) if partition_path else event["id"]
                if not isinstance(partition_key, str) or not partition_key:
                    raise ValueError(f"partition key path {partition_path} did not select a string")
                self.client("kinesis").put_record(
                    StreamName=target["Arn"].rsplit("/", 1)[1],
                    Data=json.dumps(event).encode(),
                    PartitionKey=partition_key,
                )
            elif service == "states":
                self.client("stepfunctions").start_execution(stateMachineArn=target["Arn"], input=json.dumps(event))
            else:
                raise UnresolvedError(f"rule target service {service} is not supported locally")
            bridge.forwarded += 1
        except Exception as error:
            dead_letter = target.get("DeadLetterConfig", {}).get("Arn")
            if not dead_letter:
                raise
            # EventBridge puts undeliverable events on the target's DLQ with the reason attached.
            queue_name = dead_letter.rsplit(":", 1)[1]
            queue_url = self.client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"]
            self.client("sqs").send_message(
                QueueUrl=queue_url,
                MessageBody=json.dumps(event),
                MessageAttributes={
                    "RULE_ARN": {"DataType": "String", "StringValue": self.attribute(bridge.rule_id, "Arn")},
                    "ERROR_MESSAGE": {"DataType": "String", "StringValue": str(error)[:256]},
                },
            )
            bridge.dead_lettered += 1

    # ---------------------------------------------------------- observation --
    def queue_depths(self, logical_id: str) -> tuple[int, int]:
        """(visible, in flight) for a queue."""
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=self.ref(logical_id),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def _queue_ids(self) -> list[str]:
        return list(self._resources("AWS::SQS::Queue"))

    def dead_letter_queue_ids(self) -> set[str]:
        """Queues that something dead-letters into (redrive policies, rule DLQs, on-failure destinations)."""
        arn_to_logical = {
            physical.attributes.get("Arn"): lid for lid, physical in self.physical.items() if physical.attributes
        }
        dlqs: set[str] = set()
        for resource in self.template.resources.values():
            properties = self.resolver.resolve(resource.get("Properties", {}))
            for arn in _dead_letter_arns(properties):
                if arn in arn_to_logical:
                    dlqs.add(arn_to_logical[arn])
        return dlqs

    def is_quiet(self) -> bool:
        """Nothing queued, in flight, running or unread anywhere in the system."""
        if any(mapping.busy for mapping in self.mappings.values()) or any(bridge.busy for bridge in self.bridges):
            return False
        dlqs = self.dead_letter_queue_ids()
        mapped = {
            mapping.queue_url
            for mapping in self.mappings.values()
            if isinstance(mapping, SqsMapping) and not mapping.paused
        }
        for logical_id in self._queue_ids():
            if logical_id in dlqs:
                continue
            visible, in_flight = self.queue_depths(logical_id)
            if self.ref(logical_id) in mapped and (visible or in_flight):
                return False
        for bridge in self.bridges:
            attributes = self.client("sqs").get_queue_attributes(
                QueueUrl=bridge.queue_url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            if int(attributes["ApproximateNumberOfMessages"]) or int(
                attributes["ApproximateNumberOfMessagesNotVisible"]
            ):
                return False
        if any(isinstance(m, KinesisMapping) and not m.caught_up and not m.paused for m in self.mappings.values()):
            return False
        stepfunctions = self.client("stepfunctions")
        for logical_id in self._resources("AWS::StepFunctions::StateMachine"):
            running = stepfunctions.list_executions(stateMachineArn=self.ref(logical_id), statusFilter="RUNNING")
            if running["executions"]:
                return False
        return True

    def wait_until_quiet(self, timeout: float = 120.0, settle_checks: int = 3, interval: float = 0.3) -> float:
        """Block until the system has been quiet for `settle_checks` checks in a row; returns seconds waited."""
        started = time.monotonic()
        streak = 0
        while streak < settle_checks:
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"the local cloud was still busy after {timeout:.0f}s: {self.busy_report()}")
            streak = streak + 1 if self.is_quiet() else 0
            time.sleep(interval)
        return time.monotonic() - started

    def busy_report(self) -> str:
        parts = []
        for logical_id in self._queue_ids():
            visible, in_flight = self.queue_depths(logical_id)
            if visible or in_flight:
                parts.append(f"{logical_id}: {visible} visible, {in_flight} in flight")
        stepfunctions = self.client("stepfunctions")
        for logical_id in self._resources("AWS::StepFunctions::StateMachine"):
            running = stepfunctions.list_executions(stateMachineArn=self.ref(logical_id), statusFilter="RUNNING")
            if running["executions"]:
                parts.append(f"{logical_id}: {len(running['executions'])} running executions")
        return "; ".join(parts) or "mappings or bridges busy"


# moto's default target input drops the event's "account"; EventBridge delivers it.
_EVENT_PATHS = {
    name: f"$.{name}"
    for name in ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")
}
_EVENT_TEMPLATE = (
    '{"version": "<version>", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", '
    '"account": "<account>", "time": <time>, "region": "<region>", "resources": <resources>, "detail": <detail>}'
)


def _with_full_event_shape(target: dict[str, Any]) -> dict[str, Any]:
    """A target that receives the whole event gets it in EventBridge's exact shape."""
    if any(key in target for key in ("Input", "InputPath", "InputTransformer")):
        return target
    return {**target, "InputTransformer": {"InputPathsMap": _EVENT_PATHS, "InputTemplate": _EVENT_TEMPLATE}}


def _dead_letter_arns(node: Any) -> Iterator[str]:
    """Every ARN a property tree names as a dead-letter or on-failure destination."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "RedrivePolicy" and isinstance(value, dict) and "deadLetterTargetArn" in value:
                yield value["deadLetterTargetArn"]
            elif key == "DeadLetterConfig" and isinstance(value, dict) and "Arn" in value:
                yield value["Arn"]
            elif key == "OnFailure" and isinstance(value, dict) and "Destination" in value:
                yield value["Destination"]
            else:
                yield from _dead_letter_arns(value)
    elif isinstance(node, list):
        for item in node:
            yield from _dead_letter_arns(item)


def json_path(document: Any, path: str) -> Any:
    """Evaluate a simple `$.a.b.c` JSONPath, as EventBridge's PartitionKeyPath uses."""
    if not path.startswith("$"):
        raise ValueError(f"not a JSONPath: {path}")
    value = document
    for part in [segment for segment in path[1:].split(".") if segment]:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value
