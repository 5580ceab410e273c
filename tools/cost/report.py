"""The cost and capacity report, as Markdown (printed by `make cost`, and README.md's generated region)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from tools.cost.model import (
    ORDER_MIX,
    QUOTA,
    RAMP,
    SERVICE,
    TEMPLATE,
    Assumptions,
    Ceiling,
    Topology,
    Usage,
    ceilings,
    costs,
    express_cost,
    gb_seconds,
    lambda_invocations,
    sqs_requests,
    stream_month,
    usage,
)
from tools.cost.saga import SagaPath

MILLION = 1_000_000
# Goals of issue 13.
MAX_USD_PER_MILLION_CONFIRMED = 150.0
MAX_HAPPY_PATH_TRANSITIONS = 6
MIN_CEILING_ORDERS_PER_SECOND = 2000.0
# The seeds' sizing (README, load test): events a day on the bus, and the spike over the average.
SEED_EVENTS_PER_DAY = 1_400_000
SEED_SPIKE = 8


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def _num(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


@dataclass
class _Context:
    paths: list[SagaPath]
    topo: Topology
    assumptions: Assumptions
    prices: dict[str, Any]
    used: list[Usage] = field(default_factory=list)
    per_path: list[dict[str, float]] = field(default_factory=list)
    found: list[Ceiling] = field(default_factory=list)

    @property
    def confirmed(self) -> Usage:
        return self.used[0]

    @property
    def ceiling(self) -> Ceiling:
        """The lowest limit at default quotas that holds whatever the order mix."""
        return next(ceiling for ceiling in self.found if ceiling.counted)

    @property
    def raised_ceiling(self) -> Ceiling:
        """The lowest limit once the quota increases the template documents are granted."""
        return min((c for c in self.found if c.counted), key=lambda ceiling: ceiling.with_increases)

    @property
    def total(self) -> float:
        return sum(self.per_path[0].values())


def _intro(ctx: _Context) -> str:
    assumptions, prices = ctx.assumptions, ctx.prices
    return (
        f"Per order, from `template.yaml` and the saga's ASL; prices and quotas: `tools/cost/prices-us-east-1.yaml` "
        f"({prices['region']} list prices as of {prices['as_of']}). Assumptions: {assumptions.record_ms:g} ms per "
        f"record in every function (`--record-ms`), batches "
        f"{'full (sustained load)' if assumptions.full_batches else 'of one record'}, "
        f"{assumptions.sizes.order_lines} SKUs per order (`--lines`), an order item of "
        f"{assumptions.sizes.order_item_kb:g} KB; event sizes are the catalog's examples; a step that times out "
        "had its service down (its command is delivered, no work is done); no retries, no redeliveries. SQS "
        "requests are the sends (EventBridge, SNS) and, per batch, one ReceiveMessage and one DeleteMessageBatch."
    )


def _usage_section(ctx: _Context, add: Callable[[str], None]) -> None:
    topo, assumptions = ctx.topo, ctx.assumptions
    used, confirmed = ctx.used, ctx.confirmed
    add("#### Usage per order")
    add("")
    add(_row("per order", *[u.path for u in used]))
    add(_row(*["---"] * (len(used) + 1)))
    rows: list[tuple[str, Any]] = [
        ("Step Functions state transitions", lambda u: u.transitions),
        ("events put on the bus", lambda u: len(u.events)),
        ("PutEvents calls", lambda u: u.put_events_calls),
        ("rule target deliveries", lambda u: u.deliveries),
        ("SQS requests (send, receive, delete)", lambda u: sqs_requests(u, topo, assumptions)),
        ("Lambda records handled", lambda u: sum(u.records.values())),
        ("Lambda invocations", lambda u: lambda_invocations(u, topo, assumptions)),
        ("Lambda GB-seconds", lambda u: sum(gb_seconds(u, topo, assumptions).values())),
        ("Kinesis records written", lambda u: u.kinesis_records),
        ("Kinesis PUT payload units (provisioned)", lambda u: u.kinesis_units),
        ("Kinesis KB written, each record rounded up (on demand)", lambda u: u.kinesis_kb),
        ("DynamoDB write request units", lambda u: sum(u.write_units.values())),
        ("DynamoDB read request units", lambda u: sum(u.read_units.values())),
        ("SNS publishes", lambda u: u.sns_publishes),
        ("task token calls (heartbeat, answer)", lambda u: u.task_token_calls),
    ]
    for label, measure in rows:
        add(_row(label, *[_num(round(float(measure(u)), 3)) for u in used]))
    add("")
    tables = sorted(set(confirmed.write_units) | set(confirmed.read_units))
    add(
        "DynamoDB units per table, confirmed order: "
        + ", ".join(f"{t} {_num(confirmed.write_units[t])} WRU / {_num(confirmed.read_units[t])} RRU" for t in tables)
        + "."
    )
    add("")
    add(f"Events of a confirmed order: {', '.join(confirmed.events)}.")
    add("")


def _cost_section(ctx: _Context, add: Callable[[str], None]) -> None:
    paths, topo, assumptions, prices = ctx.paths, ctx.topo, ctx.assumptions, ctx.prices
    used, per_path, total = ctx.used, ctx.per_path, ctx.total
    add("#### Cost per 1 million orders")
    add("")
    add(_row("service", "confirmed", "share", *[u.path for u in used[1:]]))
    add(_row(*["---"] * (len(used) + 2)))
    for service in per_path[0]:
        share = per_path[0][service] / total if total else 0.0
        add(
            _row(
                service,
                _usd(per_path[0][service] * MILLION),
                f"{share:.0%}",
                *[_usd(c[service] * MILLION) for c in per_path[1:]],
            )
        )
    add(
        _row(
            "**total**",
            f"**{_usd(total * MILLION)}**",
            "100%",
            *[_usd(sum(c.values()) * MILLION) for c in per_path[1:]],
        )
    )
    add("")
    single = replace(assumptions, full_batches=False)
    single_total = sum(costs(usage(paths[0], topo, single), topo, single, prices).values())
    month, what = stream_month(topo, prices)
    add(
        f"With one record per batch (light load) a confirmed order costs {_usd(single_total * MILLION)} per million. "
        f"Fixed, whatever the volume: {what}, {_usd(month)} a month. Not counted: "
        "CloudWatch Logs, metrics and alarms, X-Ray traces (tracing is on), KMS requests, the pollers' empty "
        "receives and the pipe's stream polling, data transfer, the notification channels' senders."
    )
    add("")


def _choices_section(ctx: _Context, add: Callable[[str], None]) -> None:
    topo, assumptions, prices = ctx.topo, ctx.assumptions, ctx.prices
    confirmed, per_path = ctx.confirmed, ctx.per_path
    add("#### Standard or Express, x86_64 or arm64")
    add("")
    standard = per_path[0]["Step Functions"]
    express = express_cost(confirmed, assumptions, prices)
    add(
        f"- **Saga:** Standard costs {_usd(standard * MILLION)} per million confirmed orders "
        f"({confirmed.transitions} transitions); an Express workflow would cost about {_usd(express * MILLION)} "
        f"(one request and 64 MB for {confirmed.service_steps} synchronous steps of {assumptions.record_ms:g} ms). "
        "But Express does not support `.waitForTaskToken`, which every saga step uses: an Express saga would have to "
        "call the services synchronously, losing the commands on the bus (decision 0001: the audit trail of "
        "commands, each service's queue, retries and DLQ), exactly-once execution (Express is at-least-once; "
        "execution names no longer guarantee one saga per order, decision 0002), the execution history, and the "
        "36-hour timeout with compensations retried for minutes (Express stops at 5 minutes). "
        "**Keep Standard**: something is lost."
    )
    x86 = per_path[0]["Lambda"]
    arm = costs(confirmed, topo, assumptions, prices, architecture="arm64")["Lambda"]
    architectures = sorted({spec.architecture for spec in topo.functions.values()})
    add(
        f"- **Functions** ({', '.join(architectures)} in the template): Lambda costs {_usd(x86 * MILLION)} per "
        f"million confirmed orders; on arm64 {_usd(arm * MILLION)} "
        f"({(1 - arm / x86) if x86 else 0:.0%} less; GB-second "
        f"${float(prices['prices']['lambda_gb_second_x86_64']['usd']):.10f} vs "
        f"${float(prices['prices']['lambda_gb_second_arm64']['usd']):.10f}), "
        f"{(x86 - arm) / ctx.total:.1%} of a confirmed order's cost. The code is pure Python and the layer's "
        "compiled dependencies (pydantic-core, wrapt) publish manylinux aarch64 wheels, so AWS would run it as is; "
        "but on an x86_64 laptop `sam build` would cross-build the layer and `sam local invoke` would run every "
        "sample under QEMU emulation, or not at all where Docker has no arm64 emulation (stock Linux). "
        "**Keep x86_64**: the local invoke is lost for that saving. To switch, set Globals `Architectures`, "
        "the layer's `CompatibleArchitectures` and its `BuildArchitecture` to arm64."
    )
    add("")


def _capacity_section(ctx: _Context, add: Callable[[str], None]) -> None:
    found = ctx.found
    add("#### Capacity (confirmed orders)")
    add("")
    add(_row("limit", "per order", "orders/s at default quotas", "with the documented increases", "raise by"))
    add(_row("---", "---", "---", "---", "---"))
    how = {
        QUOTA: "quota increase",
        TEMPLATE: "the template",
        SERVICE: "(not adjustable)",
        ORDER_MIX: "(the order mix)",
        RAMP: "(scales by itself)",
    }
    for ceiling in found:
        increased = ""
        if ceiling.raised_to is not None:
            increased = f"{_num(math.floor(ceiling.with_increases))} (quota {_num(ceiling.raised_to)})"
        at_default = _num(math.floor(ceiling.orders_per_second))
        add(_row(ceiling.limit, ceiling.per_order, at_default, increased, how[ceiling.kind]))
    add("")
    binding, raised = ctx.ceiling, ctx.raised_ceiling
    add(
        f"**Ceiling at default quotas: {_num(math.floor(binding.orders_per_second))} orders/s**, set by: "
        f"{binding.limit}. **With the quota increases `template.yaml` documents (`Metadata.QuotaIncreases`, "
        f"requested as `docs/runbook.md` says): {_num(math.floor(raised.with_increases))} orders/s**, set by: "
        f"{raised.limit}{_raised_to(raised)}."
    )
    add("")
    for ceiling in found:
        if ceiling.kind == ORDER_MIX:
            add(
                f"Not a ceiling of the system but a property of the order mix: {ceiling.limit}, and an order "
                f"writes {ceiling.per_order} on each of its SKUs' items, so any one SKU takes at most "
                f"{_num(math.floor(ceiling.orders_per_second))} orders/s however many other SKUs sell at the same time."
            )
        if ceiling.kind == RAMP:
            add(
                f"On-demand scaling ({ceiling.limit}): {_num(math.floor(ceiling.orders_per_second))} orders/s "
                "at first. A stream takes twice its 30-day peak at once and scales past that within about 15 "
                "minutes; meanwhile its writes are throttled and EventBridge retries them (AuditRule's RetryPolicy, "
                "for up to an hour, then its DLQ): the audit runs late, nothing is lost."
            )
    add(
        "Lambda scales a function by 1,000 environments every 10 seconds, so a spike from cold is absorbed in "
        "tens of seconds."
    )
    add("")


def _raised_to(ceiling: Ceiling) -> str:
    return "" if ceiling.raised_to is None else f" raised to {_num(ceiling.raised_to)}"


def _seeds_section(ctx: _Context, add: Callable[[str], None]) -> None:
    ceiling_value = ctx.ceiling.orders_per_second
    events_per_order = len(ctx.confirmed.events)
    orders_per_day = SEED_EVENTS_PER_DAY / events_per_order
    average = orders_per_day / 86_400
    peak = average * SEED_SPIKE
    covered = "covers it" if ceiling_value >= peak else "does NOT cover it"
    add("#### The seeds' sizing")
    add("")
    add(
        f"{SEED_EVENTS_PER_DAY:,} events a day at {events_per_order} events per confirmed order is "
        f"{orders_per_day:,.0f} orders a day: {average:.1f} orders/s on average, {peak:.1f} orders/s in an "
        f"{SEED_SPIKE}x spike. The ceiling at default quotas, {_num(math.floor(ceiling_value))} orders/s, {covered}."
    )
    add("")


def _goals_section(ctx: _Context, add: Callable[[str], None]) -> None:
    confirmed, found, total = ctx.confirmed, ctx.found, ctx.total
    at_default, raised = ctx.ceiling.orders_per_second, ctx.raised_ceiling.with_increases
    add("#### Goals")
    add("")
    cost_ok = total * MILLION <= MAX_USD_PER_MILLION_CONFIRMED
    transitions_ok = confirmed.transitions <= MAX_HAPPY_PATH_TRANSITIONS
    add(
        f"- {'met' if cost_ok else 'NOT met'}: <= ${MAX_USD_PER_MILLION_CONFIRMED:,.0f} per 1 million confirmed "
        f"orders ({_usd(total * MILLION)})"
    )
    add(
        f"- {'met' if transitions_ok else 'NOT met'}: <= {MAX_HAPPY_PATH_TRANSITIONS} state transitions on the "
        f"happy path ({confirmed.transitions})"
    )
    goal = MIN_CEILING_ORDERS_PER_SECOND
    if at_default >= goal:
        verdict = "met at default quotas"
    elif raised >= goal:
        verdict = "met with the documented quota increases, NOT at default quotas"
    else:
        verdict = "NOT met, even with the documented quota increases"
    add(
        f"- {verdict}: a ceiling >= {goal:,.0f} orders/s ({_num(math.floor(at_default))} at default quotas, "
        f"{_num(math.floor(raised))} with the increases)"
    )
    blocking = [c for c in found if c.counted and c.orders_per_second < goal]
    if blocking:
        add("")
        add(f"To reach {goal:,.0f} orders/s, each limit below it must grow by:")
        add("")
        for ceiling in blocking:
            factor = goal / ceiling.orders_per_second
            if ceiling.raised_to is not None:
                step = f"documented: {_num(ceiling.raised_to)}, {_num(math.floor(ceiling.with_increases))} orders/s"
            else:
                step = "request a quota increase" if ceiling.adjustable else "change the template"
            add(f"- {ceiling.limit}, {ceiling.per_order} per order: x{factor:,.1f} ({step})")


def render(paths: list[SagaPath], topo: Topology, assumptions: Assumptions, prices: dict[str, Any]) -> str:
    ctx = _Context(paths, topo, assumptions, prices)
    ctx.used = [usage(path, topo, assumptions) for path in paths]
    ctx.per_path = [costs(u, topo, assumptions, prices) for u in ctx.used]
    ctx.found = ceilings(ctx.confirmed, topo, assumptions, prices)
    lines = [_intro(ctx), ""]
    for section in (_usage_section, _cost_section, _choices_section, _capacity_section, _seeds_section, _goals_section):
        section(ctx, lines.append)
    return "\n".join(lines) + "\n"
