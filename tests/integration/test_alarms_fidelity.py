"""The local cloud's alarms behave like CloudWatch's: evaluated continuously, per period, with notifications.

A fixture template (tests/integration/alarms_fixture) holds alarms on an idle queue, a
queue with a consumer, and a state machine that always fails; one test uses the real
template as `make serve` runs it. Periods are 60 s on the local cloud's clock (1.2 s real).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.waiting import wait_for
from tools.localcloud.alarm_rules import ALARM, INSUFFICIENT_DATA, OK, AlarmSpec, Datapoint, decide, notification
from tools.localcloud.alarms import AlarmEvaluator, Sample
from tools.localcloud.cloud import LocalCloud
from tools.localcloud.queue_age import QueueAge
from tools.localcloud.template import load_template

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).with_name("alarms_fixture") / "template.yaml"


@pytest.fixture(scope="module")
def alarmed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(
        load_template(FIXTURE), stack_name="alarmprobe", work_dir=tmp_path_factory.mktemp("alarms")
    ) as cloud:
        yield cloud


def evaluator(cloud: LocalCloud) -> AlarmEvaluator:
    assert cloud.alarm_evaluator is not None
    return cloud.alarm_evaluator


def moto_state(cloud: LocalCloud, alarm_id: str) -> str:
    """The state as anyone sees it through the CloudWatch API (what `aws cloudwatch describe-alarms` prints)."""
    alarms = cloud.client("cloudwatch").describe_alarms(AlarmNames=[cloud.ref(alarm_id)])["MetricAlarms"]
    return str(alarms[0]["StateValue"])


def wait_state(cloud: LocalCloud, alarm_id: str, state: str, timeout: float = 30) -> None:
    wait_for(lambda: moto_state(cloud, alarm_id) == state, timeout=timeout, what=f"{alarm_id} in {state}")


def drain(cloud: LocalCloud, queue_id: str) -> list[dict[str, Any]]:
    sqs = cloud.client("sqs")
    found: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=cloud.ref(queue_id), MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            sqs.delete_message(QueueUrl=cloud.ref(queue_id), ReceiptHandle=message["ReceiptHandle"])
        found += messages
    return found


def since(samples: list[Sample], moment: float) -> list[Sample]:
    return [sample for sample in samples if sample.at > moment]


# ------------------------------------------------------------ periods, window --
def test_an_alarm_fires_only_after_evaluation_periods_breaching_datapoints_and_clears_when_the_queue_empties(
    alarmed: LocalCloud,
) -> None:
    # Given a depth alarm with EvaluationPeriods 3 on a queue nothing consumes
    wait_state(alarmed, "IdleQueueDepthAlarm", OK)
    # When one message sits in it
    alarmed.client("sqs").send_message(QueueUrl=alarmed.ref("IdleQueue"), MessageBody="waiting")
    wait_state(alarmed, "IdleQueueDepthAlarm", ALARM)
    # Then the first two breaching datapoints leave it OK, and the third puts it in ALARM
    seen = [(sample.value, sample.state) for sample in evaluator(alarmed).samples("IdleQueueDepthAlarm")]
    fired = seen.index((1.0, ALARM))
    assert fired >= 3, seen
    assert seen[fired - 3 : fired + 1] == [(0.0, OK), (1.0, OK), (1.0, OK), (1.0, ALARM)]
    # And when the queue empties, the next datapoint puts it back to OK
    drain(alarmed, "IdleQueue")
    emptied = time.monotonic()
    wait_state(alarmed, "IdleQueueDepthAlarm", OK)
    assert [(s.value, s.state) for s in since(evaluator(alarmed).samples("IdleQueueDepthAlarm"), emptied)][:1] == [
        (0.0, OK)
    ]


def test_a_dlq_alarm_fires_in_serve_mode_with_no_one_asking(cloud: LocalCloud) -> None:
    # Given the real template running as `make serve` runs it, its notifier DLQ empty and its alarm OK
    sqs = cloud.client("sqs")
    drain(cloud, "NotifierDLQ")
    wait_state(cloud, "NotifierDLQAlarm", OK)
    # When a message the notifier cannot parse is sent straight to its queue
    sqs.send_message(QueueUrl=cloud.ref("NotifierQueue"), MessageBody="this is not JSON")
    # Then it reaches the DLQ after maxReceiveCount, and the alarm fires with nothing but time passing
    wait_state(cloud, "NotifierDLQAlarm", ALARM, timeout=60)
    assert cloud.queue_depths("NotifierDLQ")[0] >= 1
    drain(cloud, "NotifierDLQ")
    wait_state(cloud, "NotifierDLQAlarm", OK)


# ------------------------------------------------------------------ queue age --
def test_the_age_alarm_fires_when_a_consumer_is_paused_long_enough_and_clears_when_it_catches_up(
    alarmed: LocalCloud,
) -> None:
    # Given an alarm on the age of the oldest message over 180 s, for 2 periods
    wait_state(alarmed, "WorkQueueAgeAlarm", OK)
    threshold_real = 180 * alarmed.time_scale
    with alarmed.outage("WorkFunction"):
        # When its consumer stops and a message waits
        alarmed.client("sqs").send_message(QueueUrl=alarmed.ref("WorkQueue"), MessageBody="{}")
        sent = time.monotonic()
        wait_state(alarmed, "WorkQueueAgeAlarm", ALARM)
        fired = time.monotonic() - sent
        # Then it fires once the message is older than the threshold, not before
        assert fired > threshold_real, f"fired after {fired:.1f}s, before the age crossed {threshold_real:.1f}s"
        seen = since(evaluator(alarmed).samples("WorkQueueAgeAlarm"), sent)
        # And each datapoint is the message's age on the local cloud's clock, within one period
        for sample in seen:
            assert sample.value is not None
            assert abs(sample.value - (sample.at - sent) / alarmed.time_scale) <= 60 + 15
    # And when the consumer is back, the queue drains and the alarm clears
    wait_state(alarmed, "WorkQueueAgeAlarm", OK)
    assert alarmed.queue_depths("WorkQueue") == (0, 0)


# -------------------------------------------------------------- notifications --
def test_a_state_change_publishes_one_notification_to_the_ops_topic(alarmed: LocalCloud) -> None:
    sqs, alarm = alarmed.client("sqs"), "NotifyingQueueDepthAlarm"
    # Given an inbox subscribed to the ops topic, and an alarm whose AlarmActions and OKActions name it
    wait_state(alarmed, alarm, OK)
    inbox = sqs.create_queue(QueueName=f"ops-inbox-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    alarmed.client("sns").subscribe(TopicArn=alarmed.ref("OpsTopic"), Protocol="sqs", Endpoint=inbox_arn)
    # When the alarm goes to ALARM, stays there for a few periods, and goes back to OK
    sqs.send_message(QueueUrl=alarmed.ref("NotifyingQueue"), MessageBody="waiting")
    wait_state(alarmed, alarm, ALARM)
    time.sleep(4)
    drain(alarmed, "NotifyingQueue")
    wait_state(alarmed, alarm, OK)
    # Then the topic got exactly one notification per change, in CloudWatch's shape
    envelopes = [json.loads(message["Body"]) for message in drain_all(alarmed, inbox)]
    mine = [e for e in envelopes if json.loads(e["Message"])["AlarmName"] == alarmed.ref(alarm)]
    changes = [json.loads(e["Message"]) for e in mine]
    assert [(c["OldStateValue"], c["NewStateValue"]) for c in changes] == [(OK, ALARM), (ALARM, OK)]
    fired = changes[0]
    assert mine[0]["Subject"] == f'ALARM: "{alarmed.ref(alarm)}" in US East (N. Virginia)'
    assert fired["AlarmArn"] == alarmed.attribute(alarm, "Arn")
    assert fired["AlarmDescription"] == "Messages are waiting in the notifying queue."
    assert fired["NewStateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [1.0 (")
    assert datetime.strptime(fired["StateChangeTime"], "%Y-%m-%dT%H:%M:%S.%f%z") <= datetime.now(UTC)
    assert fired["Trigger"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert fired["Trigger"]["Statistic"] == "MAXIMUM"
    assert fired["Trigger"]["Dimensions"] == [
        {"value": alarmed.attribute("NotifyingQueue", "QueueName"), "name": "QueueName"}
    ]
    assert fired["AlarmActions"] == fired["OKActions"] == [alarmed.ref("OpsTopic")]


def drain_all(cloud: LocalCloud, queue_url: str) -> list[dict[str, Any]]:
    sqs = cloud.client("sqs")
    found: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
        found += messages
    return found


# ------------------------------------------------------------- step functions --
def test_the_failed_executions_alarm_clears_once_a_period_passes_without_a_failure(alarmed: LocalCloud) -> None:
    stepfunctions, alarm = alarmed.client("stepfunctions"), "FailingMachineFailedAlarm"
    wait_state(alarmed, alarm, OK)
    # When an execution fails
    started = time.monotonic()
    execution = stepfunctions.start_execution(stateMachineArn=alarmed.ref("FailingMachine"), input="{}")
    wait_for(
        lambda: stepfunctions.describe_execution(executionArn=execution["executionArn"])["status"] == "FAILED",
        timeout=30,
        what="the execution to fail",
    )
    # Then the alarm fires, and clears on the next period, which has no failed execution in it
    wait_state(alarmed, alarm, ALARM)
    wait_state(alarmed, alarm, OK)
    seen = [(s.value, s.state) for s in since(evaluator(alarmed).samples(alarm), started)]
    fired = seen.index((1.0, ALARM))
    assert seen[fired + 1] == (None, OK)  # no datapoint: Step Functions published nothing that period


# ---------------------------------------------------------------- the rules --
def spec(**props: Any) -> AlarmSpec:
    base = {"MetricName": "M", "Namespace": "N", "Statistic": "Maximum", "Period": 60, "EvaluationPeriods": 1}
    base |= {"Threshold": 0, "ComparisonOperator": "GreaterThanThreshold"}
    return AlarmSpec("A", "a", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a", base | props)


def points(*values: float | None) -> list[Datapoint]:
    return [Datapoint(datetime.now(UTC), value) for value in values]


@pytest.mark.parametrize(
    ("window", "state"),
    [((1, 0, 1), ALARM), ((1, 1, 0), ALARM), ((1, 0, 0), OK)],
    ids=["2-of-3", "not-the-latest", "1-of-3"],
)
def test_datapoints_to_alarm_is_m_out_of_n(window: tuple[float, ...], state: str) -> None:
    assert decide(spec(EvaluationPeriods=3, DatapointsToAlarm=2), points(*window), OK).state == state


@pytest.mark.parametrize(
    ("treat", "state"),
    [("missing", INSUFFICIENT_DATA), ("notBreaching", OK), ("breaching", ALARM), ("ignore", ALARM)],
)
def test_treat_missing_data_decides_a_period_without_data(treat: str, state: str) -> None:
    # an alarm in ALARM whose metric stopped: only `ignore` keeps the state it had
    assert decide(spec(TreatMissingData=treat), points(None), ALARM).state == state


@pytest.mark.parametrize(
    ("operator", "value", "state"),
    [
        ("GreaterThanOrEqualToThreshold", 5, ALARM),
        ("GreaterThanThreshold", 5, OK),
        ("LessThanThreshold", 4, ALARM),
        ("LessThanOrEqualToThreshold", 6, OK),
    ],
)
def test_comparison_operators_compare_the_datapoint_with_the_threshold(operator: str, value: float, state: str) -> None:
    assert decide(spec(ComparisonOperator=operator, Threshold=5), points(value), OK).state == state


def test_the_notification_renders_treat_missing_data_as_cloudwatch_does() -> None:
    alarm = spec(TreatMissingData="notBreaching")
    _, message = notification(alarm, OK, decide(alarm, points(1), OK), datetime.now(UTC))
    assert message["Trigger"]["TreatMissingData"] == "- TreatMissingData:                    notBreaching"
    assert message["Region"] == "US East (N. Virginia)"


# ------------------------------------------------------- queue age, observed --
def received(message_id: str, sent: float, receipt: str, receive_count: int = 1) -> dict[str, Any]:
    attributes = {"SentTimestamp": str(int(sent * 1000)), "ApproximateReceiveCount": str(receive_count)}
    return {"MessageId": message_id, "ReceiptHandle": receipt, "Attributes": attributes}


def test_queue_age_is_exact_for_a_message_a_consumer_received_until_it_is_deleted() -> None:
    queue = QueueAge(max_receive_count=3)
    queue.received([received("m1", sent=100.0, receipt="r1")], now=130.0)
    assert queue.sample(depth=1, now=160.0) == 60.0  # in flight or failed and visible again: still there
    queue.deleted(["r1"])
    assert queue.sample(depth=0, now=161.0) == 0.0


def test_queue_age_of_messages_nothing_received_is_estimated_from_the_depth_samples() -> None:
    queue = QueueAge()
    assert queue.sample(depth=0, now=100.0) == 0.0
    # a message arrived between the samples at 100 and 110: taken as halfway, 105
    assert queue.sample(depth=1, now=110.0) == 5.0
    assert queue.sample(depth=2, now=120.0) == 15.0  # the oldest still counts
    assert queue.sample(depth=1, now=130.0) == 15.0  # oldest first out: the one from 115 is left


def test_queue_age_forgets_a_message_sqs_dead_lettered_without_a_delete() -> None:
    queue = QueueAge(max_receive_count=2)
    queue.received([received("poison", sent=10.0, receipt="r1", receive_count=2)], now=50.0)
    queue.received([received("fresh", sent=90.0, receipt="r2")], now=95.0)
    # the depth shows one message: the poison one, on its last receive, is the one that left
    assert queue.sample(depth=1, now=100.0) == 10.0
