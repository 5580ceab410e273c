"""A copy of template.yaml with one more consumer declared, exactly as a user would add one."""

from __future__ import annotations

from pathlib import Path

from tools.generate_template import TEMPLATE, load_declarations, render
from tools.lambda_code import REPO_ROOT

THROWAWAY_CODE = REPO_ROOT / "tests" / "integration" / "throwaway_consumer"
THROWAWAY = {
    "service": "throwaway",
    "code": str(THROWAWAY_CODE) + "/",
    "handler": "handler.lambda_handler",
    "description": "A consumer added by a test.",
    "events": ["OrderConfirmed"],
}


def template_with_throwaway_consumer(directory: Path) -> Path:
    """Write the template (and links to the code it names) into `directory`; returns its path."""
    for folder in ("functions", "layers", "statemachines"):
        (directory / folder).symlink_to(REPO_ROOT / folder, target_is_directory=True)
    declarations = {**load_declarations(), "Throwaway": THROWAWAY}
    path = directory / "template.yaml"
    path.write_text(render(TEMPLATE.read_text(), declarations))
    return path
