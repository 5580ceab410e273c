"""Every alarm of the template has its section in the runbook, and its description links that section."""

from __future__ import annotations

import re

import pytest

from tools.localcloud.template import REPO_ROOT, load_template

RUNBOOK = REPO_ROOT / "docs" / "runbook.md"
LINK = re.compile(r"Runbook: docs/runbook\.md#([a-z0-9-]+)$")
ANCHOR = re.compile(r'<a id="([a-z0-9-]+)"></a>')


def alarms() -> dict[str, dict[str, object]]:
    """Every AWS::CloudWatch::Alarm after the SAM transform, by logical id."""
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in load_template().resources.items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }


def sections(text: str) -> dict[str, str]:
    """Each anchored section of the runbook: from its anchor to the next one (or the next `## ` heading)."""
    found = {}
    marks = list(ANCHOR.finditer(text))
    for index, mark in enumerate(marks):
        end = marks[index + 1].start() if index + 1 < len(marks) else len(text)
        body = text[mark.end() : end]
        heading_then_rest = body.split("\n## ", 2)  # the section's own heading, then the next one
        found[mark.group(1)] = "\n## ".join(heading_then_rest[:2])
    return found


def test_the_template_has_alarms() -> None:
    assert len(alarms()) >= 20


@pytest.mark.parametrize("logical_id", sorted(alarms()))
def test_each_alarm_is_in_the_runbook_section_its_description_links(logical_id: str) -> None:
    description = str(alarms()[logical_id].get("AlarmDescription", ""))
    link = LINK.search(description)
    assert link, f"{logical_id}: its AlarmDescription does not end with 'Runbook: docs/runbook.md#<section>'"
    runbook = RUNBOOK.read_text()
    section = sections(runbook).get(link.group(1))
    assert section is not None, f"{logical_id} links #{link.group(1)}, which docs/runbook.md does not have"
    assert re.search(rf"`{logical_id}`", section), f"the runbook's #{link.group(1)} section does not name {logical_id}"


def test_the_sections_parse_as_intended() -> None:
    # A broken copy: an alarm named only in another section is not found in its own.
    text = (
        '<a id="one"></a>\n\n## One\n\n`AAlarm`\n\n<a id="two"></a>\n\n## Two\n\n`BAlarm`\n\n## Appendix\n\n`CAlarm`\n'
    )
    found = sections(text)
    assert "`AAlarm`" in found["one"]
    assert "`BAlarm`" not in found["one"]
    assert "`BAlarm`" in found["two"]
    assert "`CAlarm`" not in found["two"]


def test_the_readme_links_the_runbook() -> None:
    assert "docs/runbook.md" in (REPO_ROOT / "README.md").read_text()
