"""The template rules (docs/architecture.md) as checks over a (translated) CloudFormation template.

Each check returns the violations it finds, naming the resource, so a test can
run it on the real template (expecting none) and on a broken copy (expecting one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from orderflow.catalog import EVENT_TYPES
from tools.dead_letters import dead_letter_queues as find_dead_letter_queues
from tools.dead_letters import getatt_target

Template = dict[str, Any]
OPS_TOPIC = {"Ref": "OpsTopic"}


def resources(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == resource_type}


def props(resource: dict[str, Any]) -> dict[str, Any]:
    return dict(resource.get("Properties", {}))


def ref_target(value: Any) -> str | None:
    return str(value["Ref"]) if isinstance(value, dict) and "Ref" in value else None


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def dead_letter_queues(template: Template) -> set[str]:
    """Queues that something dead-letters into: redrive policies, rule target DLQs, on-failure destinations."""
    return find_dead_letter_queues(template["Resources"])


def sqs_mappings(template: Template) -> dict[str, dict[str, Any]]:
    queues = set(resources(template, "AWS::SQS::Queue"))
    return {
        lid: props(r)
        for lid, r in resources(template, "AWS::Lambda::EventSourceMapping").items()
        if getatt_target(props(r).get("EventSourceArn")) in queues
    }


def alarms_on(template: Template, metric: str, dimension_value_of: str) -> list[dict[str, Any]]:
    """Alarms on `metric` whose dimension names resource `dimension_value_of`."""
    found = []
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        alarm_props = props(alarm)
        if alarm_props.get("MetricName") != metric:
            continue
        for dimension in alarm_props.get("Dimensions", []):
            value = dimension.get("Value")
            if dimension_value_of in (getatt_target(value), ref_target(value)):
                found.append(alarm_props)
    return found


# ---------------------------------------------------------------- checks --
def queues_are_encrypted(template: Template) -> list[str]:
    return [
        f"{lid}: no SSE"
        for lid, r in resources(template, "AWS::SQS::Queue").items()
        if not props(r).get("SqsManagedSseEnabled") and "KmsMasterKeyId" not in props(r)
    ]


def queues_have_a_dlq(template: Template) -> list[str]:
    dlqs = dead_letter_queues(template)
    problems = []
    for lid, r in resources(template, "AWS::SQS::Queue").items():
        if lid in dlqs:
            continue
        policy = props(r).get("RedrivePolicy")
        if not policy:
            problems.append(f"{lid}: no RedrivePolicy (DLQ)")
        elif not 3 <= int(policy.get("maxReceiveCount", 0)) <= 5:
            problems.append(f"{lid}: maxReceiveCount {policy.get('maxReceiveCount')} not in 3..5")
    return problems


def dlqs_alarm_when_not_empty(template: Template) -> list[str]:
    problems = []
    for dlq in sorted(dead_letter_queues(template)):
        alarms = [
            a
            for a in alarms_on(template, "ApproximateNumberOfMessagesVisible", dlq)
            if a.get("ComparisonOperator") == "GreaterThanThreshold" and float(a.get("Threshold", -1)) == 0
        ]
        if not alarms:
            problems.append(f"{dlq}: no alarm on ApproximateNumberOfMessagesVisible > 0")
    return problems


def main_queues_alarm_on_age(template: Template) -> list[str]:
    dlqs = dead_letter_queues(template)
    return [
        f"{lid}: no alarm on ApproximateAgeOfOldestMessage"
        for lid in resources(template, "AWS::SQS::Queue")
        if lid not in dlqs and not alarms_on(template, "ApproximateAgeOfOldestMessage", lid)
    ]


def sqs_sources_report_batch_item_failures(template: Template) -> list[str]:
    return [
        f"{lid}: no ReportBatchItemFailures"
        for lid, mapping in sqs_mappings(template).items()
        if "ReportBatchItemFailures" not in mapping.get("FunctionResponseTypes", [])
    ]


def visibility_timeout_covers_six_function_timeouts(template: Template) -> list[str]:
    """AWS: a queue's visibility timeout is at least 6 x the function timeout plus the batching window."""
    problems = []
    functions = resources(template, "AWS::Lambda::Function")
    queues = resources(template, "AWS::SQS::Queue")
    for _lid, mapping in sqs_mappings(template).items():
        queue_id = getatt_target(mapping["EventSourceArn"])
        function_id = ref_target(mapping["FunctionName"])
        assert queue_id
        assert function_id
        timeout = int(props(functions[function_id]).get("Timeout", 3))
        window = int(mapping.get("MaximumBatchingWindowInSeconds", 0))
        visibility = int(props(queues[queue_id]).get("VisibilityTimeout", 30))
        if visibility < 6 * timeout + window:
            problems.append(
                f"{queue_id}: VisibilityTimeout {visibility} < 6 x {function_id} Timeout {timeout} + window {window}"
            )
    return problems


