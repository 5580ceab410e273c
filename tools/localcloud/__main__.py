"""`python -m tools.localcloud demo|serve|token|load|chaos`: the local cloud from the command line."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from pathlib import Path

from tools.localcloud.cloud import DEFAULT_TIME_SCALE, LocalCloud
from tools.localcloud.console_target import console_attached


def parse_overrides(values: list[str]) -> dict[str, str]:
    overrides = {}
    for value in values:
        name, _, setting = value.partition("=")
        if not setting:
            raise SystemExit(f"--parameter-override wants Name=Value, got {value!r}")
        overrides[name] = setting
    return overrides


def print_endpoints(cloud: LocalCloud) -> None:
    env_vars = cloud.write_sam_env_vars(cloud.work_dir / "env.json")
    print(f"\nlocal cloud running: AWS APIs at {cloud.endpoint}, orders API at {cloud.api_url}")
    shown = env_vars.relative_to(Path.cwd()) if env_vars.is_relative_to(Path.cwd()) else env_vars
    print(f"sam local invoke: --env-vars {shown} --add-host host.docker.internal:host-gateway")
    if cloud.listen.startswith("127."):
        print("  (Lambda containers need the AWS APIs beyond loopback: serve with --listen 0.0.0.0)")
    print("use it from another shell:")
    for name, value in cloud.environment().items():
        print(f"  export {name}={value}")
    print("  TOKEN=$(python -m tools.localcloud token --customer ada)")
    print(f'  curl -H "Authorization: Bearer $TOKEN" {cloud.api_url}/orders/<order_id>')
    print(f"  aws sqs list-queues; aws stepfunctions list-executions --state-machine-arn {cloud.ref('OrderSaga')}")
    print("  aws cloudwatch describe-alarms --state-value ALARM")
    print("Ctrl-C stops it.")


def wait_for_interrupt() -> None:
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with contextlib.suppress(KeyboardInterrupt):
        stopped.wait()


def run_until_interrupted(cloud: LocalCloud) -> None:
    """Print how to reach the local cloud, let the `orderflow` console find it, and run until Ctrl-C."""
    print_endpoints(cloud)
    with console_attached(cloud) as target_file:
        print(f"operations console: .venv/bin/orderflow --local status   (it finds this cloud through {target_file})")
        wait_for_interrupt()


def token_main(argv: list[str]) -> int:
    """`token --customer NAME`: sign NAME in to the running local cloud's user pool; print the bearer token."""
    from tools.console.target import TargetError, from_local
    from tools.localcloud.cognito import Customers

    parser = argparse.ArgumentParser(prog="python -m tools.localcloud token", description=token_main.__doc__)
    parser.add_argument("--customer", required=True, help="the customer's name; created on first sign-in")
    args = parser.parse_args(argv)
    try:
        target = from_local()
        [pool] = target.of_type("AWS::Cognito::UserPool")
        [client] = target.of_type("AWS::Cognito::UserPoolClient")
    except (TargetError, ValueError) as error:
        print(f"no local cloud with one user pool app client: {error}", file=sys.stderr)
        return 1
    customers = Customers(target.client("cognito-idp"), pool.physical_id, client.physical_id)
    print(customers.token(args.customer))
    return 0


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["chaos"]:  # the chaos run has flags of its own: `chaos --help`
        from tools.localcloud.chaos import main as chaos_main

        return chaos_main(arguments[1:])
    if arguments[:1] == ["token"]:  # a bearer token for a customer of the running local cloud
        return token_main(arguments[1:])
    if arguments[:1] == ["load"]:  # the load test has flags of its own: `load --help`
        from tools.localcloud.load import main as load_main

        return load_main(arguments[1:])
    parser = argparse.ArgumentParser(prog="python -m tools.localcloud", description=__doc__)
    parser.add_argument("command", choices=["demo", "serve"], help="demo: run the main job and report; serve: just run")
    parser.add_argument("--keep-running", action="store_true", help="demo: keep the local cloud up after the report")
    parser.add_argument("--orders", type=int, default=8, help="demo: how many ordinary orders to place")
    parser.add_argument("--moto-port", type=int, default=None, help="AWS APIs port (serve: 5000, demo: a free one)")
    parser.add_argument(
        "--api-port", type=int, default=None, help="orders HTTP API port (serve: 3000, demo: a free one)"
    )
    parser.add_argument(
        "--listen", default="127.0.0.1", help="address the AWS APIs listen on (0.0.0.0 for sam local invoke containers)"
    )
    parser.add_argument(
        "--time-scale", type=float, default=DEFAULT_TIME_SCALE, help="factor applied to visibility timeouts"
    )
    parser.add_argument(
        "--parameter-override", action="append", default=[], metavar="Name=Value", help="template parameter"
    )
    args = parser.parse_args(argv)

    overrides = {"StepTimeoutSeconds": "20", **parse_overrides(args.parameter_override)}
    serving = args.command == "serve"
    cloud = LocalCloud(
        parameter_overrides=overrides,
        moto_port=args.moto_port or (5000 if serving else None),
        api_port=args.api_port or (3000 if serving else None),
        time_scale=args.time_scale,
        listen=args.listen,
    )
    print("starting the local cloud from template.yaml ...", flush=True)
    with cloud:
        if args.command == "serve":
            from tools.localcloud import ledgers
            from tools.localcloud.demo import STOCK

            ledgers.seed_stock(cloud, STOCK)
            print(f"seeded stock: {', '.join(f'{sku} {quantity}' for sku, quantity in STOCK.items())}")
            run_until_interrupted(cloud)
            return 0
        from tools.localcloud.demo import run_demo

        report = run_demo(cloud, happy_orders=args.orders)
        print("\n".join(report.lines))
        print()
        if report.broken:
            print(f"FAILED: {len(report.broken)} invariant(s) broken: {'; '.join(report.broken)}")
        else:
            print("OK: every invariant holds")
        if args.keep_running:
            run_until_interrupted(cloud)
        return 1 if report.broken else 0


if __name__ == "__main__":
    sys.exit(main())
