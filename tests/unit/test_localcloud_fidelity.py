"""The local cloud names, once per resource, what in a template it does not emulate (tools/localcloud/fidelity.py)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tools.localcloud.fidelity import ACCESS_CONTROL_TYPES, COVERAGE, NOT_PROVISIONED, unemulated, warn_unemulated
from tools.localcloud.template import Template, load_template, translate

RULE = [
    {"Id": "fn", "Arn": {"Fn::GetAtt": ["Fn", "Arn"]}},  # a Lambda target: not delivered locally
    {"Id": "q", "Arn": {"Fn::GetAtt": ["Queue", "Arn"]}, "InputPath": "$.detail"},  # moto applies InputPath
]
SAM: dict[str, Any] = {
    "Transform": "AWS::Serverless-2016-10-31",
    "Resources": {
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "bus"}},
        "BusPolicy": {
            "Type": "AWS::Events::EventBusPolicy",
            "Properties": {"EventBusName": {"Ref": "Bus"}, "StatementId": "s", "Statement": {}},
        },
        "Schedule": {"Type": "AWS::Scheduler::Schedule", "Properties": {"ScheduleExpression": "rate(1 hour)"}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 60, "SqsManagedSseEnabled": True}},
        "Api": {
            "Type": "AWS::Serverless::HttpApi",
            "Properties": {
                "DefaultRouteSettings": {"ThrottlingBurstLimit": 10, "ThrottlingRateLimit": 5},
                "Auth": {
                    "DefaultAuthorizer": "Jwt",
                    "Authorizers": {
                        "Jwt": {
                            "IdentitySource": "$request.header.Authorization",
                            "JwtConfiguration": {"issuer": "https://issuer.example", "audience": ["a"]},
                        },
                        "Custom": {
                            "FunctionArn": {"Fn::GetAtt": ["Fn", "Arn"]},
                            "AuthorizerPayloadFormatVersion": "2.0",
                            "EnableSimpleResponses": True,
                        },
                    },
                },
            },
        },
        "Fn": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "Runtime": "python3.11",
                "Handler": "h.h",
                "CodeUri": ".",
                "ReservedConcurrentExecutions": 2,
                "SnapStart": {"ApplyOn": "PublishedVersions"},
                "Events": {
                    "Get": {"Type": "HttpApi", "Properties": {"ApiId": {"Ref": "Api"}, "Method": "get", "Path": "/x"}},
                    "Work": {
                        "Type": "SQS",
                        "Properties": {
                            "Queue": {"Fn::GetAtt": ["Queue", "Arn"]},
                            "ScalingConfig": {"MaximumConcurrency": 2},
                            "FilterCriteria": {"Filters": [{"Pattern": '{"body": {"a": [1]}}'}]},
                        },
                    },
                },
            },
        },
        "ToFunction": {"Type": "AWS::Events::Rule", "Properties": {"EventPattern": {"source": ["x"]}, "Targets": RULE}},
    },
}


@pytest.fixture(scope="module")
def template() -> Template:
    cfn, paths = translate(SAM)
    return Template(sam=SAM, cfn=cfn, local_paths=paths)


def test_each_unemulated_property_and_resource_is_named_with_its_resource(template: Template) -> None:
    found = {item.logical_id: item.properties for item in unemulated(template)}
    assert found["BusPolicy"] == ()  # access control: the whole resource
    assert found["Schedule"] == ()  # a type the local cloud does not know
    assert found["Fn"] == ("SnapStart",)  # reserved concurrency caps the environments
    assert "FnWork" not in found  # FilterCriteria and the concurrency cap are emulated
    assert found["Api"] == ("Auth (Lambda authorizers: every request they guard is let through)",)
    assert "ApiApiGatewayDefaultStage" not in found  # the default route throttle is applied
    assert found["ToFunction"] == ("Targets[fn] (lambda targets receive nothing)",)  # the queue's InputPath is fine
    assert "Queue" not in found  # every property emulated or inert


def test_the_warning_is_logged_once_per_resource_naming_resource_and_property(
    template: Template, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="tools.localcloud"):
        found = warn_unemulated(template, lambda _: True)
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == len(found) == len({item.logical_id for item in found})
    assert "Fn (AWS::Lambda::Function): not emulated locally: SnapStart" in "\n".join(messages)


def test_a_resource_whose_condition_is_false_is_not_reported(template: Template) -> None:
    resources = dict(template.cfn["Resources"])
    resources["Schedule"] = {**resources["Schedule"], "Condition": "Never"}
    conditional = Template(sam=template.sam, cfn={**template.cfn, "Resources": resources})
    assert "Schedule" not in {item.logical_id for item in unemulated(conditional, lambda name: name != "Never")}


def test_every_resource_type_of_template_yaml_is_known_to_the_local_cloud() -> None:
    types = {resource["Type"] for resource in load_template().resources.values()}
    assert types <= set(COVERAGE) | ACCESS_CONTROL_TYPES | set(NOT_PROVISIONED)


def test_the_schema_registry_is_named_as_not_provisioned_with_the_reason() -> None:
    found = {item.logical_id: item for item in unemulated(load_template())}
    assert found["EventSchemaRegistry"].reason.startswith("moto has no EventSchemas service")
    assert found["ChargePaymentEventSchema"].properties == ()  # the whole resource
