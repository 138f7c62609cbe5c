"""Condition operators (labkit.policy.conditions), as reference_policies_elements_condition_
operators.md and reference_policies_multi-value-conditions.md describe them."""

from __future__ import annotations

import base64

import pytest

from labkit.policy import Policy, Request, evaluate

USER = "arn:aws:iam::123456789012:user/johndoe"


def holds(condition: dict, context: dict | None = None, *, principal: str = USER) -> bool:
    """Whether an Allow statement with ``condition`` allows a request with ``context``."""
    policy = Policy.from_dict({"Version": "2012-10-17",
                               "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": condition}})
    return evaluate(Request("s3:ListBucket", "*", principal, context=context), identity_policies=[policy]).allowed


# --- string operators ---------------------------------------------------------------------

def test_string_equals__is_case_sensitive():
    """reference_policies_elements_condition.md: StringEquals johndoe does not match JohnDoe."""
    assert holds({"StringEquals": {"aws:username": "johndoe"}})
    assert not holds({"StringEquals": {"aws:username": "johndoe"}}, principal="arn:aws:iam::123456789012:user/JohnDoe")


def test_string_equals_ignore_case__matches_either_case():
    assert holds({"StringEqualsIgnoreCase": {"aws:username": "JOHNDOE"}})


def test_string_not_equals__and_its_ignore_case_twin():
    assert holds({"StringNotEquals": {"aws:username": "JohnDoe"}})
    assert not holds({"StringNotEqualsIgnoreCase": {"aws:username": "JohnDoe"}})


