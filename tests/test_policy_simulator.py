"""The policy simulator's answers (labkit.policy.simulator), shaped as botocore's iam model says."""

from __future__ import annotations

import json

import pytest

from labkit.errors import InvalidInput
from labkit.policy import Policy, condition_keys, simulate

USER = "arn:aws:iam::123456789012:user/alejandro"
AFTER_AUGUST = ('{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*",'
                '"Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}')


def at(time: str) -> list[dict]:
    return [{"ContextKeyName": "aws:CurrentTime", "ContextKeyValues": [time], "ContextKeyType": "date"}]


def test_custom_policy__allowed_after_the_date():
    """The AWS CLI simulate-custom-policy example: dynamodb:CreateBackup on 2019-04-25."""
    [result] = simulate(["dynamodb:CreateBackup"], policies=[AFTER_AUGUST], context_entries=at("2019-04-25T11:00:00Z"))
    assert result["EvalActionName"] == "dynamodb:CreateBackup"
    assert (result["EvalResourceName"], result["EvalDecision"], result["MissingContextValues"]) == ("*", "allowed", [])
    assert result["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"
    assert "EvalDecisionDetails" not in result and "ResourceSpecificResults" not in result


def test_custom_policy__implicit_deny_before_the_date():
    [result] = simulate(["dynamodb:CreateBackup"], policies=[AFTER_AUGUST], context_entries=at("2014-04-25T11:00:00Z"))
    assert (result["EvalDecision"], result["MatchedStatements"], result["MissingContextValues"]) == ("implicitDeny", [], [])


def test_statement_positions__point_at_the_braces_of_the_statement():
    """A SimulateCustomPolicy answer for a policy laid out by json.dumps gave StartPosition
    {Line 1, Column 41} and EndPosition {Line 1, Column 145}: 1-based columns of "{" and "}"."""
    text = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"],
                                                                "Resource": "arn:aws:s3:::smoketurner-test-iam-bucket/*"}]})
    [result] = simulate(["s3:GetObject"], policies=[text], resource_arns=["arn:aws:s3:::smoketurner-test-iam-bucket/*"])
    [statement] = result["MatchedStatements"]
    assert statement["StartPosition"] == {"Line": 1, "Column": 41}
    assert statement["EndPosition"] == {"Line": 1, "Column": 145}


def test_positions__on_several_lines():
    policy = Policy.from_dict({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]},
                              policy_id="S3All", policy_type="user-managed")
    [result] = simulate(["s3:ListBucket"], policies=[policy])
    assert result["MatchedStatements"] == [{"SourcePolicyId": "S3All", "SourcePolicyType": "user-managed",
                                            "StartPosition": {"Line": 4, "Column": 9}, "EndPosition": {"Line": 8, "Column": 9}}]


def test_one_result_per_action__most_restrictive_over_resources():
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::b/secret"}]}
    results = simulate(["s3:GetObject", "s3:PutObject"], policies=[policy], resource_arns=["arn:aws:s3:::b/a", "arn:aws:s3:::b/secret"],
                       caller_arn=USER, arn_template=lambda action: "arn:${Partition}:s3:::${BucketName}/${ObjectName}")
    assert [r["EvalActionName"] for r in results] == ["s3:GetObject", "s3:PutObject"]
    first = results[0]
    assert first["EvalDecision"] == "explicitDeny" and first["EvalResourceName"] == "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
    assert [(r["EvalResourceName"], r["EvalResourceDecision"]) for r in first["ResourceSpecificResults"]] == [
        ("arn:aws:s3:::b/a", "allowed"), ("arn:aws:s3:::b/secret", "explicitDeny")]
    assert first["EvalDecisionDetails"] == {}
    assert len(first["MatchedStatements"]) == 2


def test_missing_context_values__are_listed():
    policy = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "ec2:*", "Resource": "*",
                                                     "Condition": {"StringEquals": {"ec2:InstanceType": "t3.micro"}}}}
    [result] = simulate(["ec2:RunInstances"], policies=[policy])
    assert (result["EvalDecision"], result["MissingContextValues"]) == ("implicitDeny", ["ec2:InstanceType"])


