"""What in the template the local cloud does not emulate, named at start-up: one warning per resource.

For each resource type the local cloud provisions, the properties it emulates (it does what
AWS does with them) and the inert ones (nothing a local run could observe depends on them:
tags, descriptions, encryption at rest with keys every caller may use, log and trace settings).
Any other property, a resource type the local cloud does not know, and access control (IAM,
resource policies, key policies: never enforced locally) is reported, so nothing in the
template is dropped without a word.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from tools.localcloud.template import Template

logger = logging.getLogger("tools.localcloud")

COMMON_INERT = frozenset({"Tags", "Description"})
NOT_ENFORCED = "access control is not enforced locally: anything may call anything"
ACCESS_CONTROL_TYPES = frozenset(
    {
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::Lambda::Permission",
        "AWS::Events::EventBusPolicy",
        "AWS::SNS::TopicPolicy",
        "AWS::SQS::QueuePolicy",
    }
)
# Types moto does not serve and nothing at run time reads: named at start-up with why they change nothing.
NOT_PROVISIONED = dict.fromkeys(
    ("AWS::EventSchemas::Registry", "AWS::EventSchemas::Schema"),
    "moto has no EventSchemas service; nothing at run time reads the registry (consumers validate with "
    "the event models, whose schemas are also in schemas/)",
)
DELIVERED_TARGET_SERVICES = ("sqs", "kinesis", "states")  # moto delivers to SQS, a bridge to the others
TARGET_EMULATED = frozenset({"Id", "Arn", "DeadLetterConfig", "RetryPolicy", "KinesisParameters", "RoleArn"})
QUEUE_TARGET_EMULATED = frozenset({"Input", "InputPath", "InputTransformer", "SqsParameters"})
SERVICE_OF_TYPE = {
    "AWS::SQS::Queue": "sqs",
    "AWS::Kinesis::Stream": "kinesis",
    "AWS::StepFunctions::StateMachine": "states",
    "AWS::Lambda::Function": "lambda",
    "AWS::SNS::Topic": "sns",
    "AWS::Events::EventBus": "events",
    "AWS::Logs::LogGroup": "logs",
}


@dataclass(frozen=True)
class Coverage:
    emulated: frozenset[str]
    inert: frozenset[str] = frozenset()

    def covers(self, name: str) -> bool:
        return name in self.emulated or name in self.inert or name in COMMON_INERT


def _coverage(emulated: str, inert: str = "") -> Coverage:
    return Coverage(frozenset(emulated.split()), frozenset(inert.split()))


COVERAGE: dict[str, Coverage] = {
    "AWS::SQS::Queue": _coverage(
        "QueueName VisibilityTimeout MessageRetentionPeriod DelaySeconds ReceiveMessageWaitTimeSeconds "
        "MaximumMessageSize RedrivePolicy FifoQueue ContentBasedDeduplication",
        "SqsManagedSseEnabled KmsMasterKeyId KmsDataKeyReusePeriodSeconds",
    ),
    "AWS::SNS::Topic": _coverage("TopicName", "DisplayName SignatureVersion TracingConfig DeliveryStatusLogging"),
    "AWS::SNS::Subscription": _coverage(
        "TopicArn Protocol Endpoint FilterPolicy FilterPolicyScope RawMessageDelivery RedrivePolicy"
    ),
    "AWS::DynamoDB::Table": _coverage(
        "TableName AttributeDefinitions KeySchema GlobalSecondaryIndexes LocalSecondaryIndexes StreamSpecification",
        # Expired items are deleted within days on AWS: nothing may rely on when, so never is within bounds.
        "BillingMode TimeToLiveSpecification PointInTimeRecoverySpecification SSESpecification "
        "DeletionProtectionEnabled ContributorInsightsSpecification TableClass",
    ),
    # The claim-check bucket (orderflow.claim_check). moto keeps objects unencrypted and nothing local is public,
    # so encryption, the public access block and ownership change nothing a test could see; its lifecycle
    # expires objects after days, which no local run reaches (never is within bounds, as for a table's TTL).
    "AWS::S3::Bucket": _coverage(
        "BucketName VersioningConfiguration PublicAccessBlockConfiguration",
        "BucketEncryption OwnershipControls LifecycleConfiguration",
    ),
    "AWS::Kinesis::Stream": _coverage("Name ShardCount StreamModeDetails RetentionPeriodHours", "StreamEncryption"),
    "AWS::StepFunctions::StateMachine": _coverage(
        "Definition DefinitionString DefinitionS3Location DefinitionSubstitutions StateMachineType",
        "RoleArn LoggingConfiguration TracingConfiguration EncryptionConfiguration",
    ),
    "AWS::Lambda::Function": _coverage(
        "FunctionName Handler Code Environment Timeout MemorySize Layers ReservedConcurrentExecutions",
        "Role Runtime Architectures TracingConfig LoggingConfig KmsKeyArn EphemeralStorage RuntimeManagementConfig",
    ),
    "AWS::Lambda::EventSourceMapping": _coverage(
        "FunctionName EventSourceArn BatchSize MaximumBatchingWindowInSeconds FunctionResponseTypes FilterCriteria "
        "Enabled StartingPosition BisectBatchOnFunctionError MaximumRetryAttempts MaximumRecordAgeInSeconds "
        "DestinationConfig ScalingConfig",
        "MetricsConfig KMSKeyArn",
    ),
    "AWS::Lambda::LayerVersion": _coverage(
        "Content", "LayerName CompatibleRuntimes CompatibleArchitectures LicenseInfo"
    ),
    "AWS::Events::EventBus": _coverage("Name", "KmsKeyIdentifier"),
    "AWS::Events::Rule": _coverage("Name EventBusName EventPattern State Targets", "RoleArn"),
    "AWS::Events::Archive": _coverage("ArchiveName SourceArn EventPattern RetentionDays", "KmsKeyIdentifier"),
    "AWS::KMS::Key": _coverage(
        "EnableKeyRotation",
        "Enabled KeySpec KeyUsage MultiRegion Origin PendingWindowInDays RotationPeriodInDays "
        "BypassPolicyLockoutSafetyCheck",
    ),
    "AWS::KMS::Alias": _coverage("AliasName TargetKeyId"),
    "AWS::Logs::LogGroup": _coverage("", "LogGroupName RetentionInDays KmsKeyId LogGroupClass DataProtectionPolicy"),
    "AWS::ApiGatewayV2::Api": _coverage("Body", "Name FailOnWarnings DisableExecuteApiEndpoint"),
    # DefaultRouteSettings' throttle and the access log (its format) are applied by httpapi.py.
    "AWS::ApiGatewayV2::Stage": _coverage("ApiId StageName DefaultRouteSettings AccessLogSettings", "AutoDeploy"),
    # moto's Cognito issues the tokens the local HTTP API verifies (cognito.py, api_auth.py); moto's tokens
    # always last an hour, whatever the client's validity settings.
    "AWS::Cognito::UserPool": _coverage(
        "UserPoolName Policies",
        "AccountRecoverySetting AutoVerifiedAttributes DeletionProtection EmailConfiguration MfaConfiguration "
        "UserPoolTags VerificationMessageTemplate",
    ),
    "AWS::Cognito::UserPoolClient": _coverage(
        "UserPoolId ClientName GenerateSecret ExplicitAuthFlows",
        "PreventUserExistenceErrors EnableTokenRevocation",
    ),
    "AWS::CloudWatch::Alarm": _coverage(
        "AlarmName AlarmDescription Namespace MetricName Dimensions Statistic Period EvaluationPeriods Threshold "
        "ComparisonOperator TreatMissingData DatapointsToAlarm ActionsEnabled AlarmActions OKActions "
        "InsufficientDataActions"
    ),
    "AWS::CloudWatch::Dashboard": _coverage("DashboardName DashboardBody"),
    # Run by pipes.py from a DynamoDB stream to a bus (the role is access control: not enforced).
    "AWS::Pipes::Pipe": _coverage(
        "Name Source SourceParameters Enrichment Target TargetParameters", "RoleArn DesiredState LogConfiguration"
    ),
}


@dataclass(frozen=True)
class Unemulated:
    """A resource the local cloud runs without some of what its template says (or not at all)."""

    logical_id: str
    resource_type: str
    properties: tuple[str, ...]  # empty: the whole resource
    reason: str

    def message(self) -> str:
        what = ", ".join(self.properties) if self.properties else "the whole resource"
        return f"{self.logical_id} ({self.resource_type}): not emulated locally: {what}; {self.reason}"


def _special(resource_type: str, props: dict[str, Any], template: Template) -> Iterator[str]:
    """What a resource's nested settings ask for that the local cloud does not do."""
    if resource_type == "AWS::Lambda::Function" and not str(props.get("Runtime", "python")).startswith("python"):
        yield f"Runtime {props['Runtime']} (functions run on the local Python)"
    if resource_type == "AWS::SNS::Subscription" and props.get("Protocol") != "sqs":
        yield f"Protocol {props.get('Protocol')} (only SQS endpoints receive messages)"
    if resource_type == "AWS::SNS::Topic" and "KmsMasterKeyId" in props:
        yield "KmsMasterKeyId (its key policy is not enforced: on AWS a service it does not admit cannot publish)"
    if resource_type == "AWS::KMS::Key" and "KeyPolicy" in props:
        yield "KeyPolicy (not enforced)"
    if resource_type == "AWS::Events::Rule":
        yield from _rule_targets(props, template)
    if resource_type == "AWS::ApiGatewayV2::Api":
        yield from _api_body(props.get("Body") or {})
    if resource_type == "AWS::ApiGatewayV2::Stage":
        if props.get("StageName", "$default") != "$default":
            yield f"StageName {props['StageName']} (routes are served at the root)"
        if "RouteSettings" in props:
            yield "RouteSettings (per-route throttling: only DefaultRouteSettings is applied)"


