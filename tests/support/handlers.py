"""Import a function's handler module fresh, as a new execution environment would."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType


def load_handler(package: str) -> ModuleType:
    """`<package>.handler` (functions/<package>/handler.py), imported anew: its consumer and caches start empty."""
    name = f"{package}.handler"
    sys.modules.pop(name, None)
    return importlib.import_module(name)
