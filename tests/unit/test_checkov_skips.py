"""checkov (`make checkov`, part of `make test`) reports nothing unsuppressed; each suppression here says why."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tools.lambda_code import REPO_ROOT
from tools.localcloud.template import decode_template


def resources() -> dict[str, dict[str, Any]]:
    return dict(decode_template()["Resources"])


def skips() -> list[tuple[str, dict[str, Any]]]:
    return [
        (logical_id, skip)
        for logical_id, resource in resources().items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]


def test_the_template_suppresses_findings_only_in_resource_metadata() -> None:
    assert len(skips()) > 0
    assert "skip-check" not in (REPO_ROOT / "Makefile").read_text()  # no blanket suppression on the command line


@pytest.mark.parametrize(("logical_id", "skip"), skips(), ids=[f"{lid}-{skip.get('id')}" for lid, skip in skips()])
def test_every_suppression_names_one_check_and_gives_a_reason(logical_id: str, skip: dict[str, Any]) -> None:
    assert re.fullmatch(r"CKV_AWS_\d+", str(skip.get("id"))), f"{logical_id}: {skip}"
    reason = str(skip.get("comment", ""))
    assert len(reason.split()) >= 8, f"{logical_id} skips {skip['id']} without a reason a reviewer could judge"


def test_the_payment_provider_is_capped_without_throttling_its_poller() -> None:
    payment = resources()["PaymentFunction"]["Properties"]
    cap = payment["ReservedConcurrentExecutions"]
    assert cap == payment["Events"]["Queue"]["Properties"]["ScalingConfig"]["MaximumConcurrency"]
    assert 2 <= cap <= 10
    assert "CKV_AWS_115" not in {skip["id"] for lid, skip in skips() if lid == "PaymentFunction"}