def test_boundary_and_organizations_details():
    allow_s3 = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}
    allow_all = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}
    [result] = simulate(["iam:CreateUser"], policies=[allow_all], permissions_boundaries=[allow_s3], scps=[[allow_all], [allow_all]],
                        caller_arn=USER)
    assert result["EvalDecision"] == "implicitDeny"
    assert result["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    assert result["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": True}


def test_cross_account__resource_owner_and_decision_details():
    bucket = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": USER}, "Action": "s3:GetObject",
                                                     "Resource": "arn:aws:s3:::b/*"}}
    [result] = simulate(["s3:GetObject"], resource_arns=["arn:aws:s3:::b/k"], resource_policy=bucket, caller_arn=USER,
                        resource_owner="arn:aws:iam::999999999999:root")
    assert result["EvalDecision"] == "implicitDeny"
    assert result["EvalDecisionDetails"] == {"IAM Policy": "implicitDeny", "Resource Policy": "allowed"}
    assert result["ResourceSpecificResults"][0]["EvalDecisionDetails"] == result["EvalDecisionDetails"]
    [same] = simulate(["s3:GetObject"], resource_arns=["arn:aws:s3:::b/k"], resource_policy=bucket, caller_arn=USER)
    assert same["EvalDecision"] == "allowed"
    assert same["MatchedStatements"] == [{"SourcePolicyId": "ResourcePolicy", "SourcePolicyType": "resource",
                                          "StartPosition": {"Line": 3, "Column": 18}, "EndPosition": {"Line": 10, "Column": 5}}]


@pytest.mark.parametrize("options", [
    {"action_names": ["s3:Get*"]}, {"action_names": []}, {"action_names": "s3:GetObject"},
    {"action_names": ["s3:GetObject"], "resource_policy": AFTER_AUGUST},
    {"action_names": ["s3:GetObject"], "caller_arn": "arn:aws:sts::123456789012:assumed-role/R/s"},
    {"action_names": ["s3:GetObject"], "context_entries": [{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["x"], "ContextKeyType": "ip"}]},
    {"action_names": ["s3:GetObject"], "context_entries": [{"ContextKeyName": "k:x", "ContextKeyValues": ["1"], "ContextKeyType": "int"}]},
    {"action_names": ["s3:GetObject"], "resource_owner": "bob"},
    {"action_names": ["s3:GetObject"], "resource_handling_option": "EC2-Classic"},
])
def test_invalid_simulation_input__is_invalid_input(options):
    with pytest.raises(InvalidInput):
        simulate(options.pop("action_names"), **options)


def test_condition_keys__as_written_once_each_with_variables():
    """GetContextKeysForCustomPolicy: keys from conditions and from policy variables."""
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:username}/*",
         "Condition": {"StringLike": {"s3:prefix": "${aws:username}/*"}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"AWS:SecureTransport": "false"},
                                                                             "IpAddress": {"aws:sourceip": "10.0.0.1"}}}]}
    assert condition_keys(policy) == ["AWS:SecureTransport", "aws:SourceIp", "aws:username", "s3:prefix"]
    legacy = dict(policy, Version="2008-10-17")
    assert condition_keys(legacy) == ["AWS:SecureTransport", "aws:SourceIp", "s3:prefix"]
    assert condition_keys(legacy, {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
                                                                          "Condition": {"Null": {"aws:TokenIssueTime": "true"}}}}) == [
        "AWS:SecureTransport", "aws:SourceIp", "aws:TokenIssueTime", "s3:prefix"]


def test_without_a_caller__the_caller_is_taken_to_be_in_the_resources_account():
    policy = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}}
    [result] = simulate(["sqs:SendMessage"], policies=[policy], resource_arns=["arn:aws:sqs:us-east-1:222222222222:q"])
    assert result["EvalDecision"] == "allowed" and result["EvalDecisionDetails"] == {}