def _rule_targets(props: dict[str, Any], template: Template) -> Iterator[str]:
    for target in props.get("Targets", []):
        service = _target_service(target.get("Arn"), template)
        if service not in DELIVERED_TARGET_SERVICES:
            yield f"Targets[{target.get('Id')}] ({service} targets receive nothing)"
        allowed = TARGET_EMULATED | (QUEUE_TARGET_EMULATED if service == "sqs" else frozenset())
        yield from (f"Targets[{target.get('Id')}].{name}" for name in sorted(set(target) - allowed))


def _target_service(arn: Any, template: Template) -> str:
    """The service of a target's ARN, which the template usually gives as a GetAtt or Ref of a resource."""
    if isinstance(arn, str):
        return arn.split(":")[2] if arn.count(":") >= 2 else "unknown"
    reference = arn.get("Fn::GetAtt") or arn.get("Ref") if isinstance(arn, dict) else None
    logical_id = reference[0] if isinstance(reference, list) else str(reference).split(".")[0]
    kind = template.resources.get(logical_id, {}).get("Type", "")
    return SERVICE_OF_TYPE.get(kind, kind or "unknown")


def _api_body(body: dict[str, Any]) -> Iterator[str]:
    operations = [op for path in body.get("paths", {}).values() for op in path.values() if isinstance(op, dict)]
    schemes = body.get("components", {}).get("securitySchemes", {})
    # JWT authorizers and IAM authorization are enforced (api_auth.py); Lambda authorizers are not.
    enforced = [
        scheme.get("x-amazon-apigateway-authtype") == "awsSigv4"
        or scheme.get("x-amazon-apigateway-authorizer", {}).get("type") == "jwt"
        for scheme in schemes.values()
    ]
    if not all(enforced):
        yield "Auth (Lambda authorizers: every request they guard is let through)"
    versions = {op.get("x-amazon-apigateway-integration", {}).get("payloadFormatVersion", "2.0") for op in operations}
    if versions - {"2.0"}:
        yield "payloadFormatVersion 1.0 (requests are sent as payload 2.0)"


