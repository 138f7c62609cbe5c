"""Issue 9 behaviours as the lab decides them, with the account in the kernel and in a lab server."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

pytestmark = pytest.mark.both_modes

BUCKET = "acme-public-site"


def unsigned(lab, service: str):
    return boto3.client(service, region_name="us-east-1", endpoint_url=lab.endpoint_url,
                        config=Config(signature_version=UNSIGNED))


def error_of(call) -> dict:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]


@pytest.fixture
def site(lab):
    s3 = lab.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="index.html", Body=b"<h1>Acme</h1>")
    return s3


def public_read(bucket: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]})


# reference_policies_elements_principal.md, "Anonymous principals": an unsigned request is the
# anonymous caller, allowed only by a resource-based policy that names "*".

def test_anonymous_read__denied_without_a_public_policy(lab, site):
    error = error_of(lambda: unsigned(lab, "s3").get_object(Bucket=BUCKET, Key="index.html"))
    assert error["Code"] == "AccessDenied" and error["Message"] == "Access Denied"


def test_anonymous_read__allowed_by_a_public_bucket_policy(lab, site):
    site.put_bucket_policy(Bucket=BUCKET, Policy=public_read(BUCKET))
    body = unsigned(lab, "s3").get_object(Bucket=BUCKET, Key="index.html")["Body"].read()
    assert body == b"<h1>Acme</h1>"


def test_anonymous_write__still_denied_by_a_read_only_public_policy(lab, site):
    site.put_bucket_policy(Bucket=BUCKET, Policy=public_read(BUCKET))
    error = error_of(lambda: unsigned(lab, "s3").put_object(Bucket=BUCKET, Key="defaced.html", Body=b"x"))
    assert error["Code"] == "AccessDenied"
    assert "defaced.html" not in [o["Key"] for o in site.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_anonymous_read__a_policy_naming_the_account_does_not_admit_anonymous(lab, site):
    account = lab.client("sts").get_caller_identity()["Account"]
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{BUCKET}/*"}]})
    site.put_bucket_policy(Bucket=BUCKET, Policy=policy)
    assert error_of(lambda: unsigned(lab, "s3").get_object(Bucket=BUCKET, Key="index.html"))["Code"] == "AccessDenied"


def test_unsigned_iam_call__is_refused_for_want_of_credentials(lab):
    error = error_of(lambda: unsigned(lab, "iam").list_users())
    assert error["Code"] == "MissingAuthenticationToken"


# STS API Reference, GetCallerIdentity: "No permissions are required to perform this operation",
# even under an explicit deny.

def test_get_caller_identity__works_under_an_explicit_deny(lab):
    lab.client("iam").put_user_policy(UserName="bob", PolicyName="deny-sts", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "sts:*", "Resource": "*"}]}))
    sts = lab.session_as("bob").client("sts")
    assert sts.get_caller_identity()["Arn"].endswith(":user/bob")
    assert error_of(lambda: sts.get_federation_token(Name="bob-fed"))["Code"] == "AccessDenied"


# reference_policies_evaluation-logic.md: KMS key policies must allow the principal themselves.

def test_kms__identity_allow_is_not_enough_when_the_key_policy_leaves_the_account_out(lab):
    kms, iam = lab.client("kms"), lab.client("iam")
    account = lab.client("sts").get_caller_identity()["Account"]
    lab.session_as("bob")  # bob has keys before the key policy names someone
    key_policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "OnlyAlice", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:user/alice"},
         "Action": "kms:*", "Resource": "*"}]}
    key_id = kms.create_key(Policy=json.dumps(key_policy), BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]["KeyId"]
    iam.put_user_policy(UserName="bob", PolicyName="kms-all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}))
    bob = lab.session_as("bob").client("kms", region_name="us-east-1")
    assert error_of(lambda: bob.describe_key(KeyId=key_id))["Code"] == "AccessDeniedException"
    delegate = {"Version": "2012-10-17", "Statement": [
        {"Sid": "EnableIAMPolicies", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
         "Action": "kms:*", "Resource": "*"}]}
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(delegate))
    assert bob.describe_key(KeyId=key_id)["KeyMetadata"]["KeyId"] == key_id
