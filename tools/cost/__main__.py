"""`make cost`: per-order usage, cost per million orders and capacity ceiling, from the template and the ASL.

python -m tools.cost                      # print the report (Markdown)
python -m tools.cost --record-ms 20       # with other assumptions (printed only)
python -m tools.cost --write              # also rewrite README.md's generated region (default assumptions)
python -m tools.cost --check              # exit 1 if README.md's region is stale
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from tools.cost.model import Assumptions, load_prices, topology
from tools.cost.report import render
from tools.cost.saga import load_definition, paths
from tools.cost.work import Sizes
from tools.lambda_code import REPO_ROOT

README = REPO_ROOT / "README.md"
BEGIN, END = "<!-- >>> generated: cost (by `make cost`; do not edit by hand) -->", "<!-- <<< generated: cost -->"


def report(assumptions: Assumptions, template_path: Path | None = None) -> str:
    """The report for the template at `template_path` (the repository's by default)."""
    from tools.event_topology import example_events, routes
    from tools.localcloud.template import TEMPLATE_PATH, load_template

    template = load_template(template_path or TEMPLATE_PATH)
    examples = example_events()
    topo = topology(template, routes(template.sam["Resources"], examples), examples)
    return render(paths(load_definition(template)), topo, assumptions, load_prices())


def readme_region(text: str) -> re.Match[str]:
    match = re.search(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), text, re.DOTALL)
    if match is None:
        raise SystemExit(f"README.md has no region {BEGIN} ... {END}")
    return match


def with_region(text: str, body: str) -> str:
    match = readme_region(text)
    return text[: match.start(1)] + body + text[match.end(1) :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults, sizes = Assumptions(), Sizes()
    parser.add_argument("--record-ms", type=float, default=defaults.record_ms, help="time per record per function")
    parser.add_argument("--one-per-batch", action="store_true", help="light load: every batch holds one record")
    parser.add_argument("--lines", type=int, default=sizes.order_lines, help="SKUs per order")
    parser.add_argument("--order-item-kb", type=float, default=sizes.order_item_kb, help="orders table item size")
    parser.add_argument("--write", action="store_true", help="rewrite README.md's region (default assumptions)")
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md's region is stale")
    args = parser.parse_args(argv)
    chosen = Assumptions(
        record_ms=args.record_ms,
        full_batches=not args.one_per_batch,
        sizes=Sizes(order_lines=args.lines, order_item_kb=args.order_item_kb),
    )
    standard = report(defaults)
    if args.check:
        if readme_region(README.read_text()).group(1) != standard:
            print("README.md's cost region is stale: run `make cost`", file=sys.stderr)
            return 1
        return 0
    print(standard if chosen == defaults else report(chosen), end="")
    if args.write:
        README.write_text(with_region(README.read_text(), standard))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
