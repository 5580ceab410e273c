"""A file a tool generates: written with `make <target>`, checked for staleness with `--check`."""

from __future__ import annotations

from pathlib import Path

from tools.lambda_code import REPO_ROOT


def write_or_check(path: Path, wanted: str, check: bool, make_target: str) -> int:
    """With `check`, 1 when `path` differs from `wanted` (saying which target regenerates it); else write it."""
    name = path.relative_to(REPO_ROOT)
    if check:
        if not path.exists() or path.read_text() != wanted:
            print(f"{name} is stale: run `make {make_target}`")
            return 1
        print(f"{name} is up to date")
        return 0
    path.write_text(wanted)
    print(f"wrote {name}")
    return 0
