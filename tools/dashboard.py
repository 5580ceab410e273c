"""The operations dashboard, derived from the template's own resources (written by tools.generate_template).

Queues, dead-letter queues, functions, state machines and stream consumers are found
by type and by how they are wired, so a new consumer appears on it without an edit.
"""

from __future__ import annotations

import json
from typing import Any

from cfnlint.decode import decode_str

from tools.cfn_yaml import Intrinsic
from tools.dead_letters import dead_letter_queues as find_dead_letter_queues

SAGA_METRICS = ("ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut")
WIDTH, HEIGHT = 12, 6


def _of_type(resources: dict[str, Any], resource_type: str) -> list[str]:
    return [logical_id for logical_id, resource in resources.items() if resource.get("Type") == resource_type]


def _metric(namespace: str, name: str, dimension: str, value: str, stat: str, label: str) -> list[Any]:
    return [namespace, name, dimension, value, {"stat": stat, "label": label}]


def _widget(title: str, metrics: list[list[Any]], index: int) -> dict[str, Any]:
    return {
        "type": "metric",
        "x": (index % 2) * WIDTH,
        "y": (index // 2) * HEIGHT,
        "width": WIDTH,
        "height": HEIGHT,
        "properties": {
            "title": title,
            "region": "${AWS::Region}",
            "view": "timeSeries",
            "stacked": False,
            "period": 60,
            "metrics": metrics,
        },
    }


def _stream_consumers(resources: dict[str, Any]) -> list[str]:
    return [
        logical_id
        for logical_id in _of_type(resources, "AWS::Serverless::Function")
        if any(
            event.get("Type") == "Kinesis"
            for event in resources[logical_id].get("Properties", {}).get("Events", {}).values()
        )
    ]


def dashboard_widgets(resources: dict[str, Any]) -> list[dict[str, Any]]:
    dlqs = find_dead_letter_queues(resources)
    queues = [lid for lid in _of_type(resources, "AWS::SQS::Queue") if lid not in dlqs]
    dead_letter_queues = [lid for lid in _of_type(resources, "AWS::SQS::Queue") if lid in dlqs]
    functions = _of_type(resources, "AWS::Serverless::Function")
    machines = _of_type(resources, "AWS::Serverless::StateMachine")

    def per_queue(metric: str, ids: list[str]) -> list[list[Any]]:
        return [_metric("AWS/SQS", metric, "QueueName", f"${{{lid}.QueueName}}", "Maximum", lid) for lid in ids]

    def per_function(metric: str, ids: list[str], stat: str = "Sum") -> list[list[Any]]:
        return [_metric("AWS/Lambda", metric, "FunctionName", f"${{{lid}}}", stat, lid) for lid in ids]

    panels = [
        ("Queue depth (visible messages)", per_queue("ApproximateNumberOfMessagesVisible", queues)),
        ("Age of oldest message (s)", per_queue("ApproximateAgeOfOldestMessage", queues)),
        ("Dead-letter queue depth", per_queue("ApproximateNumberOfMessagesVisible", dead_letter_queues)),
        (
            "Saga executions",
            [
                _metric("AWS/States", name, "StateMachineArn", f"${{{machine}}}", "Sum", name)
                for machine in machines
                for name in SAGA_METRICS
            ],
        ),
        ("Function errors", per_function("Errors", functions)),
        ("Function throttles", per_function("Throttles", functions)),
        ("Audit stream iterator age (ms)", per_function("IteratorAge", _stream_consumers(resources), "Maximum")),
    ]
    return [_widget(title, metrics, index) for index, (title, metrics) in enumerate(panels) if metrics]


def _compact_json(widgets: list[dict[str, Any]]) -> str:
    """The body as JSON a reviewer can read: a line per widget's frame and one per metric."""
    rendered = []
    for widget in widgets:
        properties = dict(widget["properties"])
        metrics = properties.pop("metrics")
        frame = json.dumps({key: value for key, value in widget.items() if key != "properties"})[:-1]
        lines = ",\n      ".join(json.dumps(metric) for metric in metrics)
        rendered.append(
            f'    {frame}, "properties": {json.dumps(properties)[:-1]}, "metrics": [\n      {lines}\n    ]}}}}'
        )
    return '{\n  "widgets": [\n' + ",\n".join(rendered) + "\n  ]\n}\n"


def render_dashboard(template_text: str) -> dict[str, Any]:
    """The OperationsDashboard resource for the template as written."""
    decoded, matches = decode_str(template_text)
    if matches or decoded is None:
        raise SystemExit(f"template.yaml does not parse: {matches}")
    resources = {lid: res for lid, res in decoded["Resources"].items() if lid != "OperationsDashboard"}
    body = _compact_json(dashboard_widgets(resources))
    return {
        "OperationsDashboard": {
            "Type": "AWS::CloudWatch::Dashboard",
            "Properties": {
                "DashboardName": Intrinsic("!Sub", "${AWS::StackName}-operations"),
                "DashboardBody": Intrinsic("!Sub", body),
            },
        }
    }
