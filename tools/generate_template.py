"""Write the generated parts of template.yaml: the schema registry from the event models, every consumer's
block from consumers.yaml, and the dashboard.

python -m tools.generate_template          # (re)write the fenced regions of template.yaml
python -m tools.generate_template --check  # exit 1 if they are stale

A generator, not `Fn::ForEach`: the output is plain SAM that `sam build`, `sam validate`,
cfn-lint, `sam local invoke` and the local cloud read as they are (docs/decisions/0012).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from tools.cfn_yaml import CfnDumper, CfnLoader, get_att, ref, sub
from tools.dashboard import render_dashboard
from tools.generated_file import write_or_check
from tools.lambda_code import REPO_ROOT, use_lambda_code

TEMPLATE = REPO_ROOT / "template.yaml"
DECLARATIONS = REPO_ROOT / "consumers.yaml"

DEFAULT_TIMEOUT = 10  # Globals: Function: Timeout
BATCHING_WINDOW = 1
MAX_RECEIVE_COUNT = 3
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
SCHEMA_REGISTRY = "EventSchemaRegistry"
RUNBOOK = "Runbook: docs/runbook.md"  # every alarm's description ends with its section of the runbook

# checkov findings that do not apply to a consumer, each with the reason a reviewer reads in the template.
QUEUE_ENCRYPTED = "Encrypted at rest with SSE-SQS (SqsManagedSseEnabled); the check only recognises KmsMasterKeyId."
FUNCTION_SKIPS = {
    "CKV_AWS_116": "Invoked synchronously by its SQS event source mapping, never asynchronously: a failed record "
    "goes to the queue's DLQ, which is where a DLQ works for it.",
    "CKV_AWS_117": "Calls only AWS APIs (TLS and IAM); there is nothing in a VPC to reach, and a VPC would add NAT "
    "or endpoints for nothing.",
    "CKV_AWS_173": "Its environment holds resource names and settings, never secrets; Lambda encrypts it at rest.",
}
UNCAPPED = (
    "SQS-triggered: the queue absorbs bursts, and reserved concurrency would throttle the poller and push healthy "
    "messages toward the DLQ; a consumer whose downstream needs a cap declares max_concurrency (payment)."
)


def checkov_skips(skips: dict[str, str]) -> dict[str, Any]:
    """A resource's Metadata that suppresses checkov findings, one reason each."""
    return {"checkov": {"skip": [{"id": check, "comment": reason} for check, reason in sorted(skips.items())]}}


def load_declarations(path: Path = DECLARATIONS) -> dict[str, dict[str, Any]]:
    consumers: dict[str, dict[str, Any]] = yaml.load(path.read_text(), Loader=CfnLoader)["consumers"]
    return consumers


def event_pattern(events: list[str]) -> dict[str, list[str]]:
    from orderflow.catalog import EVENT_TYPES

    unknown = [name for name in events if name not in EVENT_TYPES]
    if unknown:
        raise SystemExit(f"consumers.yaml: no event model for {unknown}")
    sources = list(dict.fromkeys(EVENT_TYPES[name].SOURCE for name in events))
    return {"source": sources, "detail-type": list(events)}


def alarm(description: str, metric: str, queue_id: str, evaluation_periods: int, threshold: int) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "Namespace": "AWS/SQS",
            "MetricName": metric,
            "Dimensions": [{"Name": "QueueName", "Value": get_att(queue_id, "QueueName")}],
            "Statistic": "Maximum",
            "Period": 60,
            "EvaluationPeriods": evaluation_periods,
            "Threshold": threshold,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [ref("OpsTopic")],
        },
    }


