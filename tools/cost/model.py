"""Per-order usage on each saga path, its cost at list price, and the capacity ceiling at default quotas.

Everything structural comes from template.yaml (translated by the local cloud's loader) and the
ASL: the states an order enters, the events each state and each service puts, which rules match
each event (EventBridge's matcher, through tools/event_topology.py), the queue or stream each rule
delivers to and the function that reads it with its batch size, memory and architecture, the
functions that keep idempotency records, the pipe, the stream's shard count. What code does per
record is tools/cost/work.py. Event sizes are the catalog's example events, measured.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tools.cost.saga import TIMEOUT, SagaPath
from tools.cost.work import ANSWERED, IDEMPOTENCY, WRITERS_VARIABLE, Sizes, Work, command_work, consumer_work
from tools.event_topology import Route

PRICES_PATH = Path(__file__).with_name("prices-us-east-1.yaml")
KB = 1024
GB = 1024**3
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html: one vCPU at 1,769 MB.
LAMBDA_MB_PER_VCPU = 1769
HOURS_A_MONTH = 730
ON_DEMAND = "ON_DEMAND"
# Where template.yaml documents the account quotas to raise: Metadata.QuotaIncreases, quota name -> value.
QUOTA_INCREASES = "QuotaIncreases"


@dataclass(frozen=True)
class Assumptions:
    """What the template cannot say: how long a record takes, how full batches are, item sizes."""

    record_ms: float = 50.0  # one record's handling time in any function (an API request is one record)
    full_batches: bool = True  # each poll fills its mapping's BatchSize (sustained load); else one record a batch
    sizes: Sizes = field(default_factory=Sizes)


@dataclass(frozen=True)
class FunctionSpec:
    """A function as the template configures it."""

    name: str
    memory_mb: int
    architecture: str
    batch_size: int  # records per invocation at most (1 for an API)
    source: str  # "SQS", "Kinesis", "HttpApi", "Pipe"
    keeps_idempotency: bool  # may write the idempotency table: two writes per record (Powertools)
    parallelization: int = 1  # Kinesis: concurrent batches per shard
    in_flight: int = 1  # records of one batch handled at once (their waits on AWS overlap)


@dataclass
class Usage:
    """What one order costs the services, on one path."""

    path: str
    transitions: int = 0
    events: list[str] = field(default_factory=list)  # detail types put on the bus
    event_chunks: int = 0  # 64 KB chunks put (billed)
    put_events_calls: float = 0.0
    deliveries: int = 0
    pipe_requests: int = 0
    sqs_sends: int = 0
    records: Counter[str] = field(default_factory=Counter)  # per function
    kinesis_records: int = 0
    kinesis_units: int = 0
    kinesis_bytes: int = 0
    kinesis_kb: int = 0  # each record rounded up to 1 KB (on-demand billing)
    read_units: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))  # per table
    write_units: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    task_token_calls: int = 0
    service_steps: int = 0  # states that wait for a service's answer
    start_executions: int = 0
    sns_publishes: int = 0
    api_requests: int = 0
    notes: list[str] = field(default_factory=list)


def load_prices(path: Path = PRICES_PATH) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text()))


def unit_prices(prices: dict[str, Any]) -> dict[str, float]:
    """USD per unit, by price name (the table's `prices`)."""
    return {name: float(entry["usd"]) for name, entry in prices["prices"].items()}


def functions(template: Any) -> dict[str, FunctionSpec]:
    """Each function's memory and architecture (after Globals), event source and batch size."""
    cfn = template.resources
    specs = {}
    for name, resource in template.sam["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        translated = cfn[name]["Properties"]
        source, batch, parallel = "Pipe", 1, 1
        for event in resource["Properties"].get("Events", {}).values():
            source = event["Type"]
            batch = int(event.get("Properties", {}).get("BatchSize", 1))
            parallel = int(event.get("Properties", {}).get("ParallelizationFactor", 1))
        if source == "Pipe":
            batch = _pipe_batch_size(template, name)
        policies = json.dumps(resource["Properties"].get("Policies", []))
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        specs[name] = FunctionSpec(
            name=name,
            memory_mb=int(translated.get("MemorySize", 128)),
            architecture=str(translated.get("Architectures", ["x86_64"])[0]),
            batch_size=batch,
            source=source,
            keeps_idempotency=f'"{IDEMPOTENCY}"' in policies,
            parallelization=parallel,
            in_flight=int(variables.get(WRITERS_VARIABLE, 1)),
        )
    return specs


def _pipe_batch_size(template: Any, function: str) -> int:
    for pipe in template.of_type("AWS::Pipes::Pipe").values():
        if json.dumps(pipe["Properties"].get("Enrichment")).find(f'"{function}"') >= 0:
            return int(pipe["Properties"]["SourceParameters"]["DynamoDBStreamParameters"].get("BatchSize", 1))
    return 1


def event_sizes(examples: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Bytes of each detail type's example EventBridge event."""
    return {name: len(json.dumps(event, separators=(",", ":")).encode()) for name, event in examples.items()}


@dataclass(frozen=True)
class Stream:
    """The audit stream's capacity mode, and its shards when provisioned (0 on demand: they follow the writes)."""

    mode: str
    shards: int

    @property
    def on_demand(self) -> bool:
        return self.mode == ON_DEMAND


@dataclass(frozen=True)
class Topology:
    """Everything the walk needs from the template."""

    routes: list[Route]
    functions: dict[str, FunctionSpec]
    target_types: dict[str, str]  # rule target logical id -> resource type
    sizes: dict[str, int]  # event bytes per detail type
    intake: str  # the function behind the HTTP API
    outbox_pipe: tuple[str, str] | None  # (enrichment function, detail type it publishes)
    stream: Stream | None
    quota_increases: dict[str, float]  # documented in the template's Metadata


def topology(template: Any, found_routes: list[Route], examples: dict[str, dict[str, Any]]) -> Topology:
    specs = functions(template)
    resources = template.sam["Resources"]
    pipe = None
    for lid, resource in resources.items():
        if resource["Type"] == "AWS::Pipes::Pipe":
            enrichment = resource["Properties"].get("Enrichment", {})
            target = resource["Properties"].get("TargetParameters", {}).get("EventBridgeEventBusParameters", {})
            enrichment_id = enrichment.get("Fn::GetAtt", [lid])[0] if isinstance(enrichment, dict) else lid
            pipe = (str(enrichment_id), str(target.get("DetailType")))
    intake = next(name for name, spec in specs.items() if spec.source == "HttpApi")
    return Topology(
        routes=found_routes,
        functions=specs,
        target_types={route.target: resources[route.target]["Type"] for route in found_routes},
        sizes=event_sizes(examples),
        intake=intake,
        outbox_pipe=pipe,
        stream=stream(resources),
        quota_increases=quota_increases(template),
    )


def stream(resources: dict[str, Any]) -> Stream | None:
    """The template's (only) Kinesis stream."""
    found = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Kinesis::Stream"]
    if not found:
        return None
    if len(found) > 1:
        raise ValueError(f"expected one Kinesis stream in the template, found {len(found)}")
    mode = str(found[0].get("StreamModeDetails", {}).get("StreamMode", "PROVISIONED"))
    return Stream(mode, 0 if mode == ON_DEMAND else int(found[0].get("ShardCount", 1)))


def quota_increases(template: Any) -> dict[str, float]:
    """The account quotas the template documents as raised (Metadata.QuotaIncreases), by quota name."""
    return {name: float(value) for name, value in template.sam.get("Metadata", {}).get(QUOTA_INCREASES, {}).items()}


def usage(path: SagaPath, topo: Topology, assumptions: Assumptions) -> Usage:
    """Walk one order along the path: intake, the outbox pipe, every state entered, every delivery."""
    used = Usage(path.name)
    sizes = assumptions.sizes
    used.api_requests += 1
    _handle(used, topo, topo.intake, _known(consumer_work(topo.intake, sizes), topo.intake))
    if topo.outbox_pipe is not None:
        relay, detail_type = topo.outbox_pipe
        used.pipe_requests += 1
        _handle(used, topo, relay, _known(consumer_work(relay, sizes), relay))
        used.put_events_calls += 1 / _fill(topo.functions[relay], assumptions)
        _put(used, topo, detail_type, None, assumptions)
    for entered in path.entered:
        used.transitions += 1
        used.service_steps += entered.waits_for_callback
        if entered.puts:
            used.put_events_calls += 1
        for detail_type in entered.puts:
            outcome = (entered.error or ANSWERED) if entered.waits_for_callback else None
            _put(used, topo, detail_type, outcome, assumptions)
    return used


def _known(work: Work | None, what: str) -> Work:
    if work is None:
        raise KeyError(f"tools/cost/work.py has no profile for {what}: add what it does per record")
    return work


def _fill(spec: FunctionSpec, assumptions: Assumptions) -> int:
    return spec.batch_size if assumptions.full_batches else 1


def batch_seconds(spec: FunctionSpec, assumptions: Assumptions) -> float:
    """A batch's duration: ceil(n / in_flight) records' time, and never less than its records' CPU time.

    Lambda gives a function CPU in proportion to its memory (one vCPU at 1,769 MB), so records handled
    at once overlap their waits on AWS, not their CPU.
    """
    fill = _fill(spec, assumptions)
    waits = math.ceil(fill / spec.in_flight) * assumptions.record_ms / 1000
    work = consumer_work(spec.name, assumptions.sizes)
    if spec.in_flight == 1 or work is None or work.cpu_ms is None:
        return waits
    return max(waits, fill * work.cpu_ms / 1000 * LAMBDA_MB_PER_VCPU / spec.memory_mb)


def record_seconds(spec: FunctionSpec, assumptions: Assumptions) -> float:
    """A record's share of its batch's duration."""
    return batch_seconds(spec, assumptions) / _fill(spec, assumptions)


def _put(used: Usage, topo: Topology, detail_type: str, outcome: str | None, assumptions: Assumptions) -> None:
    """One event on the bus, delivered to every rule whose pattern matches it."""
    size = topo.sizes[detail_type]
    used.events.append(detail_type)
    used.event_chunks += math.ceil(size / (64 * KB))
    for route in topo.routes:
        if detail_type not in route.delivered:
            continue
        used.deliveries += 1
        if topo.target_types[route.target] == "AWS::Kinesis::Stream":
            used.kinesis_records += 1
            used.kinesis_units += math.ceil(size / (25 * KB))
            used.kinesis_bytes += size
            used.kinesis_kb += math.ceil(size / KB)
        else:
            used.sqs_sends += math.ceil(size / (64 * KB))
        if outcome is not None and consumer_work(route.function, assumptions.sizes) is None:
            work = _known(command_work(detail_type, outcome, assumptions.sizes), f"{detail_type} ({outcome})")
            if outcome == TIMEOUT:
                used.notes.extend(work.notes)
                continue  # the service is down: its record is never handled
        else:
            work = _known(consumer_work(route.function, assumptions.sizes), route.function)
        _handle(used, topo, route.function, work)
        if work.facts:
            used.put_events_calls += 1
            for fact in work.facts:
                _put(used, topo, fact, None, assumptions)


def _handle(used: Usage, topo: Topology, function: str, work: Work) -> None:
    """One record handled by a function: its idempotency record, its calls."""
    used.records[function] += 1
    if topo.functions[function].keeps_idempotency:
        # Powertools: PutItem INPROGRESS, then UpdateItem COMPLETED, each under 1 KB.
        used.write_units[IDEMPOTENCY] += 2
    for units in work.units:
        used.read_units[units.table] += units.read
        used.write_units[units.table] += units.write
    used.task_token_calls += work.task_token_calls
    used.start_executions += work.start_executions
    used.sns_publishes += work.sns_publishes
    used.sqs_sends += work.sns_publishes  # SNS delivers each notification to one channel queue


# ------------------------------------------------------------------------------------------- cost --
def lambda_invocations(used: Usage, topo: Topology, assumptions: Assumptions) -> float:
    return sum(records / _fill(topo.functions[name], assumptions) for name, records in used.records.items())


def gb_seconds(
    used: Usage, topo: Topology, assumptions: Assumptions, architecture: str | None = None
) -> dict[str, float]:
    """GB-seconds per architecture (the template's, or all on `architecture`)."""
    found: defaultdict[str, float] = defaultdict(float)
    for name, records in used.records.items():
        spec = topo.functions[name]
        # Billed per millisecond: a batch's duration is its records' time, less what they overlap.
        found[architecture or spec.architecture] += records * record_seconds(spec, assumptions) * spec.memory_mb / 1024
    return dict(found)


def sqs_requests(used: Usage, topo: Topology, assumptions: Assumptions) -> float:
    """Sends by EventBridge and SNS, and per batch one ReceiveMessage and one DeleteMessageBatch by the poller."""
    polled = sum(
        2 * records / _fill(topo.functions[name], assumptions)
        for name, records in used.records.items()
        if topo.functions[name].source == "SQS"
    )
    return used.sqs_sends + polled


def costs(
    used: Usage, topo: Topology, assumptions: Assumptions, prices: dict[str, Any], architecture: str | None = None
) -> dict[str, float]:
    """USD per order, per service."""
    price = unit_prices(prices)
    compute = sum(
        seconds * price[f"lambda_gb_second_{arch}"]
        for arch, seconds in gb_seconds(used, topo, assumptions, architecture).items()
    )
    return {
        "Step Functions": used.transitions * price["stepfunctions_standard_transition"],
        "EventBridge": used.event_chunks * price["eventbridge_custom_event"]
        + used.pipe_requests * price["eventbridge_pipes_request"],
        "SQS": sqs_requests(used, topo, assumptions) * price["sqs_standard_request"],
        "Lambda": lambda_invocations(used, topo, assumptions) * price["lambda_request"] + compute,
        "Kinesis": _kinesis_cost(used, topo, price),
        "DynamoDB": sum(used.write_units.values()) * price["dynamodb_write_request_unit"]
        + sum(used.read_units.values()) * price["dynamodb_read_request_unit"],
        "SNS": used.sns_publishes * price["sns_publish"],
        "API Gateway": used.api_requests * price["apigateway_http_request"],
    }


def _kinesis_cost(used: Usage, topo: Topology, price: dict[str, float]) -> float:
    if topo.stream is not None and topo.stream.on_demand:
        # Written once, read once by the one consumer (the auditor); each record rounded up to 1 KB.
        per_gb = price["kinesis_on_demand_gb_ingested"] + price["kinesis_on_demand_gb_retrieved"]
        return used.kinesis_kb * KB / GB * per_gb
    return used.kinesis_units * price["kinesis_put_payload_unit"]


def stream_month(topo: Topology, prices: dict[str, Any]) -> tuple[float, str]:
    """The stream's fixed cost a month, whatever the volume, and what it is."""
    price = unit_prices(prices)
    if topo.stream is None:
        return 0.0, "no stream"
    if topo.stream.on_demand:
        return price["kinesis_on_demand_stream_hour"] * HOURS_A_MONTH, "the on-demand audit stream"
    return price["kinesis_shard_hour"] * HOURS_A_MONTH * topo.stream.shards, f"{topo.stream.shards} Kinesis shard(s)"


def express_cost(used: Usage, assumptions: Assumptions, prices: dict[str, Any]) -> float:
    """USD per order for an Express saga calling each service synchronously (64 MB, 100 ms steps)."""
    price = unit_prices(prices)
    # Each service step becomes a synchronous call the execution waits on; billed in 100 ms steps.
    seconds = math.ceil(max(1, used.service_steps) * assumptions.record_ms / 100) / 10
    return price["stepfunctions_express_request"] + 64 / 1024 * seconds * price["stepfunctions_express_gb_second"]


# --------------------------------------------------------------------------------------- capacity --
QUOTA = "account quota"  # adjustable: Service Quotas
TEMPLATE = "template"  # the template's own sizing
SERVICE = "service limit"  # not adjustable
ORDER_MIX = "order mix"  # depends on what orders contain: shown, not the system's ceiling
RAMP = "ramp"  # where scaling starts: shown, not the system's ceiling


@dataclass(frozen=True)
class Ceiling:
    limit: str
    orders_per_second: float  # at default quotas
    per_order: str
    kind: str
    quota: str | None = None  # the quota's name in the price table
    raised_to: float | None = None  # the quota's value documented in the template's Metadata
    raised_orders_per_second: float | None = None  # orders/s at that value

    @property
    def counted(self) -> bool:
        """Whether it bounds the system whatever the order mix, once scaled."""
        return self.kind not in (ORDER_MIX, RAMP)

    @property
    def adjustable(self) -> bool:
        return self.kind == QUOTA

    @property
    def with_increases(self) -> float:
        """Orders/s once the documented quota increases are granted."""
        return self.orders_per_second if self.raised_orders_per_second is None else self.raised_orders_per_second


def ceilings(used: Usage, topo: Topology, assumptions: Assumptions, prices: dict[str, Any]) -> list[Ceiling]:
    """Orders/s at which each default quota (or the template's own sizing) saturates, lowest first.

    A quota the template documents as raised (Metadata.QuotaIncreases) also gets its orders/s at that value.
    """
    quota: dict[str, Any] = prices["quotas"]

    def rate(name: str, per_order: float, unit: str) -> Ceiling:
        entry = quota[name]
        limit = float(entry["value"])
        raised = topo.quota_increases.get(name)
        return Ceiling(
            f"{entry['what']}: {limit:,.0f}",
            limit / per_order if per_order else math.inf,
            f"{per_order:.3g} {unit}",
            QUOTA if entry["adjustable"] else SERVICE,
            name,
            raised,
            (raised / per_order if per_order else math.inf) if raised is not None else None,
        )

    busy = sum(records * record_seconds(topo.functions[name], assumptions) for name, records in used.records.items())
    found = [
        rate("eventbridge_put_events_per_second", used.put_events_calls, "PutEvents calls"),
        rate("eventbridge_invocations_per_second", used.deliveries, "deliveries"),
        rate("stepfunctions_start_execution_per_second", used.start_executions, "StartExecution"),
        rate("stepfunctions_state_transitions_per_second", used.transitions, "transitions"),
        rate("lambda_concurrency", busy, "concurrency-seconds"),
        rate("apigateway_http_requests_per_second", used.api_requests, "requests"),
        rate("sns_publish_per_second", used.sns_publishes, "publishes"),
    ]
    if topo.stream is not None:
        found += _stream_ceilings(used, topo, topo.stream, assumptions, quota)
    for table, units in sorted(used.write_units.items()):
        found.append(rate("dynamodb_table_write_units_per_second", units, f"WRU on {table}"))
    for table, units in sorted(used.read_units.items()):
        if units:
            found.append(rate("dynamodb_table_read_units_per_second", units, f"RRU on {table}"))
    hot = quota["dynamodb_partition_write_units_per_second"]
    found.append(
        Ceiling(
            f"{hot['what']}: {hot['value']:,}",
            float(hot["value"]) / 2,
            "2 WRU (a transactional stock update)",
            ORDER_MIX,
        )
    )
    return sorted(found, key=lambda ceiling: ceiling.orders_per_second)


def _stream_ceilings(
    used: Usage, topo: Topology, stream: Stream, assumptions: Assumptions, quota: dict[str, Any]
) -> list[Ceiling]:
    """The stream's writes, and the auditor's reads of each shard."""
    shard_records = float(quota["kinesis_shard_records_per_second"]["value"])
    shard_bytes = float(quota["kinesis_shard_bytes_per_second"]["value"])
    records, size = used.kinesis_records, used.kinesis_bytes
    found = []
    if stream.on_demand:
        most = quota["kinesis_on_demand_stream_bytes_per_second"]
        stream_ceiling = float(most["value"]) / size
        found.append(
            Ceiling(f"{most['what']} (template StreamMode ON_DEMAND)", stream_ceiling, f"{size:,} bytes", SERVICE)
        )
        start = quota["kinesis_on_demand_new_stream_records_per_second"]
        start_bytes = float(quota["kinesis_on_demand_new_stream_bytes_per_second"]["value"])
        found.append(
            Ceiling(
                f"{start['what']}: {start['value']:,} records/s and {start_bytes / 1e6:g} MB/s",
                min(float(start["value"]) / records, start_bytes / size),
                f"{records} records",
                RAMP,
            )
        )
    else:
        stream_ceiling = stream.shards * min(shard_records / records, shard_bytes / size)
        for what, limit, per_order in (
            ("1,000 records/s", shard_records / records, f"{records} records"),
            ("1 MiB/s", shard_bytes / size, f"{size:,} bytes"),
        ):
            found.append(
                Ceiling(
                    f"Kinesis writes, {stream.shards} shard(s) x {what} (template ShardCount)",
                    stream.shards * limit,
                    per_order,
                    TEMPLATE,
                )
            )
    # A shard takes at most this many of the order's records a second; the auditor must drain that many.
    shard_takes = min(shard_records, shard_bytes / (size / records))
    for spec in (spec for spec in topo.functions.values() if spec.source == "Kinesis"):
        batch = batch_seconds(spec, assumptions)
        drains = spec.parallelization * _fill(spec, assumptions) / batch
        how = (
            f"{spec.name} drains a shard at {drains:,.0f} records/s (ParallelizationFactor {spec.parallelization} "
            f"x {_fill(spec, assumptions)}-record batches of {batch:.2f} s at {spec.memory_mb} MB, "
            f"{spec.in_flight} records at once, "
            f"`{WRITERS_VARIABLE}`)"
        )
        if stream.on_demand and drains >= shard_takes:
            # Shards are added as writes grow, and the auditor drains each faster than it can be written.
            ceiling = stream_ceiling
            how += f", more than the {shard_takes:,.0f} a shard can take"
        elif stream.on_demand:
            # It falls behind a full shard; how full on-demand shards run is AWS's choice: count a new stream's.
            shards = float(quota["kinesis_on_demand_new_stream_records_per_second"]["value"]) / shard_records
            ceiling = shards * drains / used.records[spec.name]
            how += f", less than the {shard_takes:,.0f} a shard can take (counted on a new stream's {shards:g} shards)"
        else:
            ceiling = stream.shards * drains / used.records[spec.name]
        found.append(
            Ceiling(how, ceiling, f"{used.records[spec.name]} records at {assumptions.record_ms:g} ms", TEMPLATE)
        )
    return found
