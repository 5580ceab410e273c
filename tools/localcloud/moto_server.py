"""moto's server as the local cloud runs it: quiet, and without work it repeats on every request.

Run as a script (`python moto_server.py -H host -p port`). Profiling the local
cloud under load showed moto's one process (one GIL) spending most of its time
redoing the same work, which made every AWS call take 100-400 ms:

- every request lists moto's package folder (os.listdir + a stat per service) under a global lock;
- every rule target's InputTransformer builds a new JSONPath parser (PLY tables) per path per event;
- every Step Functions service task creates a new boto3 client (botocore lists its data folder);
- every execution parses the ASL definition again with the (slow) antlr Python runtime.

Each is cached here. Nothing changes in what moto does: the module list and the
parsed JSONPaths are immutable, boto3 clients are thread-safe, and each execution
gets its own deep copy of the parsed program, as a fresh parse would give it.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Any


def _cache_module_list() -> None:
    import moto.backends

    modules = tuple(moto.backends.list_of_moto_modules())
    moto.backends.list_of_moto_modules = lambda: modules


def _cache_json_paths() -> None:
    import jsonpath_ng
    import jsonpath_ng.ext

    for module in (jsonpath_ng, jsonpath_ng.ext):
        module.parse = functools.lru_cache(maxsize=4096)(module.parse)  # type: ignore[attr-defined]


def _cache_step_functions_clients() -> None:
    # Patched before the service task modules import it by name.
    from moto.stepfunctions.parser.asl.utils import boto_client

    create: Callable[..., Any] = boto_client.boto_client_for
    clients: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        if state_credentials is not None:
            return create(region, service, state_credentials)
        with lock:
            if (region, service) not in clients:
                clients[(region, service)] = create(region, service)
            return clients[(region, service)]

    boto_client.boto_client_for = boto_client_for


def _cache_state_machine_programs() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    parse: Callable[[str], tuple[Any, Any]] = AmazonStateLanguageParser.parse
    parsed: dict[str, tuple[Any, Any]] = {}
    lock = threading.Lock()

    def parse_once(definition: str) -> tuple[Any, Any]:
        with lock:
            if definition not in parsed:
                parsed[definition] = parse(definition)
            program, tree = parsed[definition]
        return copy.deepcopy(program), tree

    AmazonStateLanguageParser.parse = staticmethod(parse_once)  # type: ignore[method-assign,assignment]


def main() -> None:
    # This folder must not shadow anything moto imports.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [path for path in sys.path if os.path.abspath(path or ".") != here]
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no log line per request: the pollers make many
    _cache_module_list()
    _cache_json_paths()
    _cache_step_functions_clients()
    _cache_state_machine_programs()
    from moto.server import main as serve

    sys.argv[0] = "moto_server"
    serve(sys.argv[1:])


if __name__ == "__main__":
    main()
