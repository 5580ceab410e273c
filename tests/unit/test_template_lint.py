"""cfn-lint and `sam validate --lint` find nothing in template.yaml: no errors, no warnings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(tool: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    executable = BIN / tool
    if not executable.exists():
        pytest.skip(f"{tool} is installed by `make test` into .venv")
    return subprocess.run(
        [str(executable), *arguments],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"},
        check=False,
    )


def test_cfn_lint_reports_nothing() -> None:
    result = run("cfn-lint", "template.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_sam_validate_lint_passes() -> None:
    result = run("sam", "validate", "--lint", "--template", "template.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr
