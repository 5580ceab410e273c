"""Import a function's handler.py under a unique module name (every function has one)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def load_handler(service: str) -> ModuleType:
    """functions/<service>/handler.py as module `<service>_handler`, imported fresh."""
    path = FUNCTIONS / service / "handler.py"
    name = f"{service}_handler"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
