"""Provisioners for what runs: functions, rules and their bridged targets, event source mappings, HTTP routes.

They create on moto what moto keeps (rules, bridge queues) and record on the `Stack` what
the local cloud starts afterwards: a `FunctionSpec` per function, a `BridgeSpec` per rule
target moto cannot deliver to, a `MappingSpec` per event source mapping, a `RouteSpec` per
HttpApi event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tools.localcloud.api_auth import RouteAuthorization, route_authorization
from tools.localcloud.functions import FunctionSpec
from tools.localcloud.intrinsics import UnresolvedError
from tools.localcloud.stack import ACCOUNT, REGION, Stack

MAPPING_SOURCES = ("AWS::SQS::Queue", "AWS::Kinesis::Stream")
DEFAULT_BATCH_SIZE = {"AWS::SQS::Queue": 10, "AWS::Kinesis::Stream": 100}
# moto's default target input drops the event's "account"; EventBridge delivers it.
_EVENT_FIELDS = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")
_EVENT_TEMPLATE = (
    '{"version": "<version>", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", '
    '"account": "<account>", "time": <time>, "region": "<region>", "resources": <resources>, "detail": <detail>}'
)


@dataclass(frozen=True)
class BridgeSpec:
    """A rule target moto cannot deliver to: moto delivers to `queue_url`, a bridge forwards to the target."""

    rule_id: str
    rule_arn: str
    target: dict[str, Any]
    queue_url: str


@dataclass(frozen=True)
class MappingSpec:
    """An event source mapping as the template declares it (times on AWS's clock)."""

    logical_id: str
    function_id: str
    source_id: str
    source_type: str
    source_arn: str
    batch_size: int
    batching_window: float = 0.0
    report_batch_item_failures: bool = False
    filters: tuple[dict[str, Any], ...] = ()
    enabled: bool = True
    maximum_concurrency: int | None = None  # SQS: ScalingConfig.MaximumConcurrency
    # Streams only
    starting_position: str = "LATEST"
    bisect_on_error: bool = False
    maximum_retry_attempts: int = -1
    maximum_record_age: int = -1
    retention_hours: int = 24
    on_failure_id: str | None = None


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str
    function_id: str
    authorization: RouteAuthorization = None


@dataclass(frozen=True)
class CorsSpec:
    """An HTTP API's CorsConfiguration (lower-cased header and upper-cased method names)."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False


@dataclass(frozen=True)
class ApiSettings:
    """What the template says about the HTTP API itself: CORS, default route throttling, access log format."""

    cors: CorsSpec | None = None
    rate_limit: float | None = None  # requests per second per route
    burst_limit: int | None = None
    access_log_format: str | None = None


def with_full_event_shape(target: dict[str, Any]) -> dict[str, Any]:
    """A target that receives the whole event gets it in EventBridge's exact shape."""
    if any(key in target for key in ("Input", "InputPath", "InputTransformer")):
        return target
    paths = {name: f"$.{name}" for name in _EVENT_FIELDS}
    return {**target, "InputTransformer": {"InputPathsMap": paths, "InputTemplate": _EVENT_TEMPLATE}}


def provision_functions(stack: Stack) -> None:
    """A FunctionSpec per function: its local code and layer folders, handler, environment and limits."""
    layer_dirs = {
        stack.ref(logical_id): path
        for logical_id in stack.template.of_type("AWS::Lambda::LayerVersion")
        if (path := stack.template.local_path(logical_id)) is not None
    }
    for logical_id, props, _ in stack.declared("AWS::Lambda::Function"):
        code_dir = stack.template.local_path(logical_id)
        if code_dir is None:
            raise UnresolvedError(f"{logical_id}: the local cloud runs functions with a local CodeUri only")
        stack.function_specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            name=stack.ref(logical_id),
            handler=props["Handler"],
            code_dir=code_dir,
            layer_dirs=[layer_dirs[arn] for arn in props.get("Layers", []) if arn in layer_dirs],
            environment={k: str(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()},
            timeout_seconds=float(props.get("Timeout", 3)),
            memory_mb=int(props.get("MemorySize", 128)),
            reserved_concurrency=(
                int(props["ReservedConcurrentExecutions"]) if "ReservedConcurrentExecutions" in props else None
            ),
        )


def provision_rules(stack: Stack) -> None:
    """Rules on moto's EventBridge; SQS targets as declared, others through a bridge queue."""
    events, sqs = stack.client("events"), stack.client("sqs")
    for logical_id, props, name in stack.declared("AWS::Events::Rule", "Name"):
        bus = props.get("EventBusName", "default")
        arn = events.put_rule(
            Name=name,
            EventBusName=bus,
            EventPattern=json.dumps(props["EventPattern"]),
            State=props.get("State", "ENABLED"),
        )["RuleArn"]
        stack.add(logical_id, f"{bus}|{name}", Arn=arn)
        targets = []
        for target in props.get("Targets", []):
            if target["Arn"].split(":")[2] == "sqs":
                targets.append(with_full_event_shape(target))
                continue
            # moto's EventBridge only delivers to SQS (and logs/buses): bridge the rest.
            bridge_name = f"{stack.stack_name}-bridge-{logical_id}-{target['Id']}"[:80]
            bridge_url = sqs.create_queue(QueueName=bridge_name)["QueueUrl"]
            stack.bridge_specs.append(BridgeSpec(logical_id, arn, target, bridge_url))
            bridge_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{bridge_name}"
            targets.append(with_full_event_shape({"Id": target["Id"], "Arn": bridge_arn}))
        if targets:
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)


