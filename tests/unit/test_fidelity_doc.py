"""docs/local-cloud-fidelity.md: every item is proven by a test that exists, or says why it is not emulated."""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FIDELITY = REPO_ROOT / "docs" / "local-cloud-fidelity.md"
ITEM = re.compile(r"^\| (\d+) \|(.+)\|$", re.MULTILINE)
TEST_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def items() -> list[tuple[str, str]]:
    return [(number, row) for number, row in ITEM.findall(FIDELITY.read_text())]


def test_the_page_lists_at_least_forty_behaviours_numbered_once() -> None:
    numbers = [number for number, _ in items()]
    assert len(numbers) >= 40
    assert len(set(numbers)) == len(numbers)


def test_every_item_names_its_aws_page_and_a_test_or_why_it_is_not_emulated() -> None:
    for number, row in items():
        assert "https://docs.aws.amazon.com/" in row, f"item {number} cites no AWS documentation page"
        assert TEST_REFERENCE.search(row) or "not emulated" in row, f"item {number} has no proof and no reason"


def test_every_named_test_exists() -> None:
    missing = []
    for number, row in items():
        for path, name in TEST_REFERENCE.findall(row):
            source = REPO_ROOT / path
            if not source.is_file() or not re.search(rf"^(async )?def {name}\(", source.read_text(), re.MULTILINE):
                missing.append(f"item {number}: {path}::{name}")
    assert missing == []
