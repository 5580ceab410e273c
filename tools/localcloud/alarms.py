"""The template's CloudWatch alarms, evaluated continuously while the local cloud runs, as CloudWatch does.

One thread samples each alarm's metric once per period (its Period on the local cloud's
clock: Period x time_scale, at least MIN_INTERVAL seconds), keeps the last
EvaluationPeriods datapoints, and applies CloudWatch's rules (alarm_rules.py). On a state
change, and only then, it sets the state in moto's CloudWatch and publishes CloudWatch's
notification to each SNS topic among the actions for the new state. The metrics come from
alarm_metrics.py.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tools.localcloud.alarm_metrics import MetricReader
from tools.localcloud.alarm_rules import INSUFFICIENT_DATA, AlarmSpec, Datapoint, Decision, aggregate, decide
from tools.localcloud.alarm_rules import notification as alarm_notification

if TYPE_CHECKING:
    from tools.localcloud.cloud import LocalCloud

MIN_INTERVAL = 0.5  # seconds: a floor on sampling, so a tiny time_scale cannot flood moto
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlarmEvaluation:
    logical_id: str
    name: str
    state: str  # OK | ALARM | INSUFFICIENT_DATA
    value: float | None
    reason: str


@dataclass(frozen=True)
class Sample:
    """One evaluation: the period's datapoint and the state the alarm had after it."""

    at: float  # time.monotonic()
    value: float | None
    state: str


@dataclass
class _Alarm:
    spec: AlarmSpec
    interval: float
    next_due: float
    observable: bool = True
    state: str = INSUFFICIENT_DATA  # what put_metric_alarm leaves it in
    reason: str = "Unchecked: Initial alarm creation"
    sampled_at: float = float("-inf")
    window: deque[Datapoint] = field(default_factory=deque)
    samples: deque[Sample] = field(default_factory=lambda: deque(maxlen=500))


class AlarmEvaluator:
    """Evaluates every provisioned alarm of a local cloud on its own schedule, in one thread."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.cloudwatch = cloud.client("cloudwatch")
        self.sns = cloud.client("sns")
        start = time.monotonic()
        self.alarms: dict[str, _Alarm] = {}
        for logical_id, resource in cloud.template.of_type("AWS::CloudWatch::Alarm").items():
            if logical_id not in cloud.physical:
                continue  # its Condition is false
            props = cloud.resolver.resolve(resource["Properties"])
            spec = AlarmSpec(logical_id, cloud.ref(logical_id), cloud.attribute(logical_id, "Arn"), props)
            interval = max(MIN_INTERVAL, spec.period * cloud.time_scale)
            self.alarms[logical_id] = _Alarm(
                spec, interval, start + interval, window=deque(maxlen=spec.evaluation_periods)
            )
        for alarm in self.alarms.values():
            # moto creates alarms in OK; CloudWatch's are INSUFFICIENT_DATA until their first evaluation.
            self.cloudwatch.set_alarm_state(AlarmName=alarm.spec.name, StateValue=alarm.state, StateReason=alarm.reason)
        self.reader = MetricReader(cloud, [alarm.spec for alarm in self.alarms.values()])
        self._stop = threading.Event()
        self._round = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="alarm-evaluator", daemon=True)

    def start(self) -> AlarmEvaluator:
        if self.alarms:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.reader.close()

    # ---------------------------------------------------------------- reading --
    def state(self, logical_id: str) -> str:
        return self.alarms[logical_id].state

    def samples(self, logical_id: str) -> list[Sample]:
        with self._round:
            return list(self.alarms[logical_id].samples)

    def evaluations(self) -> list[AlarmEvaluation]:
        with self._round:
            return [
                AlarmEvaluation(lid, a.spec.name, a.state, a.samples[-1].value if a.samples else None, a.reason)
                for lid, a in self.alarms.items()
            ]

    def fresh_evaluations(self, timeout: float = 30.0) -> list[AlarmEvaluation]:
        """The alarms' states once each has been evaluated on a datapoint sampled after this call."""
        asked = time.monotonic()
        with self._round:
            done = self._round.wait_for(lambda: all(a.sampled_at > asked for a in self.alarms.values()), timeout)
        if not done:
            raise TimeoutError(f"the alarms were not all evaluated within {timeout:.0f}s")
        return self.evaluations()

    # ------------------------------------------------------------- evaluating --
    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            due = [alarm for alarm in self.alarms.values() if alarm.next_due <= now]
            if due:
                self.reader.begin_round()
                for alarm in due:
                    self._evaluate(alarm)
                    # Keep the period grid; a round that overran it starts a new one from now.
                    alarm.next_due = max(alarm.next_due + alarm.interval, now)
            next_due = min(alarm.next_due for alarm in self.alarms.values())
            self._stop.wait(max(0.01, next_due - time.monotonic()))

    def _evaluate(self, alarm: _Alarm) -> None:
        sampled = time.monotonic()
        try:
            samples = self.reader.samples(alarm.spec) if alarm.observable else None
            if samples is None:
                alarm.observable = False  # stays INSUFFICIENT_DATA, as a metric nobody publishes would
                alarm.reason = "metric not observable in the local cloud"
                decision, value = Decision(INSUFFICIENT_DATA, alarm.reason, {}), None
            else:
                value = aggregate(alarm.spec.statistic, samples)
                alarm.window.append(Datapoint(datetime.now(UTC), value))
                decision = decide(alarm.spec, alarm.window, alarm.state)
            # Recorded before the change is applied: whoever sees the new state in moto finds its sample.
            with self._round:
                alarm.samples.append(Sample(sampled, value, decision.state))
            if decision.state != alarm.state:
                self._change(alarm, decision)
        except Exception:  # moto going away at shutdown, or a resource deleted under it
            logger.exception("evaluating %s", alarm.spec.logical_id)
        with self._round:
            alarm.sampled_at = sampled
            self._round.notify_all()

    def _change(self, alarm: _Alarm, decision: Decision) -> None:
        """Set the new state in moto's CloudWatch, then notify the new state's SNS actions, as CloudWatch does."""
        old = alarm.state
        self.cloudwatch.set_alarm_state(
            AlarmName=alarm.spec.name,
            StateValue=decision.state,
            StateReason=decision.reason[:1023],
            StateReasonData=json.dumps(decision.reason_data),
        )
        alarm.state, alarm.reason = decision.state, decision.reason
        subject, message = alarm_notification(alarm.spec, old, decision, datetime.now(UTC))
        for action in alarm.spec.actions(decision.state):
            if action.startswith("arn:aws:sns:"):
                self.sns.publish(TopicArn=action, Subject=subject, Message=json.dumps(message))
            else:
                logger.warning("%s: action %s is not emulated locally", alarm.spec.logical_id, action)


def evaluate_alarms(cloud: LocalCloud, timeout: float = 30.0) -> list[AlarmEvaluation]:
    """Each template alarm's state as of now: waits until every alarm has sampled its metric after this call."""
    if cloud.alarm_evaluator is None:
        return []
    return cloud.alarm_evaluator.fresh_evaluations(timeout)
