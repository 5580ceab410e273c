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

One thing is changed, because moto's EventBridge replay is not EventBridge's
(`_replay_like_eventbridge`): moto's StartReplay sends every archived event, whatever
EventStartTime and EventEndTime say, to every rule, ignoring Destination.FilterArns and
skipping the targets' InputTransformers. Here a replay sends the archived events whose
time is in the window, to the rules FilterArns names (all rules when it names none),
through each target's InputTransformer, with the `replay-name` field EventBridge adds
(so the archive's own rule does not archive them again). It still runs synchronously,
inside the StartReplay request: the replay is COMPLETED when DescribeReplay first answers.
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


def _read_the_clock_directly() -> None:
    """moto's `unix_time()` builds two datetimes to compute what time.time() returns.

    SQS calls it for every message on every receive and every GetQueueAttributes (each
    message's visible/delayed/retention check), which made it a quarter of moto's CPU. The
    value is the same; only a given datetime still goes through moto's own conversion.
    Patched before any moto service module imports the names.
    """
    import time

    from moto.core import utils

    to_seconds: Callable[..., float] = utils.unix_time

    def unix_time(dt: Any = None) -> float:
        return time.time() if dt is None else to_seconds(dt)

    def unix_time_millis(dt: Any = None) -> float:
        return unix_time(dt) * 1000.0

    utils.unix_time = unix_time
    utils.unix_time_millis = unix_time_millis


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
    # Patched before the service task modules import it by name. The pinned moto's
    # boto_client_for takes state_credentials but ignores them (every client uses the
    # same fixed keys), so one client per region and service is what it would build.
    from moto.stepfunctions.parser.asl.utils import boto_client

    create: Callable[..., Any] = boto_client.boto_client_for
    clients: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        with lock:
            if (region, service) not in clients:
                clients[(region, service)] = create(region, service)
            return clients[(region, service)]

    boto_client.boto_client_for = boto_client_for


def _send_small_responses_at_once() -> None:
    """Switch Nagle's algorithm off on moto's connections, as HTTP servers do.

    The server writes a response's headers and its body in two sends; with Nagle on, the
    body waits for the client to acknowledge the headers, which a delayed ACK holds back.
    """
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    MotoRequestHandler.disable_nagle_algorithm = True


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


def _epoch(value: Any) -> float:
    """An event's time as moto keeps it (epoch seconds, or the ISO string a PutEvents entry's Time gave)."""
    from datetime import datetime

    try:
        return float(value)
    except (TypeError, ValueError):
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def _replay_like_eventbridge() -> None:
    from moto.core.utils import unix_time
    from moto.events.models import EventsBackend, Replay, ReplayState, events_backends
    from moto.moto_api._internal import mock_random

    def replay_events(self: Any, archive: Any) -> None:
        start, end = float(self.event_start_time), float(self.event_end_time)
        filters = set(self.destination.get("FilterArns") or [])
        backend: EventsBackend = events_backends[self.account_id][self.region]
        bus = backend.describe_event_bus(self.destination["Arn"].split("/")[-1])
        rules = [rule for rule in bus.rules.values() if not filters or rule.arn in filters]
        for event in list(archive.events):
            if not start <= _epoch(event.get("time", 0)) <= end:
                continue
            replayed = {**event, "id": str(mock_random.uuid4()), "replay-name": self.name}
            for rule in rules:
                rule.send_to_targets(replayed)  # type: ignore[arg-type]
        self.state = ReplayState.COMPLETED
        self.end_time = unix_time()

    Replay.replay_events = replay_events  # type: ignore[method-assign]


def _back_up_transactions_by_item() -> None:
    """TransactWriteItems backs up the items it touches, not whole tables, and runs one at a time.

    moto deep-copies every table a transaction names, to roll back on failure: an audit
    append (a two-item transaction) copied the whole audit table, so each one cost more than
    the last. Here the touched items are saved before and put back if the transaction fails;
    and transactions are serialised, as DynamoDB isolates them (moto's threads interleave).
    """
    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    inside = threading.local()
    real_deepcopy = copy.deepcopy

    class TransactionCopy:
        """`copy` as moto's DynamoDB backend sees it: inside a transaction, tables are not copied."""

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            keep = isinstance(value, Table) and getattr(inside, "active", False)
            return value if keep else real_deepcopy(value, memo)

    def touched(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any], Any]]:
        saved = []
        for entry in transact_items:
            try:
                op_type, op = next(iter(entry.items()))
                table = backend.get_table(op["TableName"])
                attributes = op["Item"] if op_type == "Put" else op["Key"]
                key = {name: attributes[name] for name in (table.hash_key_attr, table.range_key_attr) if name}
                current = backend.get_item(op["TableName"], key)
            except Exception:  # a malformed operation: moto's own code reports it
                continue
            saved.append((op["TableName"], key, current.to_json()["Attributes"] if current else None))
        return saved

    def restore(backend: Any, saved: list[tuple[str, dict[str, Any], Any]]) -> None:
        for table_name, key, attributes in reversed(saved):
            if attributes is None:
                backend.delete_item(table_name, key)
            else:
                backend.put_item(table_name, attributes)

    original = DynamoDBBackend.transact_write_items
    lock = threading.Lock()

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with lock:
            saved = touched(self, transact_items)
            inside.active = True
            try:
                original(self, transact_items)
            except Exception:
                restore(self, saved)
                raise
            finally:
                inside.active = False

    setattr(models, "copy", TransactionCopy())  # noqa: B010  # the module global its code calls copy.deepcopy on
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _sibling(name: str) -> Any:
    """A module of this folder, loaded by path: the folder is not on sys.path (see main)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, os.path.join(os.path.dirname(__file__), f"{name}.py"))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dead_letter_sns_deliveries() -> None:
    """A failed SNS delivery goes to the subscription's DLQ, not to the publisher (moto_sns.py)."""
    _sibling("moto_sns").dead_letter_failed_deliveries()