def rule_targets_have_dlq_and_retry_policy(template: Template) -> list[str]:
    problems = []
    for lid, rule in resources(template, "AWS::Events::Rule").items():
        for target in props(rule).get("Targets", []):
            if "DeadLetterConfig" not in target or "RetryPolicy" not in target:
                problems.append(f"{lid}/{target.get('Id')}: target without DeadLetterConfig and RetryPolicy")
    return problems


def rule_queues_accept_only_their_rule(template: Template) -> list[str]:
    policies = [props(p) for p in resources(template, "AWS::SQS::QueuePolicy").values()]
    problems = []
    for rule_id, rule in resources(template, "AWS::Events::Rule").items():
        for target in props(rule).get("Targets", []):
            queue_id = getatt_target(target.get("Arn"))
            if queue_id not in resources(template, "AWS::SQS::Queue"):
                continue
            allowed = False
            for policy in policies:
                if queue_id not in {ref_target(q) for q in policy.get("Queues", [])}:
                    continue
                for statement in policy["PolicyDocument"]["Statement"]:
                    principal = statement.get("Principal", {})
                    source = statement.get("Condition", {}).get("ArnEquals", {}).get("aws:SourceArn")
                    if principal == {"Service": "events.amazonaws.com"} and getatt_target(source) == rule_id:
                        allowed = True
                    elif principal != {"Service": "events.amazonaws.com"} or getatt_target(source) != rule_id:
                        problems.append(f"{queue_id}: policy statement lets more than {rule_id} send")
            if not allowed:
                problems.append(f"{queue_id}: no queue policy letting only {rule_id} send")
    return problems


def kinesis_is_encrypted_and_its_consumer_bounded(template: Template) -> list[str]:
    problems = []
    streams = resources(template, "AWS::Kinesis::Stream")
    for lid, stream in streams.items():
        if not props(stream).get("StreamEncryption"):
            problems.append(f"{lid}: not encrypted")
    for lid, mapping in resources(template, "AWS::Lambda::EventSourceMapping").items():
        mapping_props = props(mapping)
        if getatt_target(mapping_props.get("EventSourceArn")) not in streams:
            continue
        if not mapping_props.get("BisectBatchOnFunctionError"):
            problems.append(f"{lid}: no BisectBatchOnFunctionError")
        if int(mapping_props.get("MaximumRetryAttempts", -1)) < 0:
            problems.append(f"{lid}: retries are not finite")
        if not mapping_props.get("DestinationConfig", {}).get("OnFailure"):
            problems.append(f"{lid}: no OnFailure destination")
        function_id = ref_target(mapping_props["FunctionName"])
        if function_id and not alarms_on(template, "IteratorAge", function_id):
            problems.append(f"{function_id}: no IteratorAge alarm")
    return problems


def bus_has_an_archive(template: Template) -> list[str]:
    archived = {getatt_target(props(a).get("SourceArn")) for a in resources(template, "AWS::Events::Archive").values()}
    return [f"{lid}: no archive" for lid in resources(template, "AWS::Events::EventBus") if lid not in archived]