def test_string_like__wildcards_anywhere():
    """The home-directory example: s3:prefix may be "", "home/" or "home/<user>/..."."""
    condition = {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/*"]}}
    assert holds(condition, {"s3:prefix": ""})
    assert holds(condition, {"s3:prefix": "home/johndoe/photos/"})
    assert not holds(condition, {"s3:prefix": "home/mary/"})
    assert holds({"StringLike": {"ec2:InstanceType": "t?.micro"}}, {"ec2:InstanceType": "t3.micro"})


def test_string_equals__treats_wildcards_as_text():
    assert not holds({"StringEquals": {"s3:prefix": "home/*"}}, {"s3:prefix": "home/x"})
    assert holds({"StringEquals": {"s3:prefix": "home/*"}}, {"s3:prefix": "home/*"})


def test_string_not_like():
    assert holds({"StringNotLike": {"s3:prefix": "private/*"}}, {"s3:prefix": "public/x"})
    assert not holds({"StringNotLike": {"s3:prefix": "private/*"}}, {"s3:prefix": "private/x"})


def test_condition_key_names__are_case_insensitive():
    """reference_policies_elements_condition.md: aws:SourceIP is AWS:SourceIp."""
    assert holds({"IpAddress": {"AWS:SourceIp": "203.0.113.0/24"}}, {"aws:sourceip": "203.0.113.9"})


# --- numeric, date, bool, binary ----------------------------------------------------------

@pytest.mark.parametrize("operator,value,expected", [
    ("NumericEquals", "10", True), ("NumericNotEquals", "10", False), ("NumericLessThan", "11", True),
    ("NumericLessThanEquals", "10", True), ("NumericGreaterThan", "10", False), ("NumericGreaterThanEquals", "10.0", True),
])
def test_numeric_operators(operator, value, expected):
    """The s3:max-keys example: NumericLessThanEquals 10 allows listing up to 10 keys."""
    assert holds({operator: {"s3:max-keys": value}}, {"s3:max-keys": 10}) is expected


def test_numeric__a_value_that_is_not_a_number_never_matches():
    assert not holds({"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "ten"})


@pytest.mark.parametrize("operator,expected", [
    ("DateEquals", False), ("DateNotEquals", True), ("DateLessThan", False),
    ("DateLessThanEquals", False), ("DateGreaterThan", True), ("DateGreaterThanEquals", True),
])
def test_date_operators(operator, expected):
    """The aws:TokenIssueTime example: credentials issued after 2020-01-01T00:00:01Z."""
    context = {"aws:TokenIssueTime": "2020-06-01T12:00:00Z"}
    assert holds({operator: {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}}, context) is expected


def test_dates__compare_iso_8601_and_epoch_seconds_alike():
    assert holds({"DateEquals": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, {"aws:CurrentTime": "1577836800"})
    assert holds({"DateEquals": {"aws:CurrentTime": 1577836800}}, {"aws:CurrentTime": "2020-01-01T01:00:00+01:00"})
    assert holds({"DateLessThan": {"aws:CurrentTime": "2020-01-02"}}, {"aws:CurrentTime": "2020-01-01T23:59:59Z"})


def test_current_time__is_filled_in_when_not_given():
    """reference_policies_condition-keys.md: aws:CurrentTime is always in the request context."""
    assert holds({"DateGreaterThan": {"aws:CurrentTime": "2001-01-01T00:00:00Z"}})
    assert holds({"NumericGreaterThan": {"aws:EpochTime": "978307200"}})


def test_bool():
    """The aws:SecureTransport example."""
    assert holds({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": False})
    assert holds({"Bool": {"aws:SecureTransport": True}}, {"aws:SecureTransport": "TRUE"})
    assert not holds({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "true"})


def test_binary_equals__compares_base64_decoded_bytes():
    value = base64.b64encode(b"BinaryValueInBase64").decode()
    assert holds({"BinaryEquals": {"kms:EncryptionContext": value}}, {"kms:EncryptionContext": value})
    assert holds({"BinaryEquals": {"kms:EncryptionContext": value}}, {"kms:EncryptionContext": b"BinaryValueInBase64"})
    assert not holds({"BinaryEquals": {"kms:EncryptionContext": value}}, {"kms:EncryptionContext": "QUJD"})


# --- IP addresses and ARNs ----------------------------------------------------------------

def test_ip_address__ipv4_and_ipv6_ranges():
    """The mixed IPv4/IPv6 example: 203.0.113.0/24 and 2001:DB8:1234:5678::/64."""
    condition = {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}}
    assert holds(condition, {"aws:SourceIp": "203.0.113.255"})
    assert holds(condition, {"aws:SourceIp": "2001:db8:1234:5678::1"})
    assert not holds(condition, {"aws:SourceIp": "198.51.100.1"})
    assert not holds(condition, {"aws:SourceIp": "::ffff:cb00:7101"})


def test_ip_address__without_prefix_means_slash_32():
    assert holds({"IpAddress": {"aws:SourceIp": "203.0.113.7"}}, {"aws:SourceIp": "203.0.113.7"})
    assert not holds({"IpAddress": {"aws:SourceIp": "203.0.113.7"}}, {"aws:SourceIp": "203.0.113.8"})


def test_not_ip_address():
    assert holds({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": "198.51.100.1"})
    assert not holds({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": "203.0.113.1"})


def test_arn_like__matches_segment_by_segment_unlike_string_like():
    """The doc's example: a StringLike pattern crosses colons, ArnLike does not."""
    pattern = "arn:aws:someservice:*:111122223333:finance/*"
    value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
    assert holds({"StringLike": {"aws:SourceArn": pattern}}, {"aws:SourceArn": value})
    assert not holds({"ArnLike": {"aws:SourceArn": pattern}}, {"aws:SourceArn": value})
    assert holds({"ArnLike": {"aws:SourceArn": pattern}}, {"aws:SourceArn": "arn:aws:someservice:us-east-2:111122223333:finance/x"})


@pytest.mark.parametrize("operator", ["ArnEquals", "ArnLike"])
def test_arn_equals_and_arn_like__behave_identically(operator):
    topic = "arn:aws:sns:us-east-1:123456789012:topic-*"
    assert holds({operator: {"aws:SourceArn": topic}}, {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:topic-a"})


@pytest.mark.parametrize("operator", ["ArnNotEquals", "ArnNotLike"])
def test_arn_not_operators(operator):
    assert holds({operator: {"aws:SourceArn": "arn:aws:sns:*:*:a"}}, {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:b"})
    assert not holds({operator: {"aws:SourceArn": "arn:aws:sns:*:*:a"}}, {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:a"})


# --- missing keys, IfExists, Null ---------------------------------------------------------

@pytest.mark.parametrize("operator", ["StringEquals", "StringLike", "NumericLessThan", "DateLessThan", "Bool",
                                      "BinaryEquals", "IpAddress", "ArnLike", "StringEqualsIgnoreCase"])
def test_missing_key__makes_a_positive_operator_false(operator):
    """Condition operators page, "Important": a key not in the context does not match."""
    assert not holds({operator: {"aws:SourceVpc": "1"}})


@pytest.mark.parametrize("operator", ["StringNotEquals", "StringNotLike", "NumericNotEquals", "DateNotEquals",
                                      "NotIpAddress", "ArnNotLike", "ArnNotEquals", "StringNotEqualsIgnoreCase"])
def test_missing_key__makes_a_negated_operator_true(operator):
    assert holds({operator: {"aws:SourceVpc": "1"}})


def test_if_exists__is_true_when_the_key_is_missing():
    """The RunInstance example: StringLikeIfExists on ec2:InstanceType."""
    condition = {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}
    assert holds(condition)
    assert holds(condition, {"ec2:InstanceType": "t2.micro"})
    assert not holds(condition, {"ec2:InstanceType": "c5.large"})


def test_if_exists_deny_with_negated_operator__still_denies_when_missing():
    """"If you are using a Deny effect with a negated operator like StringNotEqualsIfExists, the
    request is still denied even if the tag is missing"."""
    policy = Policy.from_dict({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"StringNotEqualsIfExists": {"aws:ResourceTag/team": "red"}}}]})
    assert evaluate(Request("ec2:StopInstances", "*", USER), identity_policies=[policy]).result == "explicitDeny"


def test_null__true_means_absent_false_means_present():
    """The aws:TokenIssueTime example: Null true allows only long-term credentials."""
    assert holds({"Null": {"aws:TokenIssueTime": "true"}})
    assert not holds({"Null": {"aws:TokenIssueTime": "true"}}, {"aws:TokenIssueTime": "2020-01-01T00:00:00Z"})
    assert holds({"Null": {"aws:TokenIssueTime": False}}, {"aws:TokenIssueTime": "2020-01-01T00:00:00Z"})


# --- several values, keys and operators ---------------------------------------------------

def test_values_of_one_key__are_ored():
    assert holds({"StringEquals": {"aws:PrincipalTag/team": ["red", "blue"]}}, {"aws:PrincipalTag/team": "blue"})


def test_negated_operator_with_several_values__none_may_match():
    """reference_policies_multi-value-conditions.md: for StringNotEquals the values act as AND."""
    condition = {"StringNotEquals": {"aws:PrincipalAccount": ["111111111111", "222222222222"]}}
    assert holds(condition, {"aws:PrincipalAccount": "333333333333"})
    assert not holds(condition, {"aws:PrincipalAccount": "222222222222"})


def test_keys_and_operators__are_anded():
    """The SNS example: StringLike on sns:endpoint and StringEquals on sns:Protocol must both hold."""
    condition = {"StringLike": {"sns:endpoint": "https://example.com/${aws:username}/"},
                 "StringEquals": {"sns:Protocol": "https"}}
    assert holds(condition, {"sns:endpoint": "https://example.com/johndoe/", "sns:Protocol": "https"})
    assert not holds(condition, {"sns:endpoint": "https://example.com/johndoe/", "sns:Protocol": "http"})
    assert not holds({"StringEquals": {"a:x": "1", "a:y": "2"}}, {"a:x": "1"})


ATTRIBUTES = ["PostDateTime", "Message", "Tags"]


def test_for_all_values__every_request_value_must_be_listed():
    """The DynamoDB Thread example: PostDateTime and UserName fail because UserName is not listed."""
    condition = {"ForAllValues:StringEquals": {"dynamodb:Attributes": ATTRIBUTES}}
    assert holds(condition, {"dynamodb:Attributes": ["Message", "Tags"]})
    assert not holds(condition, {"dynamodb:Attributes": ["PostDateTime", "UserName"]})


def test_for_all_values__is_true_for_a_missing_or_empty_key():
    condition = {"ForAllValues:StringEquals": {"dynamodb:Attributes": ATTRIBUTES}}
    assert holds(condition)
    assert holds(condition, {"dynamodb:Attributes": []})
    assert holds(condition, {"dynamodb:Attributes": [""]})


def test_for_any_value__one_match_is_enough():
    """The PutItem example: UserName, Message, PostDateTime matches ID or PostDateTime."""
    condition = {"ForAnyValue:StringEquals": {"dynamodb:Attributes": ["ID", "PostDateTime"]}}
    assert holds(condition, {"dynamodb:Attributes": ["UserName", "Message", "PostDateTime"]})
    assert not holds(condition, {"dynamodb:Attributes": ["UserName"]})


def test_for_any_value__is_false_for_a_missing_or_empty_key():
    condition = {"ForAnyValue:StringEquals": {"dynamodb:Attributes": ["ID"]}}
    assert not holds(condition)
    assert not holds(condition, {"dynamodb:Attributes": []})
    assert holds({"ForAnyValue:StringEqualsIfExists": {"dynamodb:Attributes": ["ID"]}})


def test_set_operators_with_negated_operators():
    assert holds({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["secret"]}}, {"aws:TagKeys": ["a", "b"]})
    assert not holds({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["secret"]}}, {"aws:TagKeys": ["a", "secret"]})
    assert holds({"ForAnyValue:StringNotLike": {"aws:TagKeys": ["a*"]}}, {"aws:TagKeys": ["abc", "xyz"]})
    assert not holds({"ForAnyValue:StringNotLike": {"aws:TagKeys": ["a*"]}}, {"aws:TagKeys": ["abc"]})
