"""`sam build` turns the template into deployable artifacts: the layer carries the package and its dependencies."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools.localcloud.template import load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
SAM = Path(sys.executable).with_name("sam")


@pytest.mark.skipif(not SAM.exists(), reason="SAM CLI is installed by `make test` into .venv")
def test_sam_build_packages_every_function_and_the_shared_layer(tmp_path: Path) -> None:
    build_dir = tmp_path / "build"
    result = subprocess.run(
        [str(SAM), "build", "--parallel", "--template", "template.yaml", "--build-dir", str(build_dir)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    layer = build_dir / "SharedLayer" / "python"
    assert (layer / "orderflow" / "catalog.py").is_file()
    assert (layer / "aws_lambda_powertools").is_dir()
    assert list(layer.glob("pydantic_core/_pydantic_core*.so")), "pydantic-core must be built for the Lambda platform"
    functions = {
        logical_id: resource["Properties"]["Handler"]
        for logical_id, resource in load_template().sam["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert len(functions) == len(list(REPO_ROOT.glob("functions/*/handler.py")))
    for logical_id, handler in functions.items():
        package = handler.removesuffix(".handler.lambda_handler")
        built = build_dir / logical_id / package / "handler.py"
        assert built.is_file(), f"{logical_id}: {built} missing (Handler {handler})"
    shutil.rmtree(build_dir, ignore_errors=True)
