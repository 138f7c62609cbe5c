"""Policy variables and the keys AWS fills in (reference_policies_variables.md)."""

from __future__ import annotations

import pytest

from labkit.policy import Policy, Request, evaluate

ACCOUNT = "123456789012"
DAVID = f"arn:aws:iam::{ACCOUNT}:user/David"


def decide(statements: list | dict, action: str, resource: str, principal: str = DAVID, *,
           version: str | None = "2012-10-17", context: dict | None = None, **options) -> str:
    document = {"Statement": statements}
    if version:
        document["Version"] = version
    request = Request(action, resource, principal, context=context, **options)
    return evaluate(request, identity_policies=[Policy.from_dict(document)]).result


HOME = [
    {"Action": ["s3:ListBucket"], "Effect": "Allow", "Resource": ["arn:aws:s3:::mybucket"],
     "Condition": {"StringLike": {"s3:prefix": ["${aws:username}/*"]}}},
    {"Action": ["s3:GetObject", "s3:PutObject"], "Effect": "Allow", "Resource": ["arn:aws:s3:::mybucket/${aws:username}/*"]},
]


def test_username_variable__in_resource():
    """"Using variables in policies": each user reaches only mybucket/<their name>/."""
    assert decide(HOME, "s3:GetObject", "arn:aws:s3:::mybucket/David/notes.txt") == "allowed"
    assert decide(HOME, "s3:GetObject", "arn:aws:s3:::mybucket/Adele/notes.txt") == "implicitDeny"


def test_username_variable__in_a_condition_value():
    assert decide(HOME, "s3:ListBucket", "arn:aws:s3:::mybucket", context={"s3:prefix": "David/2024/"}) == "allowed"
    assert decide(HOME, "s3:ListBucket", "arn:aws:s3:::mybucket", context={"s3:prefix": "Adele/"}) == "implicitDeny"


@pytest.mark.parametrize("version", [None, "2008-10-17"])
def test_variables__are_literal_text_before_version_2012_10_17(version):
    """Note in "Using variables in policies": without Version 2012-10-17, ${aws:username} is a
    literal string."""
    assert decide(HOME, "s3:GetObject", "arn:aws:s3:::mybucket/David/x", version=version) == "implicitDeny"
    assert decide(HOME, "s3:GetObject", "arn:aws:s3:::mybucket/${aws:username}/x", version=version) == "allowed"


def test_variable_in_the_account_part_of_an_arn():
    statement = {"Effect": "Allow", "Action": "iam:*AccessKey*", "Resource": "arn:aws:iam::${aws:PrincipalAccount}:user/${aws:username}"}
    assert decide(statement, "iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/David") == "allowed"
    assert decide(statement, "iam:CreateAccessKey", "arn:aws:iam::999999999999:user/David") == "implicitDeny"


def test_tag_variable__in_resource():
    """"Tags as policy variables": a bucket named after the principal's department tag."""
    statement = {"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::bucket/${aws:PrincipalTag/department}"]}
    tagged = {"aws:PrincipalTag/department": "finance"}
    assert decide(statement, "s3:GetObject", "arn:aws:s3:::bucket/finance", context=tagged) == "allowed"
    assert decide(statement, "s3:GetObject", "arn:aws:s3:::bucket/hr", context=tagged) == "implicitDeny"


