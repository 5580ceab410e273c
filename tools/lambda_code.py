"""Where the code Lambda loads lives in this repository, for the tools that import it.

Lambda puts the shared layer on /opt/python and a function's CodeUri (functions/) on /var/task.
The tests get both from pytest's `pythonpath` (pyproject.toml); a tool's entry point calls
`use_lambda_code()` before it imports `orderflow` or a function's package.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_LAYER = REPO_ROOT / "layers" / "shared"
FUNCTIONS = REPO_ROOT / "functions"


def use_lambda_code() -> None:
    """Make `orderflow` and the function packages importable in this process."""
    for path in (SHARED_LAYER, FUNCTIONS):
        if str(path) not in sys.path:
            sys.path.append(str(path))
