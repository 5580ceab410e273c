"""The local cloud's provisioners, each on moto in-process, from a small CloudFormation template."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tools.dead_letters import dead_letter_queues, dead_letter_targets
from tools.localcloud.provision_data import name_passive_resources, provision_tables
from tools.localcloud.provision_messaging import provision_buses, provision_queues, provision_subscriptions
from tools.localcloud.provision_runtime import (
    MappingSpec,
    provision_functions,
    provision_http_api,
    provision_mappings,
    provision_rules,
)
from tools.localcloud.provisioners import provision
from tools.localcloud.stack import Stack, stack_parameters
from tools.localcloud.template import REPO_ROOT, Template

pytestmark = pytest.mark.usefixtures("aws")


def client(service: str) -> Any:
    return boto3.client(service)  # type: ignore[call-overload]


def stack_of(resources: dict[str, Any], sam: dict[str, Any] | None = None, **local_paths: Any) -> Stack:
    template = Template(sam=sam or {"Resources": {}}, cfn={"Resources": resources}, local_paths=local_paths)
    return Stack(template, "unit", stack_parameters(template, "unit", {}), client)


def getatt(logical_id: str, attribute: str = "Arn") -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def test_a_queue_may_name_a_dlq_declared_after_it_and_a_fifo_queue_gets_its_suffix() -> None:
    stack = stack_of(
        {
            "Work": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "VisibilityTimeout": 60,
                    "SqsManagedSseEnabled": True,
                    "RedrivePolicy": {"deadLetterTargetArn": getatt("WorkDLQ"), "maxReceiveCount": 3},
                },
            },
            "WorkDLQ": {"Type": "AWS::SQS::Queue", "Properties": {"FifoQueue": False}},
            "Ordered": {"Type": "AWS::SQS::Queue", "Properties": {"FifoQueue": True}},
        }
    )
    provision_queues(stack)
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=stack.ref("Work"), AttributeNames=["All"])
    assert attributes["Attributes"]["VisibilityTimeout"] == "60"
    assert json.loads(attributes["Attributes"]["RedrivePolicy"])["deadLetterTargetArn"].endswith(":unit-WorkDLQ")
    assert stack.attribute("Ordered", "QueueName") == "unit-Ordered.fifo"
    assert stack.logical_id_of_arn(stack.attribute("WorkDLQ", "Arn")) == "WorkDLQ"


def test_a_table_has_its_keys_indexes_and_time_to_live() -> None:
    keys = {
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "TimeToLiveSpecification": {"AttributeName": "expires", "Enabled": True},
        "BillingMode": "PAY_PER_REQUEST",
    }
    stack = stack_of({"Things": {"Type": "AWS::DynamoDB::Table", "Properties": keys}})
    provision_tables(stack)
    dynamodb = boto3.client("dynamodb")
    ttl = dynamodb.describe_time_to_live(TableName="unit-Things")["TimeToLiveDescription"]
    assert ttl == {"AttributeName": "expires", "TimeToLiveStatus": "ENABLED"}
    assert stack.attribute("Things", "Arn").endswith(":table/unit-Things")


def test_a_subscription_gets_its_policies_as_json_and_raw_delivery_as_a_boolean() -> None:
    stack = stack_of(
        {
            "Topic": {"Type": "AWS::SNS::Topic"},
            "Inbox": {"Type": "AWS::SQS::Queue"},
            "Sub": {
                "Type": "AWS::SNS::Subscription",
                "Properties": {
                    "TopicArn": {"Ref": "Topic"},
                    "Protocol": "sqs",
                    "Endpoint": getatt("Inbox"),
                    "RawMessageDelivery": True,
                    "FilterPolicy": {"channel": ["email"]},
                },
            },
        }
    )
    stack.add("Topic", boto3.client("sns").create_topic(Name="topic")["TopicArn"])
    provision_queues(stack)
    provision_subscriptions(stack)
    attributes = boto3.client("sns").get_subscription_attributes(SubscriptionArn=stack.ref("Sub"))["Attributes"]
    assert attributes["RawMessageDelivery"] == "true"
    assert json.loads(attributes["FilterPolicy"]) == {"channel": ["email"]}


def test_a_function_may_name_itself() -> None:
    stack = stack_of(
        {
            "Named": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "chosen", "Handler": "h.h"}},
            "Unnamed": {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "h.h"}},
        }
    )
    name_passive_resources(stack)
    assert stack.ref("Named") == "chosen"
    assert stack.attribute("Unnamed", "Arn").endswith(":function:unit-Unnamed")


def rule_stack() -> Stack:
    return stack_of(
        {
            "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "bus"}},
            "Inbox": {"Type": "AWS::SQS::Queue"},
            "Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1, "RetentionPeriodHours": 48}},
            "Rule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "EventBusName": {"Ref": "Bus"},
                    "EventPattern": {"source": ["probe"]},
                    "Targets": [
                        {"Id": "queue", "Arn": getatt("Inbox")},
                        {"Id": "stream", "Arn": getatt("Stream"), "RetryPolicy": {"MaximumRetryAttempts": 2}},
                    ],
                },
            },
        }
    )


def test_a_rule_delivers_the_whole_event_to_a_queue_and_bridges_a_stream_target() -> None:
    stack = rule_stack()
    provision_buses(stack)
    provision_queues(stack)
    stack.add("Stream", "unit-Stream", Arn="arn:aws:kinesis:us-east-1:123456789012:stream/unit-Stream")
    provision_rules(stack)
    targets = boto3.client("events").list_targets_by_rule(Rule="unit-Rule", EventBusName="bus")["Targets"]
    assert {target["Id"] for target in targets} == {"queue", "stream"}
    assert all("<account>" in target["InputTransformer"]["InputTemplate"] for target in targets)
    (bridge,) = stack.bridge_specs
    assert bridge.rule_arn == stack.attribute("Rule", "Arn")
    assert bridge.target["RetryPolicy"] == {"MaximumRetryAttempts": 2}
    assert bridge.queue_url.endswith("unit-bridge-Rule-stream")


def test_a_mapping_spec_takes_the_defaults_aws_documents_and_parses_its_filters() -> None:
    function = {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "h.h"}}
    stack = stack_of(
        {
            **rule_stack().template.resources,
            "Failures": {"Type": "AWS::SQS::Queue"},
            "Consumer": function,
            "QueueMapping": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "FunctionName": {"Ref": "Consumer"},
                    "EventSourceArn": getatt("Inbox"),
                    "MaximumBatchingWindowInSeconds": 2,
                    "FilterCriteria": {"Filters": [{"Pattern": '{"body": {"kind": ["a"]}}'}]},
                },
            },
            "StreamMapping": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "FunctionName": {"Ref": "Consumer"},
                    "EventSourceArn": getatt("Stream"),
                    "StartingPosition": "TRIM_HORIZON",
                    "DestinationConfig": {"OnFailure": {"Destination": getatt("Failures")}},
                },
            },
        },
        Consumer=REPO_ROOT,
    )
    name_passive_resources(stack)
    provision_queues(stack)
    stack.add("Stream", "unit-Stream", Arn="arn:aws:kinesis:us-east-1:123456789012:stream/unit-Stream")
    provision_functions(stack)
    provision_mappings(stack)
    queue, stream = stack.mapping_specs["QueueMapping"], stack.mapping_specs["StreamMapping"]
    assert (queue.batch_size, queue.batching_window, queue.filters) == (10, 2.0, ({"body": {"kind": ["a"]}},))
    assert queue.source_id == "Inbox"
    assert queue.function_id == "Consumer"
    assert isinstance(stream, MappingSpec)
    assert (stream.batch_size, stream.maximum_retry_attempts, stream.maximum_record_age) == (100, -1, -1)
    assert (stream.retention_hours, stream.on_failure_id) == (48, "Failures")


def test_routes_put_literal_segments_before_parameters() -> None:
    events = {
        "One": {"Type": "HttpApi", "Properties": {"Method": "get", "Path": "/orders/{id}"}},
        "Events": {"Type": "HttpApi", "Properties": {"Method": "get", "Path": "/orders/{id}/events"}},
        "Search": {"Type": "HttpApi", "Properties": {"Method": "get", "Path": "/orders/search"}},
    }
    sam = {"Resources": {"Api": {"Type": "AWS::Serverless::Function", "Properties": {"Events": events}}}}
    stack = stack_of({"Api": {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "h.h"}}}, sam, Api=REPO_ROOT)
    name_passive_resources(stack)
    provision_functions(stack)
    provision_http_api(stack)
    assert [route.path for route in stack.routes] == ["/orders/search", "/orders/{id}/events", "/orders/{id}"]
    assert {route.method for route in stack.routes} == {"GET"}


def test_the_registry_provisions_a_whole_template_in_an_order_its_references_allow() -> None:
    stack = rule_stack()
    provision(stack)
    assert stack.ref("Stream") == "unit-Stream"
    assert len(stack.bridge_specs) == 1


def test_one_helper_finds_dead_letter_queues_in_a_template_and_in_resolved_properties() -> None:
    resources: dict[str, dict[str, Any]] = {
        "Work": {"Type": "AWS::SQS::Queue", "Properties": {"RedrivePolicy": {"deadLetterTargetArn": getatt("DLQ")}}},
        "DLQ": {"Type": "AWS::SQS::Queue"},
        "RuleDLQ": {"Type": "AWS::SQS::Queue"},
        "Rule": {
            "Type": "AWS::Events::Rule",
            "Properties": {"Targets": [{"Id": "t", "Arn": "x", "DeadLetterConfig": {"Arn": getatt("RuleDLQ")}}]},
        },
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"DeadLetterConfig": {"TargetArn": "not a queue"}}},
    }
    assert dead_letter_queues(resources) == {"DLQ", "RuleDLQ"}
    arns = {"arn:dlq": "DLQ"}
    assert dead_letter_targets({"RedrivePolicy": {"deadLetterTargetArn": "arn:dlq"}}, arns.get) == {"DLQ"}
