"""STS as AWS documents it: transitive session tags, aws:TokenIssueTime, the role-chaining hour."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
import pytest
from botocore.exceptions import ClientError

from labkit.policy import Request, evaluate

pytestmark = pytest.mark.both_modes  # the account in the kernel, and in a lab server

ACCOUNT = "123456789012"
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"


def refused(call):
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def session_from(credentials):
    return boto3.Session(aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
                         aws_session_token=credentials["SessionToken"], region_name="us-east-1")


def _role(lab, name, trusted, actions=("sts:AssumeRole", "sts:TagSession")):
    lab.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=policy(
        {"Effect": "Allow", "Principal": {"AWS": trusted}, "Action": list(actions)}))
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def _chain(lab, first_actions=("sts:AssumeRole", "sts:TagSession")):
    """bob → role first → role second; bob may assume first, first may assume second."""
    first = _role(lab, "first", BOB, first_actions)
    second = _role(lab, "second", first)
    lab.client("iam").put_user_policy(UserName="bob", PolicyName="assume", PolicyDocument=policy(
        {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": first}))
    lab.client("iam").put_role_policy(RoleName="first", PolicyName="assume", PolicyDocument=policy(
        {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": second}))
    return first, second


def test_chained_session__inherits_only_the_transitive_session_tags(lab):
    # id_session-tags.md, "Chaining roles with session tags": only transitive tags pass on.
    first, second = _chain(lab)
    lab.client("iam").put_role_policy(RoleName="second", PolicyName="abac", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/project": "apollo"}}},
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}}))
    one = session_from(lab.session_as("bob").client("sts").assume_role(
        RoleArn=first, RoleSessionName="one", Tags=[{"Key": "project", "Value": "apollo"}, {"Key": "team", "Value": "blue"}],
        TransitiveTagKeys=["project"])["Credentials"])
    two = session_from(one.client("sts").assume_role(RoleArn=second, RoleSessionName="two")["Credentials"])
    assert two.client("s3").list_buckets()["Buckets"] is not None
    code, message = refused(lambda: two.client("iam").list_users())
    assert code == "AccessDenied" and "iam:ListUsers" in message


def test_transitive_tags__stay_transitive_down_the_chain(lab):
    first, second = _chain(lab)
    lab.client("iam").update_assume_role_policy(RoleName="second", PolicyDocument=policy(
        {"Effect": "Allow", "Principal": {"AWS": [first, f"arn:aws:iam::{ACCOUNT}:role/second"]},
         "Action": ["sts:AssumeRole", "sts:TagSession"]}))
    lab.client("iam").put_role_policy(RoleName="second", PolicyName="abac", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": second},
        {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/project": "apollo"}}}))
    one = session_from(lab.session_as("bob").client("sts").assume_role(
        RoleArn=first, RoleSessionName="one", Tags=[{"Key": "project", "Value": "apollo"}], TransitiveTagKeys=["project"])["Credentials"])
    two = session_from(one.client("sts").assume_role(RoleArn=second, RoleSessionName="two")["Credentials"])
    three = session_from(two.client("sts").assume_role(RoleArn=second, RoleSessionName="three")["Credentials"])
    assert three.client("s3").list_buckets()["Buckets"] is not None


def test_passing_session_tags__needs_sts_tag_session_in_the_trust_policy(lab):
    # id_session-tags.md, "Permissions required to add session tags".
    first, _ = _chain(lab, first_actions=("sts:AssumeRole",))
    sts = lab.session_as("bob").client("sts")
    assert sts.assume_role(RoleArn=first, RoleSessionName="untagged")["Credentials"]
    code, message = refused(lambda: sts.assume_role(RoleArn=first, RoleSessionName="tagged", Tags=[{"Key": "k", "Value": "v"}]))
    assert code == "AccessDenied" and f"sts:TagSession on resource: {first}" in message


def test_transitive_tag_key__must_be_a_passed_tag(lab):
    first, _ = _chain(lab)
    code, _ = refused(lambda: lab.session_as("bob").client("sts").assume_role(
        RoleArn=first, RoleSessionName="one", Tags=[{"Key": "a", "Value": "1"}], TransitiveTagKeys=["b"]))
    assert code == "InvalidParameterValue"


def test_chained_session__longer_than_an_hour_is_refused_as_sts_refuses_it(lab):
    # id_roles_terms-and-concepts.md, "Role chaining": more than one hour fails, whatever the role's maximum.
    first, second = _chain(lab)
    lab.client("iam").update_role(RoleName="second", MaxSessionDuration=43200)
    one = session_from(lab.session_as("bob").client("sts").assume_role(RoleArn=first, RoleSessionName="one")["Credentials"])
    sts = one.client("sts")
    assert (refused(lambda: sts.assume_role(RoleArn=second, RoleSessionName="two", DurationSeconds=3601))
            == ("ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."))
    assert sts.assume_role(RoleArn=second, RoleSessionName="two", DurationSeconds=3600)["Credentials"]


def test_unchained_session__may_last_up_to_the_roles_maximum(lab):
    first, _ = _chain(lab)
    lab.client("iam").update_role(RoleName="first", MaxSessionDuration=7200)
    assert lab.session_as("bob").client("sts").assume_role(RoleArn=first, RoleSessionName="long", DurationSeconds=7200)["Credentials"]


def _revoke_older_sessions(lab, role, at):
    """The inline policy the console's "Revoke active sessions" writes (id_roles_use_revoke-sessions.md)."""
    lab.client("iam").put_role_policy(RoleName=role, PolicyName="AWSRevokeOlderSessions", PolicyDocument=policy(
        {"Effect": "Deny", "Action": ["*"], "Resource": ["*"],
         "Condition": {"DateLessThan": {"aws:TokenIssueTime": at.strftime("%Y-%m-%dT%H:%M:%SZ")}}}))


