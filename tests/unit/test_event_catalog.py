"""docs/events.md is generated from the models, template.yaml and the ASL, and up to date."""

from __future__ import annotations

import copy
from typing import Any

from orderflow.catalog import CATALOG
from tools.event_topology import routes
from tools.generate_event_catalog import CATALOG_PAGE, main, mermaid
from tools.localcloud.template import load_template


def test_the_event_catalog_is_up_to_date() -> None:
    assert main(["--check"]) == 0, "run `make catalog`"


def test_every_event_has_its_section_with_publishers_listeners_fields_and_an_example() -> None:
    page = CATALOG_PAGE.read_text()
    for event_type in CATALOG:
        section = page.split(f"\n## {event_type.DETAIL_TYPE}\n", 1)[1].split("\n## ", 1)[0]
        assert "Published by:" in section
        assert "- nobody" not in section
        assert "`data.order_id` | string | yes" in section
        assert '"schema_version": 1' in section
    assert "```mermaid" in page


def test_a_new_rule_shows_up_as_a_listener_without_typing_it() -> None:
    resources: dict[str, Any] = copy.deepcopy(load_template().sam["Resources"])
    resources["ExtraRule"] = copy.deepcopy(resources["NotifierRule"])
    resources["ExtraRule"]["Properties"]["EventPattern"] = {"detail-type": ["PaymentDeclined"]}
    diagram = "\n".join(mermaid(routes(resources), {}, len(CATALOG)))
    assert '"ExtraRule: PaymentDeclined" --> Notifier_in[NotifierFunction]' in diagram
