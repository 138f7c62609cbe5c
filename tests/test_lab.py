"""The Lab: boot, seed, clients, sessions as users, reset, and clear errors for misuse."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from labkit import Lab, open_lab
from labkit.errors import LabStateError, NoSuchEntity
from labkit.lab import current_lab


def _names(items, key):
    return sorted(i[key] for i in items)


def test_lab__boots_the_seeded_company(lab):
    iam, s3 = lab.client("iam"), lab.client("s3")
    assert {"alice", "bob", "carol", "dave", "erin", "frank"} <= set(_names(iam.list_users()["Users"], "UserName"))
    assert _names(iam.list_groups()["Groups"], "GroupName") == ["admins", "auditors", "developers", "finance"]
    assert _names(iam.list_roles()["Roles"], "RoleName") == ["app-server-role", "auditor-role"]
    assert _names(iam.get_group(GroupName="developers")["Users"], "UserName") == ["alice", "bob", "carol", "henry"]
    assert {"acme-app-data", "acme-telemetry", "acme-finance"} <= set(_names(s3.list_buckets()["Buckets"], "Name"))
    body = s3.get_object(Bucket="acme-app-data", Key="config/app.json")["Body"].read()
    assert b"telemetry_interval_seconds" in body


def test_lab__account_and_region_are_the_scenarios(lab):
    identity = lab.client("sts").get_caller_identity()
    assert identity["Account"] == "123456789012"
    assert identity["Arn"] == "arn:aws:iam::123456789012:root"
    assert boto3.client("s3").meta.region_name == "us-east-1"


def test_ec2_service_role__reads_one_bucket__and_has_an_instance_profile(lab):
    iam = lab.client("iam")
    role = iam.get_role(RoleName="app-server-role")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    profile = iam.get_instance_profile(InstanceProfileName="app-server-role")["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == ["app-server-role"]
    document = iam.get_role_policy(RoleName="app-server-role", PolicyName="ReadAppData")["PolicyDocument"]
    assert {s["Resource"] for s in document["Statement"]} == {"arn:aws:s3:::acme-app-data", "arn:aws:s3:::acme-app-data/*"}


def test_cross_account_auditor_role__trusts_the_audit_account_with_an_external_id(lab):
    trust = lab.client("iam").get_role(RoleName="auditor-role")["Role"]["AssumeRolePolicyDocument"]
    statement = trust["Statement"][0]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": "acme-audit-2026"}}


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
        "arn:aws:iam::aws:policy/IAMUserChangePassword",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    ],
)
def test_aws_managed_policies__are_there_by_arn(lab, arn):
    iam = lab.client("iam")
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    assert policy["Arn"] == arn
    version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
    assert version["Document"]["Statement"]


def test_aws_managed_policies__can_be_attached_and_listed(lab):
    iam = lab.client("iam")
    iam.attach_user_policy(UserName="frank", PolicyArn="arn:aws:iam::aws:policy/AWSCloudTrail_ReadOnlyAccess")
    attached = iam.list_attached_user_policies(UserName="frank")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AWSCloudTrail_ReadOnlyAccess"]
    every = [p for page in iam.get_paginator("list_policies").paginate(Scope="AWS") for p in page["Policies"]]
    assert len(every) > 1000


def test_attaching_a_policy_that_does_not_exist__is_refused_as_aws_does(lab):
    iam = lab.client("iam")
    with pytest.raises(ClientError) as err:
        iam.attach_group_policy(GroupName="developers", PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy")
    assert err.value.response["Error"]["Code"] == "NoSuchEntity"


def test_plain_boto3_and_lab_client__see_the_same_account(lab):
    boto3.client("iam").create_user(UserName="zoe")
    assert "zoe" in _names(lab.client("iam").list_users()["Users"], "UserName")


def test_reset__returns_to_the_seeded_state(lab):
    iam, s3 = lab.client("iam"), lab.client("s3")
    iam.create_user(UserName="temporary")
    iam.remove_user_from_group(GroupName="developers", UserName="alice")
    s3.delete_object(Bucket="acme-app-data", Key="config/app.json")
    lab.reset()
    assert "temporary" not in _names(iam.list_users()["Users"], "UserName")
    assert "alice" in _names(iam.get_group(GroupName="developers")["Users"], "UserName")
    assert s3.get_object(Bucket="acme-app-data", Key="config/app.json")["Body"].read()


def test_session_as__signs_with_the_users_own_keys(lab):
    alice = lab.session_as("alice")
    assert alice.client("sts").get_caller_identity()["Arn"] == "arn:aws:iam::123456789012:user/alice"
    keys = lab.client("iam").list_access_keys(UserName="alice")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [alice.get_credentials().access_key]


def test_session_as__reuses_the_keys_it_made(lab):
    first = lab.session_as("bob").get_credentials().access_key
    second = lab.session_as("bob").get_credentials().access_key
    assert first == second
    assert len(lab.client("iam").list_access_keys(UserName="bob")["AccessKeyMetadata"]) == 1


def test_session_as__a_missing_user__says_so_and_lists_the_users(lab):
    with pytest.raises(NoSuchEntity, match="no IAM user named 'zed'.*alice"):
        lab.session_as("zed")


def test_user_with_no_policy__cannot_list_users(lab):
    with pytest.raises(ClientError) as err:
        lab.session_as("frank").client("iam").list_users()
    error = err.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    assert error["Message"] == (
        "User: arn:aws:iam::123456789012:user/frank is not authorized to perform: iam:ListUsers on resource: "
        "arn:aws:iam::123456789012:user/ because no identity-based policy allows the iam:ListUsers action"
    )


def test_user_with_a_group_policy__may_do_what_it_allows(lab):
    alice = lab.session_as("alice")
    assert "acme-app-data" in _names(alice.client("s3").list_buckets()["Buckets"], "Name")
    alice.client("s3").put_object(Bucket="acme-app-data", Key="notes.txt", Body=b"hi")
    with pytest.raises(ClientError) as err:
        alice.client("s3").put_object(Bucket="acme-finance", Key="notes.txt", Body=b"hi")
    assert err.value.response["Error"]["Code"] == "AccessDenied"


def test_admin_group_member__may_manage_iam(lab):
    carol = lab.session_as("carol").client("iam")
    carol.create_user(UserName="newbie")
    assert "newbie" in _names(carol.list_users()["Users"], "UserName")


def test_deactivated_access_key__stops_working(lab):
    session = lab.session_as("alice")
    key = session.get_credentials().access_key
    lab.client("iam").update_access_key(UserName="alice", AccessKeyId=key, Status="Inactive")
    with pytest.raises(ClientError) as err:
        session.client("s3").list_buckets()
    assert err.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_made_up_credentials__are_refused(lab):
    client = boto3.client("s3", aws_access_key_id="AKIAMADEUPKEY0000000", aws_secret_access_key="x")
    with pytest.raises(ClientError) as err:
        client.list_buckets()
    assert err.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_keys_made_by_the_learner__are_enforced_too(lab):
    created = lab.client("iam").create_access_key(UserName="frank")["AccessKey"]
    client = boto3.client("iam", aws_access_key_id=created["AccessKeyId"], aws_secret_access_key=created["SecretAccessKey"])
    with pytest.raises(ClientError) as err:
        client.list_users()
    assert err.value.response["Error"]["Code"] == "AccessDenied"


def test_start__twice_is_refused__and_the_lab_keeps_working(lab):
    with pytest.raises(LabStateError, match="already running"):
        lab.start()
    assert lab.client("iam").list_users()["Users"]


def test_a_second_lab__is_refused_while_one_runs(lab):
    with pytest.raises(LabStateError, match="Another Lab is already running"):
        Lab().start()
    assert current_lab() is lab


def test_stop_without_start__is_refused_with_what_to_do():
    with pytest.raises(LabStateError, match="not running.*lab.start"):
        Lab().stop()


def test_use_after_stop__is_refused_with_what_to_do():
    lab = Lab().start()
    lab.stop()
    for use in (lambda: lab.client("iam"), lab.reset, lambda: lab.session_as("alice"), lambda: lab.check("welcome.1", 1)):
        with pytest.raises(LabStateError, match="not running"):
            use()
    assert current_lab() is None


def test_a_lab_can_start_again_after_stop():
    lab = Lab()
    with lab:
        lab.client("iam").create_user(UserName="temporary")
    with lab:
        assert "temporary" not in _names(lab.client("iam").list_users()["Users"], "UserName")


def test_with_block__stops_the_lab_even_when_the_body_fails():
    with pytest.raises(ZeroDivisionError):
        with Lab():
            1 / 0
    assert current_lab() is None


def test_open_lab__reuses_the_running_lab():
    first = open_lab()
    try:
        first.client("iam").create_user(UserName="kept")
        again = open_lab()
        assert again is first
        assert "kept" in _names(again.client("iam").list_users()["Users"], "UserName")
    finally:
        first.stop()


def test_lab__shows_the_company_in_a_notebook(lab):
    assert "Acme Rockets" in lab._repr_html_()
    assert repr(lab) == "<Lab 'Acme Rockets' account 123456789012 us-east-1 (running)>"