def state_machines_are_observable(template: Template) -> list[str]:
    problems = []
    for lid, machine in resources(template, "AWS::StepFunctions::StateMachine").items():
        machine_props = props(machine)
        if not machine_props.get("LoggingConfiguration"):
            problems.append(f"{lid}: no logging")
        if not machine_props.get("TracingConfiguration", {}).get("Enabled"):
            problems.append(f"{lid}: no tracing")
        for metric in ("ExecutionsFailed", "ExecutionsTimedOut"):
            if not alarms_on(template, metric, lid):
                problems.append(f"{lid}: no alarm on {metric}")
    return problems


def alarms_notify_the_ops_topic(template: Template) -> list[str]:
    return [
        f"{lid}: AlarmActions is not the ops topic"
        for lid, alarm in resources(template, "AWS::CloudWatch::Alarm").items()
        if props(alarm).get("AlarmActions") != [OPS_TOPIC]
    ]


def no_wildcard_actions(template: Template) -> list[str]:
    problems = []
    for key, value in _walk(template["Resources"]):
        if key != "Action":
            continue
        for action in value if isinstance(value, list) else [value]:
            if isinstance(action, str) and (action == "*" or action.endswith(":*")):
                problems.append(f"wildcard action {action}")
    return problems


def rule_patterns_name_catalog_events(template: Template) -> list[str]:
    problems = []
    for lid, rule in resources(template, "AWS::Events::Rule").items():
        pattern = props(rule).get("EventPattern", {})
        sources = [s for s in pattern.get("source", []) if isinstance(s, str)]
        for detail_type in pattern.get("detail-type", []):
            event_type = EVENT_TYPES.get(detail_type)
            if event_type is None:
                problems.append(f"{lid}: {detail_type} is not in the event catalog")
            elif sources and event_type.SOURCE not in sources:
                problems.append(f"{lid}: {detail_type} comes from {event_type.SOURCE}, not {sources}")
    return problems


def alarm_topics_use_a_key_cloudwatch_may_use(template: Template) -> list[str]:
    """An encrypted topic that alarms notify needs a customer-managed key whose policy admits CloudWatch."""
    problems = []
    keys = resources(template, "AWS::KMS::Key")
    alarm_topics = {
        ref_target(action)
        for alarm in resources(template, "AWS::CloudWatch::Alarm").values()
        for action in props(alarm).get("AlarmActions", [])
    }
    for topic_id in sorted(topic for topic in alarm_topics if topic):
        key = props(template["Resources"][topic_id]).get("KmsMasterKeyId")
        if key is None:
            continue
        key_id = ref_target(key) or getatt_target(key)
        if key_id not in keys:
            problems.append(f"{topic_id}: encrypted with {key}, which CloudWatch cannot use")
            continue
        policy = props(keys[key_id]).get("KeyPolicy", {})
        admitted = [
            statement
            for statement in policy.get("Statement", [])
            if statement.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
            and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(statement.get("Action", []))
        ]
        if not admitted:
            problems.append(f"{topic_id}: key {key_id} does not let cloudwatch.amazonaws.com use it")
        if not props(keys[key_id]).get("EnableKeyRotation"):
            problems.append(f"{key_id}: key rotation is off")
    return problems


CHECKS: list[Callable[[Template], list[str]]] = [
    alarm_topics_use_a_key_cloudwatch_may_use,
    queues_are_encrypted,
    queues_have_a_dlq,
    dlqs_alarm_when_not_empty,
    main_queues_alarm_on_age,
    sqs_sources_report_batch_item_failures,
    visibility_timeout_covers_six_function_timeouts,
    rule_targets_have_dlq_and_retry_policy,
    rule_queues_accept_only_their_rule,
    kinesis_is_encrypted_and_its_consumer_bounded,
    bus_has_an_archive,
    state_machines_are_observable,
    alarms_notify_the_ops_topic,
    no_wildcard_actions,
    rule_patterns_name_catalog_events,
]
