"""A lab whose account lives in a lab server (labkit.server), as a grader runs it."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from labkit import Lab
from labkit.errors import LabStateError, NoLabRunning
from labkit.server import LabServer


@pytest.fixture(scope="module")
def server():
    with LabServer() as running:
        yield running


def test_kernel_calls__reach_the_server(server, trap):
    with Lab(server=server.url) as lab:
        users = {u["UserName"] for u in boto3.client("iam").list_users()["Users"]}
        assert {"alice", "frank"} <= users
        lab.client("iam").create_user(UserName="from-kernel")
    with Lab(server=server.url) as lab:  # the state is the server's, not the kernel's
        assert "from-kernel" in {u["UserName"] for u in lab.client("iam").list_users()["Users"]}


def test_enforcement__applies_against_the_server(server):
    with Lab(server=server.url) as lab:
        with pytest.raises(ClientError) as err:
            lab.session_as("frank").client("iam").list_users()
        assert err.value.response["Error"]["Code"] == "AccessDenied"
        assert lab.session_as("alice").client("s3").list_buckets()["Buckets"]


def test_reset__is_refused_in_a_server_lab(server):
    with Lab(server=server.url) as lab:
        with pytest.raises(LabStateError, match="cannot be reset"):
            lab.reset()


def test_only_the_lab_server__is_reachable(server, trap):
    with Lab(server=server.url):
        client = boto3.client("iam", endpoint_url=trap.url)
        with pytest.raises(NoLabRunning):
            client.list_users()
    assert trap.connections == 0


def test_lab_server__must_be_on_loopback():
    with pytest.raises(NoLabRunning, match="only talks to lab servers on this machine"):
        Lab(server="http://198.51.100.1:5000").start()


def test_labkit_server_env__points_new_labs_at_the_server(server, monkeypatch):
    monkeypatch.setenv("LABKIT_SERVER", server.url)
    lab = Lab()
    assert lab.server == server.url


def _policy(*statements):
    import json

    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_resource_policies_and_tags__are_read_from_the_server(server):
    with Lab(server=server.url) as lab:
        s3 = lab.client("s3")
        s3.create_bucket(Bucket="remote-shared")
        s3.put_bucket_tagging(Bucket="remote-shared", Tagging={"TagSet": [{"Key": "team", "Value": "telemetry"}]})
        frank = lab.session_as("frank").client("s3")
        with pytest.raises(ClientError):
            frank.list_objects_v2(Bucket="remote-shared")
        s3.put_bucket_policy(Bucket="remote-shared", Policy=_policy({
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/frank"},
            "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::remote-shared"}))
        assert frank.list_objects_v2(Bucket="remote-shared")["KeyCount"] == 0
        lab.client("iam").put_user_policy(UserName="dave", PolicyName="abac", PolicyDocument=_policy({
            "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceTag/team": "telemetry"}}}))
        with pytest.raises(ClientError) as err:
            lab.session_as("dave").client("s3").list_objects_v2(Bucket="remote-shared")
        assert err.value.response["Error"]["Message"].endswith("with an explicit deny in an identity-based policy")


def test_assume_role__works_against_the_server(server):
    with Lab(server=server.url) as lab:
        iam = lab.client("iam")
        iam.create_role(RoleName="remote-ops", AssumeRolePolicyDocument=_policy(
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/carol"}, "Action": "sts:AssumeRole"}))
        iam.attach_role_policy(RoleName="remote-ops", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
        credentials = lab.session_as("carol").client("sts").assume_role(
            RoleArn="arn:aws:iam::123456789012:role/remote-ops", RoleSessionName="ops")["Credentials"]
        ops = boto3.Session(aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
                            aws_session_token=credentials["SessionToken"], region_name="us-east-1")
        assert ops.client("iam").list_users()["Users"]
        with pytest.raises(ClientError):
            ops.client("s3").list_buckets()


def test_scps__are_read_from_the_servers_organization(server):
    with Lab(server=server.url) as lab:
        carol = lab.session_as("carol").client("iam")
        carol.list_users()
        orgs = lab.client("organizations", account="management")
        root = orgs.list_roots()["Roots"][0]["Id"]
        unit = next(u for u in orgs.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"] if u["Name"] == "workloads")
        made = orgs.create_policy(Name="NoIamLists", Description="x", Type="SERVICE_CONTROL_POLICY",
                                  Content=_policy({"Effect": "Deny", "Action": "iam:ListUsers", "Resource": "*"}))
        orgs.attach_policy(PolicyId=made["Policy"]["PolicySummary"]["Id"], TargetId=unit["Id"])
        with pytest.raises(ClientError) as err:
            carol.list_users()
        assert err.value.response["Error"]["Message"].endswith("with an explicit deny in a service control policy")