def test_variable_with_no_value__makes_the_resource_match_nothing():
    """"Policy variables with no value": an untagged principal matches no resource, not even one
    whose name is empty where the variable was."""
    statement = {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::bucket/${aws:PrincipalTag/department}"}
    assert decide(statement, "s3:GetObject", "arn:aws:s3:::bucket/") == "implicitDeny"
    deny = [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::bucket/${aws:PrincipalTag/department}"}]
    assert decide(deny, "s3:GetObject", "arn:aws:s3:::bucket/x") == "explicitDeny"


def test_variable_with_no_value__positive_operator_false_negated_true():
    """"Policy variables with no value": StringEquals does not match, StringNotEquals does."""
    equals = {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
              "Condition": {"StringEquals": {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team}"}}}
    assert decide(equals, "s3:GetObject", "arn:aws:s3:::b/k", context={"s3:ExistingObjectTag/Team": ""}) == "implicitDeny"
    not_equals = dict(equals, Condition={"StringNotEquals": {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team}"}})
    assert decide(not_equals, "s3:GetObject", "arn:aws:s3:::b/k", context={"s3:ExistingObjectTag/Team": "red"}) == "allowed"


def test_default_value__is_used_when_the_key_is_missing():
    """"Specifying default values": the company-wide bucket for principals without a team tag."""
    statement = {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::DOC-EXAMPLE-BUCKET-${aws:PrincipalTag/team, 'company-wide'}"}
    assert decide(statement, "s3:GetObject", "arn:aws:s3:::DOC-EXAMPLE-BUCKET-company-wide") == "allowed"
    yellow = {"aws:PrincipalTag/team": "yellow"}
    assert decide(statement, "s3:GetObject", "arn:aws:s3:::DOC-EXAMPLE-BUCKET-yellow", context=yellow) == "allowed"
    assert decide(statement, "s3:GetObject", "arn:aws:s3:::DOC-EXAMPLE-BUCKET-company-wide", context=yellow) == "implicitDeny"


@pytest.mark.parametrize("variable,char", [("${*}", "*"), ("${?}", "?"), ("${$}", "$")])
def test_special_character_variables__stand_for_the_literal_character(variable, char):
    """"Special characters": ${*}, ${?} and ${$} are an asterisk, question mark and dollar sign."""
    statement = {"Effect": "Allow", "Action": "s3:*", "Resource": f"arn:aws:s3:::bucket/file{variable}"}
    assert decide(statement, "s3:GetObject", f"arn:aws:s3:::bucket/file{char}") == "allowed"
    assert decide(statement, "s3:GetObject", "arn:aws:s3:::bucket/fileX") == "implicitDeny"


def test_variable_names__are_case_insensitive():
    statement = {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${AWS:UserName}/*"}
    assert decide(statement, "s3:GetObject", "arn:aws:s3:::b/David/x") == "allowed"


def test_variables_are_not_substituted_in_action():
    statement = {"Effect": "Allow", "Action": "s3:${aws:username}", "Resource": "*"}
    assert decide(statement, "s3:David", "*") == "implicitDeny"


def test_multivalued_key__cannot_be_a_variable():
    """"You can't use a multivalued condition key as a variable"."""
    statement = {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:TagKeys}"}
    assert decide(statement, "s3:GetObject", "arn:aws:s3:::b/a", context={"aws:TagKeys": ["a", "b"]}) == "implicitDeny"
    assert decide(statement, "s3:GetObject", "arn:aws:s3:::b/a", context={"aws:TagKeys": ["a"]}) == "allowed"


def test_variable_value_is_literal__even_with_wildcard_characters():
    statement = {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:PrincipalTag/dir}/x"}
    sneaky = {"aws:PrincipalTag/dir": "*"}
    assert decide(statement, "s3:GetObject", "arn:aws:s3:::b/other/x", context=sneaky) == "implicitDeny"
    assert decide(statement, "s3:GetObject", "arn:aws:s3:::b/*/x", context=sneaky) == "allowed"


# --- keys AWS fills in ("Principal key values", reference_policies_condition-keys.md) --------

def keys_seen(principal: str, key: str, value: str, **options) -> bool:
    statement = {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {key: value}}}
    return decide(statement, "sqs:SendMessage", "*", principal, **options) == "allowed"


def test_username__only_for_iam_users():
    assert keys_seen(DAVID, "aws:username", "David")
    assert not keys_seen(f"arn:aws:sts::{ACCOUNT}:assumed-role/Dev/David", "aws:username", "David")


@pytest.mark.parametrize("principal,kind", [
    (DAVID, "User"), (f"arn:aws:sts::{ACCOUNT}:assumed-role/Dev/s1", "AssumedRole"),
    (f"arn:aws:sts::{ACCOUNT}:federated-user/Bob", "FederatedUser"), (f"arn:aws:iam::{ACCOUNT}:root", "Account"),
])
def test_principal_type(principal, kind):
    statement = {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalType": kind}}}
    policy = Policy.from_dict({"Version": "2012-10-17", "Statement": statement})
    # A session policy that allows everything, so that the federated user has permissions at all.
    session = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}
    assert evaluate(Request("sqs:SendMessage", "*", principal), identity_policies=[policy], session_policy=session).allowed


def test_principal_arn__is_the_role_for_a_session_with_its_path():
    """aws:PrincipalArn: for a role session the request context holds the role's ARN."""
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/Dev/s1"
    assert keys_seen(session, "aws:PrincipalArn", f"arn:aws:iam::{ACCOUNT}:role/Dev")
    assert keys_seen(session, "aws:PrincipalArn", f"arn:aws:iam::{ACCOUNT}:role/teams/Dev", role_path="/teams/")


def test_principal_account_and_userid():
    assert keys_seen(DAVID, "aws:PrincipalAccount", ACCOUNT)
    assert keys_seen(f"arn:aws:iam::{ACCOUNT}:root", "aws:userid", ACCOUNT)
    assert keys_seen(DAVID, "aws:userid", "AIDAEXAMPLE", context={"aws:userid": "AIDAEXAMPLE"})


def test_caller_context__overrides_what_aws_fills_in():
    assert keys_seen(DAVID, "aws:CurrentTime", "2020-01-01T00:00:00Z", context={"aws:CurrentTime": "2020-01-01T00:00:00Z"})


@pytest.mark.parametrize("operator,value", [("NumericEquals", "${s3:max-keys}"), ("DateEquals", "${aws:CurrentTime}"),
                                            ("IpAddress", "${aws:SourceIp}")])
def test_variables__are_not_substituted_in_numeric_date_or_ip_conditions(operator, value):
    """"Condition element": no policy variables with Numeric, Date, IP address... operators."""
    key = value[2:-1]
    statement = {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {operator: {key: value}}}
    context = {"s3:max-keys": "5", "aws:CurrentTime": "2020-01-01T00:00:00Z", "aws:SourceIp": "10.0.0.1"}
    assert decide(statement, "s3:ListBucket", "*", context=context) == "implicitDeny"
