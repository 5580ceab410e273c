"""Provisioners (see provisioners.py) for data and operations: names, tables, streams, state machines, alarms."""

from __future__ import annotations

import json
from typing import Any

from tools.localcloud.intrinsics import UnresolvedError
from tools.localcloud.stack import ACCOUNT, REGION, Stack, words
from tools.localcloud.tables import create_table

ALARM_PROPERTIES = words(
    "AlarmDescription Namespace MetricName Dimensions Statistic Period EvaluationPeriods Threshold ComparisonOperator "
    "TreatMissingData DatapointsToAlarm ActionsEnabled AlarmActions OKActions InsufficientDataActions"
)


# The names and ARNs of resources that exist only as names here, and of functions and state machines,
# which other resources refer to before they are created. {name} is the physical name.
_NAMED = {
    "AWS::IAM::Role": ("{name}", {"Arn": "arn:aws:iam::{account}:role/{name}", "RoleId": "{name}"}),
    "AWS::Logs::LogGroup": ("{name}", {"Arn": "arn:aws:logs:{region}:{account}:log-group:{name}:*"}),
    "AWS::Lambda::LayerVersion": ("arn:aws:lambda:{region}:{account}:layer:{name}:1", {}),
    "AWS::ApiGatewayV2::Api": ("localapi", {"ApiEndpoint": "http://127.0.0.1"}),
    # Not provisioned (moto has no EventSchemas service), but its schemas name it.
    "AWS::EventSchemas::Registry": (
        "arn:aws:schemas:{region}:{account}:registry/{name}",
        {"RegistryArn": "arn:aws:schemas:{region}:{account}:registry/{name}", "RegistryName": "{name}"},
    ),
    "AWS::Lambda::Function": ("{name}", {"Arn": "arn:aws:lambda:{region}:{account}:function:{name}"}),
    "AWS::StepFunctions::StateMachine": (
        "arn:aws:states:{region}:{account}:stateMachine:{name}",
        {"Arn": "arn:aws:states:{region}:{account}:stateMachine:{name}", "Name": "{name}"},
    ),
}


def name_passive_resources(stack: Stack) -> None:
    """Names first: roles, log groups, layers, APIs and the schema registry exist only as names; functions may be
    named."""
    for logical_id, resource in stack.template.resources.items():
        if resource["Type"] not in _NAMED:
            continue
        declared_name = resource.get("Properties", {}).get("FunctionName", stack.name(logical_id))
        values = {"name": str(stack.resolver.resolve(declared_name)), "region": REGION, "account": ACCOUNT}
        ref, attributes = _NAMED[resource["Type"]]
        stack.add(logical_id, ref.format(**values), **{key: text.format(**values) for key, text in attributes.items()})


def provision_tables(stack: Stack) -> None:
    dynamodb = stack.client("dynamodb")
    for logical_id, props, name in stack.declared("AWS::DynamoDB::Table", "TableName"):
        arn = create_table(dynamodb, name, props)
        stream_arn = dynamodb.describe_table(TableName=name)["Table"].get("LatestStreamArn")
        stack.add(logical_id, name, Arn=arn, **({"StreamArn": stream_arn} if stream_arn else {}))


def provision_streams(stack: Stack) -> None:
    kinesis = stack.client("kinesis")
    for logical_id, props, name in stack.declared("AWS::Kinesis::Stream", "Name"):
        mode = props.get("StreamModeDetails", {"StreamMode": "PROVISIONED"})
        if mode["StreamMode"] == "ON_DEMAND":
            # moto starts an on-demand stream with 4 shards, as AWS starts one at 4 MB/s; it never scales it.
            kinesis.create_stream(StreamName=name, StreamModeDetails=mode)
        else:
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
    for logical_id, props, name in stack.declared("AWS::CloudWatch::Alarm", "AlarmName"):
        cloudwatch.put_metric_alarm(AlarmName=name, **{key: props[key] for key in ALARM_PROPERTIES if key in props})
        stack.add(logical_id, name, Arn=f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}")


def provision_dashboards(stack: Stack) -> None:
    cloudwatch = stack.client("cloudwatch")
    for logical_id, props, name in stack.declared("AWS::CloudWatch::Dashboard", "DashboardName"):
        cloudwatch.put_dashboard(DashboardName=name, DashboardBody=props["DashboardBody"])
        stack.add(logical_id, name)


def provision_buckets(stack: Stack) -> None:
    """Each bucket with its versioning and public access block; the name CloudFormation would give (lower case)."""
    s3 = stack.client("s3")
    for logical_id, props, declared_name in stack.declared("AWS::S3::Bucket", "BucketName"):
        name = declared_name.lower()
        s3.create_bucket(Bucket=name)  # in us-east-1 (REGION), which takes no LocationConstraint
        versioning = props.get("VersioningConfiguration", {}).get("Status")
        if versioning:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning})
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        stack.add(logical_id, name, Arn=f"arn:aws:s3:::{name}", DomainName=f"{name}.s3.amazonaws.com")
