"""CloudWatch's alarm rules, as pure functions: statistics, M-out-of-N evaluation, missing data, notifications.

What is emulated: a window of the last EvaluationPeriods datapoints, DatapointsToAlarm
(M out of N, default N), the four comparison operators, TreatMissingData (breaching,
notBreaching, ignore, missing; default missing) and the SNS notification CloudWatch
publishes to each action topic on a state change. Not emulated: CloudWatch's look-back
beyond the evaluation range when some datapoints are missing (here the datapoints present
are evaluated as they are), percentile and extended statistics, metric math, anomaly bands.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import fmean
from typing import Any

OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
REGION_NAMES = {"us-east-1": "US East (N. Virginia)"}

COMPARISONS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}
STATISTICS: dict[str, Callable[[list[float]], float]] = {
    "Sum": sum,
    "Maximum": max,
    "Minimum": min,
    "Average": fmean,
    "SampleCount": lambda samples: float(len(samples)),
}


@dataclass(frozen=True)
class AlarmSpec:
    """One AWS::CloudWatch::Alarm, with its properties resolved."""

    logical_id: str
    name: str
    arn: str
    props: dict[str, Any]

    @property
    def metric(self) -> str:
        return str(self.props.get("MetricName", ""))

    @property
    def period(self) -> int:
        return int(self.props.get("Period", 60))

    @property
    def evaluation_periods(self) -> int:
        return int(self.props.get("EvaluationPeriods", 1))

    @property
    def datapoints_to_alarm(self) -> int:
        return int(self.props.get("DatapointsToAlarm", self.evaluation_periods))

    @property
    def threshold(self) -> float:
        return float(self.props.get("Threshold", 0))

    @property
    def statistic(self) -> str:
        return str(self.props.get("Statistic", "Average"))

    @property
    def treat_missing(self) -> str:
        return str(self.props.get("TreatMissingData", "missing"))

    def dimension(self, name: str) -> str | None:
        for dimension in self.props.get("Dimensions", []):
            if dimension["Name"] == name:
                return str(dimension["Value"])
        return None

    def actions(self, state: str) -> list[str]:
        """The actions CloudWatch runs on entering `state` (none when ActionsEnabled is false)."""
        if str(self.props.get("ActionsEnabled", True)).lower() == "false":
            return []
        key = {ALARM: "AlarmActions", OK: "OKActions", INSUFFICIENT_DATA: "InsufficientDataActions"}[state]
        return [str(action) for action in self.props.get(key, [])]

    def breaches(self, value: float) -> bool:
        compare, _ = COMPARISONS[self.props["ComparisonOperator"]]
        return compare(value, self.threshold)


@dataclass(frozen=True)
class Datapoint:
    timestamp: datetime
    value: float | None  # None: no data for the period


@dataclass(frozen=True)
class Decision:
    state: str
    reason: str
    reason_data: dict[str, Any]


def aggregate(statistic: str, samples: list[float]) -> float | None:
    """The period's datapoint from its samples; no samples is missing data, as in CloudWatch."""
    return STATISTICS[statistic](samples) if samples else None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _listed(points: Sequence[Datapoint]) -> str:
    return ", ".join(f"{point.value!r} ({point.timestamp:%d/%m/%y %H:%M:%S})" for point in reversed(points))


def decide(spec: AlarmSpec, window: Sequence[Datapoint], current: str) -> Decision:
    """The state CloudWatch gives the alarm for the last EvaluationPeriods datapoints of `window`."""
    n, m = spec.evaluation_periods, spec.datapoints_to_alarm
    recent = list(window)[-n:]
    present = [point for point in recent if point.value is not None]
    missing = n - len(present)  # periods not sampled yet count as missing, as after an alarm's creation
    breaching = [point for point in present if point.value is not None and spec.breaches(point.value)]
    count = len(breaching) + (missing if spec.treat_missing == "breaching" else 0)
    data = {
        "version": "1.0",
        "queryDate": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "statistic": spec.statistic,
        "period": spec.period,
        "recentDatapoints": [point.value for point in present],
        "threshold": spec.threshold,
    }
    if not present and spec.treat_missing == "ignore":
        return Decision(current, "Missing data ignored: the alarm keeps its state.", data)
    if not present and spec.treat_missing == "missing":
        return Decision(INSUFFICIENT_DATA, f"Insufficient Data: {_plural(n, 'datapoint')} unknown.", data)
    if not present:
        treated = "Breaching" if spec.treat_missing == "breaching" else "NonBreaching"
        reason = (
            f"Threshold Crossed: no datapoints were received for {_plural(n, 'period')} and "
            f"{_plural(n, 'missing datapoint')} treated as [{treated}]."
        )
        return Decision(ALARM if count >= m else OK, reason, data)
    _, words = COMPARISONS[spec.props["ComparisonOperator"]]
    new = ALARM if count >= m else OK
    counted = breaching if new == ALARM else [point for point in present if point not in breaching]
    verb = "was" if new == ALARM else "was not"
    reason = (
        f"Threshold Crossed: {len(counted)} out of the last {len(present)} datapoints [{_listed(counted)}] "
        f"{verb} {words} the threshold ({spec.threshold!r}) "
        f"(minimum {_plural(m if new == ALARM else 1, 'datapoint')} for {current} -> {new} transition)."
    )
    return Decision(new, reason, data)


def notification(spec: AlarmSpec, old: str, decision: Decision, when: datetime) -> tuple[str, dict[str, Any]]:
    """The subject and message CloudWatch publishes to an action topic when the alarm changes state."""
    region = spec.arn.split(":")[3]
    region_name = REGION_NAMES.get(region, region)
    props = spec.props
    message = {
        "AlarmName": spec.name,
        "AlarmDescription": props.get("AlarmDescription"),
        "AWSAccountId": spec.arn.split(":")[4],
        "NewStateValue": decision.state,
        "NewStateReason": decision.reason,
        "StateChangeTime": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000",
        "Region": region_name,
        "AlarmArn": spec.arn,
        "OldStateValue": old,
        "OKActions": spec.actions(OK),
        "AlarmActions": spec.actions(ALARM),
        "InsufficientDataActions": spec.actions(INSUFFICIENT_DATA),
        "Trigger": {
            "MetricName": spec.metric,
            "Namespace": props.get("Namespace"),
            "StatisticType": "Statistic",
            "Statistic": spec.statistic.upper(),
            "Unit": props.get("Unit"),
            "Dimensions": [{"value": d["Value"], "name": d["Name"]} for d in props.get("Dimensions", [])],
            "Period": spec.period,
            "EvaluationPeriods": spec.evaluation_periods,
            "DatapointsToAlarm": spec.datapoints_to_alarm,
            "ComparisonOperator": props.get("ComparisonOperator"),
            "Threshold": spec.threshold,
            # CloudWatch's own rendering of this field, padding included.
            "TreatMissingData": f"- TreatMissingData:                    {spec.treat_missing}",
            "EvaluateLowSampleCountPercentile": "",
        },
    }
    subject = f'{decision.state}: "{spec.name}" in {region_name}'
    return subject[:100], message  # SNS subjects stop at 100 characters
