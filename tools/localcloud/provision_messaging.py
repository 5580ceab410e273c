"""Provisioners (see provisioners.py) for messaging: KMS keys, buses, topics, queues, subscriptions, policies, archives.

Queue and subscription properties become SQS and SNS attributes, which are strings.
"""

from __future__ import annotations

import json
from typing import Any

from tools.localcloud.stack import ACCOUNT, REGION, Stack, words

QUEUE_ATTRIBUTES = words(
    "VisibilityTimeout MessageRetentionPeriod DelaySeconds ReceiveMessageWaitTimeSeconds MaximumMessageSize "
    "SqsManagedSseEnabled KmsMasterKeyId KmsDataKeyReusePeriodSeconds FifoQueue ContentBasedDeduplication"
)
SUBSCRIPTION_ATTRIBUTES = ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy")


def attribute_value(value: Any) -> str:
    """A property as an SQS/SNS attribute string: JSON for objects, lower-case booleans."""
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def provision_keys(stack: Stack) -> None:
    """KMS keys (with their key policy and rotation) and aliases."""
    kms = stack.client("kms")
    for logical_id, props, _ in stack.declared("AWS::KMS::Key"):
        metadata = kms.create_key(
            Description=props.get("Description", logical_id), Policy=json.dumps(props["KeyPolicy"])
        )["KeyMetadata"]
        if props.get("EnableKeyRotation"):
            kms.enable_key_rotation(KeyId=metadata["KeyId"])
        stack.add(logical_id, metadata["KeyId"], Arn=metadata["Arn"], KeyId=metadata["KeyId"])
    for logical_id, props, _ in stack.declared("AWS::KMS::Alias"):
        kms.create_alias(AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"])
        stack.add(logical_id, props["AliasName"])


def provision_buses(stack: Stack) -> None:
    events = stack.client("events")
    for logical_id, _, name in stack.declared("AWS::Events::EventBus", "Name"):
        arn = events.create_event_bus(Name=name)["EventBusArn"]
        stack.add(logical_id, name, Arn=arn, Name=name)


def provision_topics(stack: Stack) -> None:
    sns = stack.client("sns")
    for logical_id, props, name in stack.declared("AWS::SNS::Topic", "TopicName"):
        attributes = {key: attribute_value(props[key]) for key in ("KmsMasterKeyId", "DisplayName") if key in props}
        arn = sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]
        stack.add(logical_id, arn, TopicArn=arn, TopicName=name)


def queue_name(stack: Stack, logical_id: str, props: dict[str, Any]) -> str:
    """QueueName, else a generated name (with the `.fifo` suffix a FIFO queue's name needs)."""
    if "QueueName" in props:
        return str(props["QueueName"])
    return stack.name(logical_id) + (".fifo" if props.get("FifoQueue") else "")


def provision_queues(stack: Stack) -> None:
    """Every queue first, then the redrive policies: SQS checks that the DLQ exists."""
    sqs = stack.client("sqs")
    queues = stack.resources("AWS::SQS::Queue")
    for logical_id, resource in queues.items():
        declared = resource.get("Properties", {})  # unresolved: the redrive policy names queues not made yet
        props = {key: stack.resolver.resolve(value) for key, value in declared.items() if "Redrive" not in key}
        name = queue_name(stack, logical_id, props)
        attributes = {key: attribute_value(props[key]) for key in QUEUE_ATTRIBUTES if key in props}
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        stack.add(logical_id, url, Arn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}", QueueName=name, QueueUrl=url)
    for logical_id, props, _ in stack.declared("AWS::SQS::Queue"):
        policies = {key: attribute_value(props[key]) for key in ("RedrivePolicy", "RedriveAllowPolicy") if key in props}
        if policies:
            sqs.set_queue_attributes(QueueUrl=stack.ref(logical_id), Attributes=policies)


def provision_subscriptions(stack: Stack) -> None:
    """SNS subscriptions with their filter policies, raw delivery and redrive policy (moto_server.py uses it)."""
    sns = stack.client("sns")
    for logical_id, props, _ in stack.declared("AWS::SNS::Subscription"):
        arn = sns.subscribe(
            TopicArn=props["TopicArn"],
            Protocol=props["Protocol"],
            Endpoint=props["Endpoint"],
            Attributes={key: attribute_value(props[key]) for key in SUBSCRIPTION_ATTRIBUTES if key in props},
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        stack.add(logical_id, arn)


def provision_queue_policies(stack: Stack) -> None:
    """Queue policies are set on moto's queues (and read by the console); moto does not enforce them."""
    sqs = stack.client("sqs")
    for logical_id, props, _ in stack.declared("AWS::SQS::QueuePolicy"):
        for queue_url in props["Queues"]:
            sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(props["PolicyDocument"])})
        stack.add(logical_id, logical_id)


def provision_archives(stack: Stack) -> None:
    events = stack.client("events")
    for logical_id, props, name in stack.declared("AWS::Events::Archive", "ArchiveName"):
        arguments = {"ArchiveName": name[:48], "EventSourceArn": props["SourceArn"]}
        if "RetentionDays" in props:
            arguments["RetentionDays"] = int(props["RetentionDays"])
        if "EventPattern" in props:
            arguments["EventPattern"] = json.dumps(props["EventPattern"])
        arn = events.create_archive(**arguments)["ArchiveArn"]
        stack.add(logical_id, name[:48], Arn=arn)