def filter_patterns(props: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """FilterCriteria's patterns (each a JSON string in the template), parsed."""
    filters = props.get("FilterCriteria", {}).get("Filters", [])
    return tuple(json.loads(f["Pattern"]) if isinstance(f["Pattern"], str) else f["Pattern"] for f in filters)


def mapping_spec(stack: Stack, logical_id: str, props: dict[str, Any]) -> MappingSpec:
    """What a resolved AWS::Lambda::EventSourceMapping says, with the source and function found by ARN and name."""
    function_id = next((lid for lid, spec in stack.function_specs.items() if spec.name == props["FunctionName"]), None)
    source_id = stack.logical_id_of_arn(props["EventSourceArn"])
    if function_id is None or source_id is None:
        raise UnresolvedError(f"{logical_id}: its function or event source is not in the template")
    source_type = stack.template.resources[source_id]["Type"]
    if source_type not in MAPPING_SOURCES:
        raise UnresolvedError(f"{logical_id}: event source {source_type} is not supported locally")
    destination = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    stream_props = stack.props(stack.template.resources[source_id]) if source_type == "AWS::Kinesis::Stream" else {}
    return MappingSpec(
        logical_id=logical_id,
        function_id=function_id,
        source_id=source_id,
        source_type=source_type,
        source_arn=props["EventSourceArn"],
        batch_size=int(props.get("BatchSize", DEFAULT_BATCH_SIZE[source_type])),
        batching_window=float(props.get("MaximumBatchingWindowInSeconds", 0)),
        report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
        filters=filter_patterns(props),
        enabled=bool(props.get("Enabled", True)),
        maximum_concurrency=(
            int(props["ScalingConfig"]["MaximumConcurrency"])
            if "MaximumConcurrency" in props.get("ScalingConfig", {})
            else None
        ),
        starting_position=props.get("StartingPosition", "LATEST"),
        bisect_on_error=bool(props.get("BisectBatchOnFunctionError", False)),
        maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
        maximum_record_age=int(props.get("MaximumRecordAgeInSeconds", -1)),
        retention_hours=int(stream_props.get("RetentionPeriodHours", 24)),
        on_failure_id=stack.logical_id_of_arn(destination) if destination else None,
    )


def provision_mappings(stack: Stack) -> None:
    for logical_id, props, _ in stack.declared("AWS::Lambda::EventSourceMapping"):
        stack.mapping_specs[logical_id] = mapping_spec(stack, logical_id, props)


def provision_http_api(stack: Stack) -> None:
    """A route per HttpApi event of a function, with the authorization API Gateway gives it (from the
    translated API's OpenAPI body), and the API's CORS, throttling and access log settings.

    Literal segments are matched before parameters, as API Gateway prefers.
    """
    routes = []
    apis: set[str] = set()
    for sam_id, resource in stack.template.sam.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function" or sam_id not in stack.function_specs:
            continue
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event.get("Type") == "HttpApi":
                properties = event.get("Properties", {})
                api_id = properties.get("ApiId", {}).get("Ref", "ServerlessHttpApi")
                apis.add(api_id)
                method, path = properties.get("Method", "ANY").upper(), properties.get("Path", "/")
                body = stack.resolver.resolve(stack.template.resources.get(api_id, {}).get("Properties", {}))
                authorization = route_authorization(body.get("Body", {}), path, method)
                routes.append(RouteSpec(method, path, sam_id, authorization))
    stack.routes = sorted(routes, key=lambda route: (route.path.count("{"), -len(route.path)))
    if len(apis) == 1:
        stack.api_settings = api_settings(stack, apis.pop())


def api_settings(stack: Stack, api_id: str) -> ApiSettings:
    """The SAM HttpApi's CorsConfiguration, DefaultRouteSettings and AccessLogSettings, resolved."""
    props = stack.resolver.resolve(stack.template.sam.get("Resources", {}).get(api_id, {}).get("Properties", {}))
    cors = props.get("CorsConfiguration")
    throttle = props.get("DefaultRouteSettings", {})
    return ApiSettings(
        cors=CorsSpec(
            allow_origins=tuple(cors.get("AllowOrigins", [])),
            allow_methods=tuple(method.upper() for method in cors.get("AllowMethods", [])),
            allow_headers=tuple(header.lower() for header in cors.get("AllowHeaders", [])),
            expose_headers=tuple(header.lower() for header in cors.get("ExposeHeaders", [])),
            max_age=int(cors["MaxAge"]) if "MaxAge" in cors else None,
            allow_credentials=bool(cors.get("AllowCredentials", False)),
        )
        if isinstance(cors, dict)
        else None,
        rate_limit=float(throttle["ThrottlingRateLimit"]) if "ThrottlingRateLimit" in throttle else None,
        burst_limit=int(throttle["ThrottlingBurstLimit"]) if "ThrottlingBurstLimit" in throttle else None,
        access_log_format=props.get("AccessLogSettings", {}).get("Format"),
    )
