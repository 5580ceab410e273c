"""The operations dashboard names only resources that exist, and covers every queue and function."""

from __future__ import annotations

import json
import re
from typing import Any

from tools.localcloud.template import load_template

PLACEHOLDER = re.compile(r"\$\{([^}!]+)\}")


def dashboard_body() -> str:
    body = load_template().sam["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert isinstance(body, str)
    return body


def referenced() -> set[str]:
    return set(PLACEHOLDER.findall(dashboard_body()))


def test_every_reference_is_a_resource_of_the_template() -> None:
    resources: dict[str, Any] = load_template().sam["Resources"]
    unknown = {name for name in referenced() if not name.startswith("AWS::") and name.split(".")[0] not in resources}
    assert unknown == set()


def test_the_body_is_valid_json_once_substituted() -> None:
    widgets = json.loads(PLACEHOLDER.sub("x", dashboard_body()))["widgets"]
    assert widgets


def test_every_queue_and_function_is_on_the_dashboard() -> None:
    resources: dict[str, Any] = load_template().sam["Resources"]
    names = {name.split(".")[0] for name in referenced()}
    queues = {lid for lid, r in resources.items() if r["Type"] == "AWS::SQS::Queue"}
    functions = {lid for lid, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert queues - names == set()
    assert functions - names == set()
    assert "OrderSaga" in names