def test_revoke_older_sessions__cuts_off_older_sessions_and_spares_newer_ones(lab):
    first, _ = _chain(lab)
    lab.client("iam").attach_role_policy(RoleName="first", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    sts = lab.session_as("bob").client("sts")
    older = session_from(sts.assume_role(RoleArn=first, RoleSessionName="older")["Credentials"])
    assert older.client("iam").list_users()["Users"]
    lab.clock.advance(minutes=5)
    _revoke_older_sessions(lab, "first", lab.clock.now())
    lab.clock.advance(minutes=1)
    newer = session_from(sts.assume_role(RoleArn=first, RoleSessionName="newer")["Credentials"])
    code, message = refused(lambda: older.client("iam").list_users())
    assert code == "AccessDenied" and message.endswith("with an explicit deny in an identity-based policy")
    assert newer.client("iam").list_users()["Users"]


REVOKE = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": ["*"], "Resource": ["*"],
          "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2026-01-01T12:00:00Z"}}}]}
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/first/one"


@pytest.mark.parametrize(("issued", "result"), [("2026-01-01T11:59:59Z", "explicitDeny"), ("2026-01-01T12:00:01Z", "allowed")])
def test_engine__token_issue_time_before_the_revocation_is_denied(issued, result):
    # reference_policies_condition-keys.md, aws:TokenIssueTime (a date key); id_roles_use_revoke-sessions.md.
    request = Request("s3:ListAllMyBuckets", "*", SESSION, context={"aws:TokenIssueTime": issued})
    assert evaluate(request, identity_policies=[ALLOW_ALL, REVOKE]).result == result


def test_engine__a_request_without_temporary_credentials_is_not_revoked():
    # The key is absent for long-term keys, and DateLessThan against a missing key does not match.
    request = Request("s3:ListAllMyBuckets", "*", f"arn:aws:iam::{ACCOUNT}:user/bob")
    assert evaluate(request, identity_policies=[ALLOW_ALL, REVOKE]).result == "allowed"


def test_session_tag__overrides_the_roles_tag_of_the_same_key_whatever_its_case(lab):
    # id_session-tags.md, "Things to know about session tags".
    first, _ = _chain(lab)
    lab.client("iam").tag_role(RoleName="first", Tags=[{"Key": "Project", "Value": "gemini"}])
    lab.client("iam").put_role_policy(RoleName="first", PolicyName="abac", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/project": "apollo"}}}))
    sts = lab.session_as("bob").client("sts")
    untagged = session_from(sts.assume_role(RoleArn=first, RoleSessionName="plain")["Credentials"])
    assert refused(lambda: untagged.client("s3").list_buckets())[0] == "AccessDenied"
    tagged = session_from(sts.assume_role(RoleArn=first, RoleSessionName="tagged", Tags=[{"Key": "project", "Value": "apollo"}])["Credentials"])
    assert tagged.client("s3").list_buckets()["Buckets"] is not None
