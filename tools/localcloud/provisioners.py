"""The registry of provisioners: one per resource type, in the order their references need.

A provisioner takes the `Stack`, creates its resources on moto and records their physical
ids (and, for what runs, a spec the local cloud starts). A new resource type is one function
and one line here. Types without a provisioner are named at start-up by fidelity.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tools.localcloud.cognito import provision_user_pool_clients, provision_user_pools
from tools.localcloud.pipes import provision_pipes
from tools.localcloud.provision_data import (
    name_passive_resources,
    provision_alarms,
    provision_buckets,
    provision_dashboards,
    provision_state_machines,
    provision_streams,
    provision_tables,
)
from tools.localcloud.provision_messaging import (
    provision_archives,
    provision_buses,
    provision_keys,
    provision_queue_policies,
    provision_queues,
    provision_subscriptions,
    provision_topics,
)
from tools.localcloud.provision_runtime import (
    provision_functions,
    provision_http_api,
    provision_mappings,
    provision_rules,
)
from tools.localcloud.stack import Stack


@dataclass(frozen=True)
class Provisioner:
    resource_types: tuple[str, ...]
    provision: Callable[[Stack], None]


PROVISIONERS: tuple[Provisioner, ...] = (
    # Names first: functions and state machines are referred to before they exist.
    Provisioner(
        (
            "AWS::IAM::Role",
            "AWS::Logs::LogGroup",
            "AWS::Lambda::LayerVersion",
            "AWS::ApiGatewayV2::Api",
            "AWS::EventSchemas::Registry",
        ),
        name_passive_resources,
    ),
    Provisioner(("AWS::KMS::Key", "AWS::KMS::Alias"), provision_keys),
    Provisioner(("AWS::Cognito::UserPool",), provision_user_pools),
    Provisioner(("AWS::Cognito::UserPoolClient",), provision_user_pool_clients),
    Provisioner(("AWS::Events::EventBus",), provision_buses),
    Provisioner(("AWS::SNS::Topic",), provision_topics),
    Provisioner(("AWS::SQS::Queue",), provision_queues),
    Provisioner(("AWS::DynamoDB::Table",), provision_tables),
    Provisioner(("AWS::S3::Bucket",), provision_buckets),
    Provisioner(("AWS::Kinesis::Stream",), provision_streams),
    Provisioner(("AWS::SNS::Subscription",), provision_subscriptions),
    Provisioner(("AWS::StepFunctions::StateMachine",), provision_state_machines),
    Provisioner(("AWS::Lambda::Function",), provision_functions),
    Provisioner(("AWS::Events::Rule",), provision_rules),
    Provisioner(("AWS::SQS::QueuePolicy",), provision_queue_policies),  # after rules: a policy names its rule
    Provisioner(("AWS::Events::Archive",), provision_archives),
    Provisioner(("AWS::Lambda::EventSourceMapping",), provision_mappings),
    Provisioner(("AWS::Pipes::Pipe",), provision_pipes),
    Provisioner((), provision_http_api),  # the functions' HttpApi events (the SAM template's)
    Provisioner(("AWS::CloudWatch::Alarm",), provision_alarms),
    Provisioner(("AWS::CloudWatch::Dashboard",), provision_dashboards),
)

PROVISIONED_TYPES = frozenset(kind for provisioner in PROVISIONERS for kind in provisioner.resource_types)


def provision(stack: Stack) -> None:
    """Every resource of the template, type by type."""
    for provisioner in PROVISIONERS:
        provisioner.provision(stack)
