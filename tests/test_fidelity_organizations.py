"""Organizations as AWS answers it: a policy type must be enabled on the root before it is attached."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.both_modes  # the account in the kernel, and in a lab server

RCP = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "*"}]})


def _rcp(lab):
    orgs = lab.client("organizations", account="management")
    root = orgs.list_roots()["Roots"][0]["Id"]
    made = orgs.create_policy(Name="NoDeletes", Description="d", Type="RESOURCE_CONTROL_POLICY", Content=RCP)
    return orgs, root, made["Policy"]["PolicySummary"]["Id"]


def test_attach_rcp__before_the_type_is_enabled__fails_as_organizations_fails(lab):
    # Organizations API reference, AttachPolicy / PolicyTypeNotEnabledException.
    orgs, root, policy_id = _rcp(lab)
    with pytest.raises(ClientError) as err:
        orgs.attach_policy(PolicyId=policy_id, TargetId=root)
    error = err.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("PolicyTypeNotEnabledException", "This operation can be performed only for enabled policy types.")
    assert orgs.list_targets_for_policy(PolicyId=policy_id)["Targets"] == []  # nothing changed


def test_attach_rcp__after_enabling_the_type__takes_effect(lab):
    orgs, root, policy_id = _rcp(lab)
    orgs.enable_policy_type(RootId=root, PolicyType="RESOURCE_CONTROL_POLICY")
    orgs.attach_policy(PolicyId=policy_id, TargetId=root)
    assert [t["TargetId"] for t in orgs.list_targets_for_policy(PolicyId=policy_id)["Targets"]] == [root]
    with pytest.raises(ClientError) as err:
        lab.session_as("alice-admin").client("s3").delete_bucket(Bucket="acme-sandbox")
    assert err.value.response["Error"]["Message"].endswith("with an explicit deny in a resource control policy")


def test_attach_scp__works_in_an_all_features_organization(lab):
    # CreateOrganization with all features enables SCPs in the root.
    orgs = lab.client("organizations", account="management")
    unit = orgs.list_organizational_units_for_parent(ParentId=orgs.list_roots()["Roots"][0]["Id"])["OrganizationalUnits"][0]
    made = orgs.create_policy(Name="NoRegions", Description="d", Type="SERVICE_CONTROL_POLICY", Content=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "ec2:*", "Resource": "*"}]}))
    orgs.attach_policy(PolicyId=made["Policy"]["PolicySummary"]["Id"], TargetId=unit["Id"])
    assert orgs.list_targets_for_policy(PolicyId=made["Policy"]["PolicySummary"]["Id"])["Targets"][0]["TargetId"] == unit["Id"]


def test_attach_policy__unknown_policy__keeps_organizations_error(lab):
    orgs = lab.client("organizations", account="management")
    with pytest.raises(ClientError) as err:
        orgs.attach_policy(PolicyId="p-doesnotexist1", TargetId=orgs.list_roots()["Roots"][0]["Id"])
    assert err.value.response["Error"]["Code"] == "PolicyNotFoundException"
