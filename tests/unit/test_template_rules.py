"""Every resource of template.yaml follows the template rules (docs/architecture.md), and each check can fail."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.support import template_rules as rules
from tools.localcloud.template import load_template


def translated() -> dict[str, Any]:
    return copy.deepcopy(load_template().cfn)


@pytest.mark.parametrize("check", rules.CHECKS, ids=lambda check: check.__name__)
def test_the_template_follows_the_rule(check: Callable[[dict[str, Any]], list[str]]) -> None:
    assert check(translated()) == []


def broken(mutate: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    template = translated()
    mutate(template["Resources"])
    return template


def test_a_queue_without_a_dlq_is_reported() -> None:
    template = broken(lambda r: r["ProjectorQueue"]["Properties"].pop("RedrivePolicy"))
    assert "ProjectorQueue: no RedrivePolicy (DLQ)" in rules.queues_have_a_dlq(template)


def test_a_dlq_without_an_alarm_is_reported() -> None:
    template = broken(lambda r: r.pop("PaymentDLQAlarm"))
    assert rules.dlqs_alarm_when_not_empty(template) == [
        "PaymentDLQ: no alarm on ApproximateNumberOfMessagesVisible > 0"
    ]


def test_an_sqs_event_without_report_batch_item_failures_is_reported() -> None:
    template = broken(lambda r: r["ShippingFunctionQueue"]["Properties"].pop("FunctionResponseTypes"))
    assert rules.sqs_sources_report_batch_item_failures(template) == [
        "ShippingFunctionQueue: no ReportBatchItemFailures"
    ]


def test_a_visibility_timeout_under_six_function_timeouts_is_reported() -> None:
    # 60 s was the template's value: 6 x 10 s, but without the 1 s batching window
    template = broken(lambda r: r["InventoryQueue"]["Properties"].update(VisibilityTimeout=60))
    assert rules.visibility_timeout_covers_six_function_timeouts(template) == [
        "InventoryQueue: VisibilityTimeout 60 < 6 x InventoryFunction Timeout 10 + window 1"
    ]


def test_a_rule_target_without_a_dlq_is_reported() -> None:
    template = broken(lambda r: r["NotifierRule"]["Properties"]["Targets"][0].pop("DeadLetterConfig"))
    assert rules.rule_targets_have_dlq_and_retry_policy(template) == [
        "NotifierRule/NotifierQueue: target without DeadLetterConfig and RetryPolicy"
    ]


def test_a_wildcard_action_is_reported() -> None:
    def widen(resources: dict[str, Any]) -> None:
        statement = resources["InventoryFunctionRole"]["Properties"]["Policies"][-1]["PolicyDocument"]["Statement"][0]
        statement["Action"] = "states:*"

    assert rules.no_wildcard_actions(broken(widen)) == ["wildcard action states:*"]


def test_a_rule_naming_an_unknown_event_is_reported() -> None:
    template = broken(
        lambda r: r["InventoryRule"]["Properties"]["EventPattern"]["detail-type"].append("ReserveInventry")
    )
    assert rules.rule_patterns_name_catalog_events(template) == [
        "InventoryRule: ReserveInventry is not in the event catalog"
    ]


def test_an_alarm_topic_on_the_aws_managed_key_is_reported() -> None:
    template = broken(lambda r: r["OpsTopic"]["Properties"].update(KmsMasterKeyId="alias/aws/sns"))
    assert rules.alarm_topics_use_a_key_cloudwatch_may_use(template) == [
        "OpsTopic: encrypted with alias/aws/sns, which CloudWatch cannot use"
    ]


def test_a_key_policy_without_cloudwatch_is_reported() -> None:
    def drop_cloudwatch(resources: dict[str, Any]) -> None:
        statements = resources["OpsTopicKey"]["Properties"]["KeyPolicy"]["Statement"]
        statements[:] = [s for s in statements if s.get("Sid") != "CloudWatchAlarmsPublish"]

    assert rules.alarm_topics_use_a_key_cloudwatch_may_use(broken(drop_cloudwatch)) == [
        "OpsTopic: key OpsTopicKey does not let cloudwatch.amazonaws.com use it"
    ]