def _keep_early_task_token_signals() -> None:
    """A heartbeat or an answer sent before moto's task waits is heard, as on AWS (moto_task_tokens.py)."""
    _sibling("moto_task_tokens").keep_early_task_token_signals()


def _query_by_hash_key() -> None:
    """A Query on a table's own hash key reads that key's items, not every item of the table.

    moto answers each Query by sorting the whole table and filtering it, so reading one
    order's audit trail (or one order's ledger entries) cost more with every order stored.
    The results are the same: only the candidates change, and moto filters and sorts them.
    """
    from moto.dynamodb.models.table import Table

    restricted = threading.local()
    whole_table = Table.all_items
    query = Table.query

    def all_items(self: Any) -> list[Any]:
        bucket = getattr(restricted, "bucket", None)
        if bucket is not None and bucket[0] is self:
            return list(bucket[1])
        return whole_table(self)

    def query_by_hash_key(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name is not None or hash_key is None:
            return query(self, hash_key, *args, **kwargs)
        found = self.items.get(hash_key)  # get: no insert into the defaultdict
        items = list(found.values()) if found and self.range_key_attr else [found] if found else []
        restricted.bucket = (self, items)
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            restricted.bucket = None

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query_by_hash_key  # type: ignore[method-assign]


def _operation(environ: dict[str, Any]) -> str:
    """The AWS operation a request calls: its X-Amz-Target, or its query Action, or its path."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target)
    from urllib.parse import parse_qs

    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if action:
        return str(action[0])
    return f"{environ.get('REQUEST_METHOD')} {str(environ.get('PATH_INFO', '')).split('/')[1:2]}"


def _profile_requests(path: str) -> None:
    """Count every request's CPU time per operation and write the totals to `path` every second.

    For `make bench`: it shows where moto's one core goes. Thread CPU time, not wall time,
    so requests waiting for the GIL are not charged for each other's work.
    """
    import json
    import time

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    totals: dict[str, list[float]] = {}
    lock = threading.Lock()
    dispatch = DomainDispatcherApplication.__call__

    def profiled(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        operation = _operation(environ)
        started = time.thread_time()
        try:
            return dispatch(self, environ, start_response)
        finally:
            spent = time.thread_time() - started
            with lock:
                entry = totals.setdefault(operation, [0, 0.0])
                entry[0] += 1
                entry[1] += spent

    def write_totals() -> None:
        while True:
            time.sleep(1)
            with lock:
                snapshot = {name: {"calls": calls, "cpu_seconds": cpu} for name, (calls, cpu) in totals.items()}
            with open(path + ".tmp", "w") as file:
                json.dump(snapshot, file)
            os.replace(path + ".tmp", path)

    DomainDispatcherApplication.__call__ = profiled  # type: ignore[method-assign]
    threading.Thread(target=write_totals, daemon=True).start()


def main() -> None:
    # This folder must not shadow anything moto imports.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [path for path in sys.path if os.path.abspath(path or ".") != here]
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no log line per request: the pollers make many
    _read_the_clock_directly()
    _cache_module_list()
    _cache_json_paths()
    _cache_step_functions_clients()
    _send_small_responses_at_once()
    _cache_state_machine_programs()
    _back_up_transactions_by_item()
    _query_by_hash_key()
    _replay_like_eventbridge()
    _dead_letter_sns_deliveries()
    _keep_early_task_token_signals()
    profile_path = os.environ.get("LOCALCLOUD_MOTO_PROFILE")
    if profile_path:
        _profile_requests(profile_path)
    from moto.server import main as serve

    sys.argv[0] = "moto_server"
    serve(sys.argv[1:])


if __name__ == "__main__":
    main()