# Every consumer parses events, and orderflow.parsing reads a claim-checked detail from the bucket.
CLAIM_CHECK_READ_POLICY: dict[str, Any] = {"S3ReadPolicy": {"BucketName": ref("ClaimCheckBucket")}}
# A publisher stores a detail too large for the bus; only PutObject (SAM's S3WritePolicy would also let it
# rewrite the bucket's ACLs and lifecycle), and only under the claim-check prefix.
CLAIM_CHECK_WRITE_POLICY: dict[str, Any] = {
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": {"Fn::Sub": "${ClaimCheckBucket.Arn}/events/*"}}
    ]
}


def function_policies(declaration: dict[str, Any]) -> list[Any]:
    """Least privilege: its own tables, the idempotency table unless it keeps no records there, reading
    claim-checks, and what its flags grant."""
    tables = list(declaration.get("tables", {}).values())
    if not declaration.get("applies_each_event_once"):
        tables.append("IdempotencyTable")
    policies: list[Any] = [{"DynamoDBCrudPolicy": {"TableName": ref(table)}} for table in tables]
    policies.append(CLAIM_CHECK_READ_POLICY)
    if declaration.get("publishes"):
        policies.append({"EventBridgePutEventsPolicy": {"EventBusName": ref("EventBus")}})
        policies.append(CLAIM_CHECK_WRITE_POLICY)
    if declaration.get("answers_saga"):
        actions = ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"]
        policies.append({"Statement": [{"Effect": "Allow", "Action": actions, "Resource": ref("OrderSaga")}]})
    return policies + list(declaration.get("policies", []))


def consumer_resources(name: str, declaration: dict[str, Any]) -> dict[str, Any]:
    """The eight resources of one consumer, in the order a reader follows an event through them."""
    service = declaration["service"]
    rule, queue, dlq = f"{name}Rule", f"{name}Queue", f"{name}DLQ"
    timeout = int(declaration.get("timeout", DEFAULT_TIMEOUT))
    environment = {
        "POWERTOOLS_SERVICE_NAME": service,
        **{variable: ref(table) for variable, table in declaration.get("tables", {}).items()},
        **declaration.get("environment", {}),
    }
    function_properties: dict[str, Any] = {"Description": declaration["description"]}
    if "code" in declaration:
        function_properties["CodeUri"] = declaration["code"]
    if "handler" in declaration:
        function_properties["Handler"] = declaration["handler"]
    if "timeout" in declaration:
        function_properties["Timeout"] = timeout
    cap = declaration.get("max_concurrency")
    if cap is not None:
        # Reserved = the mapping's maximum: the downstream sees at most `cap` calls, and the poller is never throttled.
        function_properties["ReservedConcurrentExecutions"] = int(cap)
    queue_event: dict[str, Any] = {
        "Queue": get_att(queue, "Arn"),
        "BatchSize": int(declaration.get("batch_size", 10)),
        "MaximumBatchingWindowInSeconds": BATCHING_WINDOW,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
    }
    if cap is not None:
        queue_event["ScalingConfig"] = {"MaximumConcurrency": int(cap)}
    function_skips = FUNCTION_SKIPS if cap is not None else {**FUNCTION_SKIPS, "CKV_AWS_115": UNCAPPED}
    function_properties |= {
        "Environment": {"Variables": environment},
        "Policies": function_policies(declaration),
        "Events": {"Queue": {"Type": "SQS", "Properties": queue_event}},
    }
    return {
        rule: {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Description": f"The events {service} takes.",
                "EventBusName": ref("EventBus"),
                "EventPattern": event_pattern(declaration["events"]),
                "Targets": [
                    {
                        "Id": queue,
                        "Arn": get_att(queue, "Arn"),
                        "DeadLetterConfig": {"Arn": get_att(dlq, "Arn")},
                        "RetryPolicy": {"MaximumRetryAttempts": 20, "MaximumEventAgeInSeconds": 3600},
                    }
                ],
            },
        },
        queue: {
            "Type": "AWS::SQS::Queue",
            "Metadata": checkov_skips({"CKV_AWS_27": QUEUE_ENCRYPTED}),
            "Properties": {
                "SqsManagedSseEnabled": True,
                # AWS: at least 6 x the function timeout plus the batching window.
                "VisibilityTimeout": 6 * timeout + BATCHING_WINDOW,
                "RedrivePolicy": {"deadLetterTargetArn": get_att(dlq, "Arn"), "maxReceiveCount": MAX_RECEIVE_COUNT},
            },
        },
        dlq: {
            "Type": "AWS::SQS::Queue",
            "Metadata": checkov_skips({"CKV_AWS_27": QUEUE_ENCRYPTED}),
            "Properties": {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": DLQ_RETENTION_SECONDS},
        },
        f"{name}QueuePolicy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [ref(queue), ref(dlq)],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "events.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": [get_att(queue, "Arn"), get_att(dlq, "Arn")],
                            "Condition": {"ArnEquals": {"aws:SourceArn": get_att(rule, "Arn")}},
                        }
                    ],
                },
            },
        },
        f"{name}DLQAlarm": alarm(
            f"Events the {service} consumer could not apply are waiting in its DLQ. {RUNBOOK}#consumer-dlq",
            "ApproximateNumberOfMessagesVisible",
            dlq,
            evaluation_periods=1,
            threshold=0,
        ),
        f"{name}QueueAgeAlarm": alarm(
            f"The {service} consumer is falling behind its queue. {RUNBOOK}#consumer-queue-age",
            "ApproximateAgeOfOldestMessage",
            queue,
            5,
            300,
        ),
        f"{name}Function": {
            "Type": "AWS::Serverless::Function",
            "Metadata": checkov_skips(function_skips),
            "Properties": function_properties,
        },
    }


# PyYAML single-quotes every tagged scalar; a plain logical id reads better and means the same.
_UNQUOTE_INTRINSIC = re.compile(r"(!Ref|!GetAtt) '([A-Za-z0-9:.]+)'")


def to_yaml(resources: dict[str, Any]) -> str:
    """Resources as YAML indented under `Resources:`, one blank line between them."""
    blocks = []
    for logical_id, resource in resources.items():
        text = yaml.dump({logical_id: resource}, Dumper=CfnDumper, sort_keys=False, width=118, default_flow_style=False)
        text = _UNQUOTE_INTRINSIC.sub(r"\1 \2", text)
        blocks.append("".join(f"  {line}\n" if line else "\n" for line in text.splitlines()))
    return "\n".join(blocks)


def fence(region: str) -> re.Pattern[str]:
    return re.compile(
        rf"(  # >>> generated: {region} .*?\n)(.*?)(  # <<< generated: {region}\n)",
        re.DOTALL,
    )


def replace_region(text: str, region: str, body: str) -> str:
    pattern = fence(region)
    if not pattern.search(text):
        raise SystemExit(f"template.yaml has no fenced region '{region}'")
    return pattern.sub(lambda match: match.group(1) + body + match.group(3), text, count=1)


def schema_registry() -> dict[str, Any]:
    """EventBridge's schema registry: one JSONSchemaDraft4 schema per event type, as schemas/ holds it.

    Named `<source>@<detail type>` as EventBridge's schema discovery names schemas, so code bindings
    and the console find them where they look; the registry versions each schema on every change.
    """
    from orderflow.catalog import CATALOG
    from tools.generate_schemas import event_schema

    resources: dict[str, Any] = {
        SCHEMA_REGISTRY: {
            "Type": "AWS::EventSchemas::Registry",
            "Properties": {
                "RegistryName": sub("${AWS::StackName}-events"),
                "Description": "The contract of every orderflow event, generated from the event models.",
            },
        }
    }
    for event_type in CATALOG:
        resources[f"{event_type.DETAIL_TYPE}EventSchema"] = {
            "Type": "AWS::EventSchemas::Schema",
            "Properties": {
                "RegistryName": get_att(SCHEMA_REGISTRY, "RegistryName"),
                "SchemaName": f"{event_type.SOURCE}@{event_type.DETAIL_TYPE}",
                "Type": "JSONSchemaDraft4",
                "Description": f"detail of {event_type.DETAIL_TYPE} ({event_type.KIND}), version {event_type.VERSION}",
                "Content": json.dumps(event_schema(event_type), sort_keys=True, separators=(",", ":")),
            },
        }
    return resources


def render(template_text: str, declarations: dict[str, dict[str, Any]]) -> str:
    """template.yaml with every generated region rewritten."""
    consumers: dict[str, Any] = {}
    for name, declaration in declarations.items():
        consumers |= consumer_resources(name, declaration)
    with_schemas = replace_region(template_text, "schemas", to_yaml(schema_registry()))
    with_consumers = replace_region(with_schemas, "consumers", to_yaml(consumers))
    return replace_region(with_consumers, "dashboard", to_yaml(render_dashboard(with_consumers)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if template.yaml's generated parts are stale")
    args = parser.parse_args(argv)
    use_lambda_code()
    return write_or_check(
        TEMPLATE, render(TEMPLATE.read_text(), load_declarations()), args.check, make_target="template"
    )


if __name__ == "__main__":
    sys.exit(main())
