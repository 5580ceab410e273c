"""Provisioners for names, tables, streams, state machines, alarms and dashboards.

Each takes the `Stack`, creates its resource type on moto as the template declares it,
and records the physical ids (Ref value and attributes) the rest of the template refers to.
"""

from __future__ import annotations

import json
from typing import Any

from tools.localcloud.intrinsics import UnresolvedError
from tools.localcloud.stack import ACCOUNT, REGION, Stack
from tools.localcloud.tables import create_table

ALARM_PROPERTIES = (
    "AlarmDescription",
    "Namespace",
    "MetricName",
    "Dimensions",
    "Statistic",
    "Period",
    "EvaluationPeriods",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "DatapointsToAlarm",
    "ActionsEnabled",
    "AlarmActions",
    "OKActions",
    "InsufficientDataActions",
)


def name_passive_resources(stack: Stack) -> None:
    """Resources that exist only as names here (roles, log groups, layers, APIs), and the names of
    functions and state machines, which other resources refer to before they are created."""
    for logical_id, resource in stack.template.resources.items():
        kind, name = resource["Type"], stack.name(logical_id)
        if kind == "AWS::IAM::Role":
            stack.add(logical_id, name, Arn=f"arn:aws:iam::{ACCOUNT}:role/{name}", RoleId=name)
        elif kind == "AWS::Logs::LogGroup":
            stack.add(logical_id, name, Arn=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*")
        elif kind == "AWS::Lambda::LayerVersion":
            stack.add(logical_id, f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{name}:1")
        elif kind == "AWS::ApiGatewayV2::Api":
            stack.add(logical_id, "localapi", ApiEndpoint="http://127.0.0.1")
        elif kind == "AWS::Lambda::Function":
            name = str(stack.resolver.resolve(resource.get("Properties", {}).get("FunctionName", name)))
            stack.add(logical_id, name, Arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}")
        elif kind == "AWS::StepFunctions::StateMachine":
            arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
            stack.add(logical_id, arn, Arn=arn, Name=name)


def provision_tables(stack: Stack) -> None:
    dynamodb = stack.client("dynamodb")
    for logical_id, resource in stack.resources("AWS::DynamoDB::Table").items():
        props = stack.props(resource)
        name = props.get("TableName", stack.name(logical_id))
        arn = create_table(dynamodb, name, props)
        stack.add(logical_id, name, Arn=arn, StreamArn=f"{arn}/stream/local")


def provision_streams(stack: Stack) -> None:
    kinesis = stack.client("kinesis")
    for logical_id, resource in stack.resources("AWS::Kinesis::Stream").items():
        props = stack.props(resource)
        name = props.get("Name", stack.name(logical_id))
        kinesis.create_stream(StreamName=name, ShardCount=int(props.get("ShardCount", 1)))
        if "RetentionPeriodHours" in props and int(props["RetentionPeriodHours"]) > 24:
            kinesis.increase_stream_retention_period(
                StreamName=name, RetentionPeriodHours=int(props["RetentionPeriodHours"])
            )
        encryption = props.get("StreamEncryption")
        if encryption:
            kinesis.start_stream_encryption(
                StreamName=name, EncryptionType=encryption["EncryptionType"], KeyId=encryption["KeyId"]
            )
        stack.add(logical_id, name, Arn=f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{name}")


def state_machine_definition(stack: Stack, logical_id: str, substitutions: dict[str, Any]) -> str:
    """The definition file named by DefinitionUri (or the inline one), with DefinitionSubstitutions applied."""
    path = stack.template.local_path(logical_id)
    if path is None:
        properties = stack.template.resources[logical_id]["Properties"]
        inline = properties.get("Definition") or properties.get("DefinitionString")
        if inline is None:
            raise UnresolvedError(f"{logical_id}: no definition")
        text = inline if isinstance(inline, str) else json.dumps(inline)
    else:
        text = path.read_text()
    for key, value in substitutions.items():
        text = text.replace("${" + key + "}", str(value))
    return text


def provision_state_machines(stack: Stack) -> None:
    stepfunctions = stack.client("stepfunctions")
    for logical_id, resource in stack.resources("AWS::StepFunctions::StateMachine").items():
        props = resource.get("Properties", {})
        substitutions = stack.resolver.resolve(props.get("DefinitionSubstitutions", {}))
        name = stack.attribute(logical_id, "Name")
        arn = stepfunctions.create_state_machine(
            name=name,
            definition=state_machine_definition(stack, logical_id, substitutions),
            roleArn=stack.resolver.resolve(props.get("RoleArn", f"arn:aws:iam::{ACCOUNT}:role/{name}")),
            type=props.get("StateMachineType", "STANDARD"),
        )["stateMachineArn"]
        stack.add(logical_id, arn, Arn=arn, Name=name)


def provision_alarms(stack: Stack) -> None:
    """Alarms in moto's CloudWatch; the local cloud's AlarmEvaluator (alarms.py) evaluates them."""
    cloudwatch = stack.client("cloudwatch")
    for logical_id, resource in stack.resources("AWS::CloudWatch::Alarm").items():
        props = stack.props(resource)
        name = props.get("AlarmName", stack.name(logical_id))
        cloudwatch.put_metric_alarm(AlarmName=name, **{key: props[key] for key in ALARM_PROPERTIES if key in props})
        stack.add(logical_id, name, Arn=f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}")


def provision_dashboards(stack: Stack) -> None:
    cloudwatch = stack.client("cloudwatch")
    for logical_id, resource in stack.resources("AWS::CloudWatch::Dashboard").items():
        props = stack.props(resource)
        name = props.get("DashboardName", stack.name(logical_id))
        cloudwatch.put_dashboard(DashboardName=name, DashboardBody=props["DashboardBody"])
        stack.add(logical_id, name)