def unemulated(template: Template, condition: Callable[[str], bool] = lambda _: True) -> list[Unemulated]:
    """Every resource (whose Condition holds) the local cloud does not fully emulate, with what and why."""
    found = []
    for logical_id, resource in template.resources.items():
        if "Condition" in resource and not condition(resource["Condition"]):
            continue
        kind, props = resource["Type"], resource.get("Properties") or {}
        if kind in ACCESS_CONTROL_TYPES:
            found.append(Unemulated(logical_id, kind, (), NOT_ENFORCED))
            continue
        if kind in NOT_PROVISIONED:
            found.append(Unemulated(logical_id, kind, (), NOT_PROVISIONED[kind]))
            continue
        coverage = COVERAGE.get(kind)
        if coverage is None:
            found.append(Unemulated(logical_id, kind, (), "the local cloud does not know this resource type"))
            continue
        special = list(_special(kind, props, template))
        named = {item.split(" ")[0] for item in special}
        missing = [name for name in props if not coverage.covers(name) and name not in named] + special
        if missing:
            found.append(Unemulated(logical_id, kind, tuple(missing), "AWS would act on it; the local cloud does not"))
    return found


def warn_unemulated(template: Template, condition: Callable[[str], bool]) -> list[Unemulated]:
    """Log one warning per resource that is not fully emulated; returns them."""
    found = unemulated(template, condition)
    for item in found:
        logger.warning("%s", item.message())
    return found
