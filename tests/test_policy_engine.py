"""The evaluation logic (labkit.policy.engine): identity- and resource-based policies, within one
account and across accounts (reference_policies_evaluation-logic.md,
reference_policies_evaluation-logic-cross-account.md)."""

from __future__ import annotations

import pytest

from labkit.policy import Policy, Request, evaluate

CARLOS = "arn:aws:iam::123456789012:user/carlossalazar"


def policy(*statements: dict, **options) -> Policy:
    return Policy.from_dict({"Version": "2012-10-17", "Statement": list(statements)}, **options)


CARLOS_POLICY = policy(
    {"Sid": "AllowS3ListRead", "Effect": "Allow", "Resource": "arn:aws:s3:::*",
     "Action": ["s3:GetBucketLocation", "s3:GetAccountPublicAccessBlock", "s3:ListAccessPoints", "s3:ListAllMyBuckets"]},
    {"Sid": "AllowS3Self", "Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"]},
    {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*log*"},
    policy_id="carlossalazar/inline", policy_type="user")
CARLOS_BUCKET_POLICY = policy(
    {"Effect": "Allow", "Principal": {"AWS": CARLOS}, "Action": "s3:*",
     "Resource": ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"]}, policy_id="carlossalazar-bucket")


def test_no_policy__is_an_implicit_deny():
    """"By default, all requests are implicitly denied"."""
    decision = evaluate(Request("s3:ListAllMyBuckets", "*", CARLOS))
    assert (decision.result, decision.allowed, decision.decided_by) == ("implicitDeny", False, "identity")


def test_root_user__has_full_access_by_default():
    """"... with the exception of the AWS account root user, which has full access"."""
    assert evaluate(Request("iam:CreateUser", "*", "arn:aws:iam::123456789012:root")).allowed


def test_root_user__is_still_bound_by_an_explicit_deny():
    bucket = policy({"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "arn:aws:s3:::b"})
    decision = evaluate(Request("s3:DeleteBucket", "arn:aws:s3:::b", "arn:aws:iam::123456789012:root"), resource_policy=bucket)
    assert decision.result == "explicitDeny"


def test_carlos__explicit_deny_on_the_logs_bucket():
    """"Example identity-based and resource-based policy evaluation": saving to carlossalazar-logs
    hits DenyS3Logs."""
    request = Request("s3:PutObject", "arn:aws:s3:::carlossalazar-logs/file", CARLOS)
    decision = evaluate(request, identity_policies=[CARLOS_POLICY])
    assert (decision.result, decision.decided_by) == ("explicitDeny", "identity")
    assert [s.sid for s in decision.matched_statements] == ["DenyS3Logs"]


def test_carlos__both_policies_allow_his_own_bucket():
    request = Request("s3:PutObject", "arn:aws:s3:::carlossalazar/file", CARLOS)
    assert evaluate(request, identity_policies=[CARLOS_POLICY], resource_policy=CARLOS_BUCKET_POLICY).allowed


@pytest.mark.parametrize("which", ["identity", "resource"])
def test_same_account__either_policy_type_may_allow_alone(which):
    """"If either the identity-based policy or the resource-based policy within the same account
    allows the request and the other doesn't, the request is still allowed"."""
    request = Request("s3:PutObject", "arn:aws:s3:::carlossalazar/file", CARLOS)
    options = {"identity_policies": [CARLOS_POLICY]} if which == "identity" else {"resource_policy": CARLOS_BUCKET_POLICY}
    decision = evaluate(request, **options)
    assert decision.allowed and decision.decided_by == which


def test_explicit_deny_in_a_resource_policy__overrides_an_identity_allow():
    bucket = policy({"Effect": "Deny", "Principal": {"AWS": CARLOS}, "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::carlossalazar/*"})
    request = Request("s3:DeleteObject", "arn:aws:s3:::carlossalazar/file", CARLOS)
    decision = evaluate(request, identity_policies=[CARLOS_POLICY], resource_policy=bucket)
    assert (decision.result, decision.decided_by) == ("explicitDeny", "resource")


REPORTS = policy({"Sid": "AllowGetList", "Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"},
                 {"Sid": "DenyReports", "Effect": "Deny", "Action": "iam:*Report", "Resource": "*"})


@pytest.mark.parametrize("action,result", [("iam:GetUser", "allowed"), ("iam:CreatePolicy", "implicitDeny"),
                                           ("iam:GetOrganizationsAccessReport", "explicitDeny"),
                                           ("iam:GenerateCredentialReport", "explicitDeny")])
def test_explicit_and_implicit_denies(action, result):
    """"The difference between explicit and implicit denies": AllowGetList and DenyReports, plus
    another policy that allows iam:GenerateCredentialReport, which stays denied."""
    extra = policy({"Effect": "Allow", "Action": "iam:GenerateCredentialReport", "Resource": "*"})
    request = Request(action, "*", CARLOS)
    assert evaluate(request, identity_policies=[REPORTS, extra]).result == result


# --- cross-account --------------------------------------------------------------------------

CARLOS_A = "arn:aws:iam::111111111111:user/carlossalazar"
CROSS_IDENTITY = policy(
    {"Sid": "AllowS3ListRead", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
    {"Sid": "AllowS3ProductionObjectActions", "Effect": "Allow", "Action": "s3:*Object*", "Resource": "arn:aws:s3:::Production/*"},
    {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": ["arn:aws:s3:::*log*", "arn:aws:s3:::*log*/*"]})
PRODUCTION_BUCKET = policy({
    "Effect": "Allow", "Action": ["s3:GetObject*", "s3:PutObject*", "s3:ReplicateObject", "s3:RestoreObject"],
    "Principal": {"AWS": CARLOS_A}, "Resource": "arn:aws:s3:::Production/*"})


def production(key: str, action: str = "s3:PutObject", bucket: str = "Production") -> Request:
    return Request(action, f"arn:aws:s3:::{bucket}/{key}", CARLOS_A, resource_account="222222222222")


def test_cross_account__denied_by_the_callers_own_deny():
    """"Example cross-account policy evaluation": Production-logs is denied in account 111111111111."""
    decision = evaluate(production("f", bucket="Production-logs"), identity_policies=[CROSS_IDENTITY])
    assert (decision.result, decision.decided_by) == ("explicitDeny", "identity")


def test_cross_account__both_accounts_allow():
    decision = evaluate(production("f"), identity_policies=[CROSS_IDENTITY], resource_policy=PRODUCTION_BUCKET)
    assert decision.allowed and decision.trace.cross_account


def test_cross_account__the_resource_policy_alone_is_not_enough():
    """"The request is allowed only if both evaluations return a decision of Allow"."""
    decision = evaluate(production("f"), resource_policy=PRODUCTION_BUCKET)
    assert (decision.result, decision.decided_by) == ("implicitDeny", "identity")


def test_cross_account__the_identity_policy_alone_is_not_enough():
    decision = evaluate(production("f"), identity_policies=[CROSS_IDENTITY])
    assert (decision.result, decision.decided_by) == ("implicitDeny", "resource")


def test_cross_account__the_bucket_policy_does_not_allow_delete():
    """"He can create and edit, but not delete the objects in the bucket"."""
    decision = evaluate(production("f", "s3:DeleteObject"), identity_policies=[CROSS_IDENTITY], resource_policy=PRODUCTION_BUCKET)
    assert decision.result == "implicitDeny"


def test_cross_account__naming_the_account_delegates_to_its_identity_policies():
    bucket = policy({"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "s3:*", "Resource": "arn:aws:s3:::Production/*"})
    assert evaluate(production("f"), identity_policies=[CROSS_IDENTITY], resource_policy=bucket).allowed
    assert not evaluate(production("f"), resource_policy=bucket).allowed


def test_resource_account__defaults_to_the_arn_then_the_caller():
    assert Request("sqs:SendMessage", "arn:aws:sqs:us-east-1:222222222222:q", CARLOS_A).resource_account == "222222222222"
    assert Request("s3:GetObject", "arn:aws:s3:::bucket/k", CARLOS_A).resource_account == "111111111111"
    assert Request("iam:GetPolicy", "arn:aws:iam::aws:policy/ReadOnlyAccess", CARLOS_A).resource_account == "111111111111"


# --- principals with no identity-based policies ---------------------------------------------

def test_service_principal__needs_a_resource_policy():
    request = Request("s3:PutObject", "arn:aws:s3:::trail/AWSLogs/x", "cloudtrail.amazonaws.com", resource_account="123456789012")
    bucket = policy({"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
                     "Resource": "arn:aws:s3:::trail/AWSLogs/*"})
    assert evaluate(request, resource_policy=bucket).allowed
    assert evaluate(request).result == "implicitDeny"


def test_anonymous_caller__only_a_public_resource_policy_allows():
    """"All principals": "*" with Allow grants access to anonymous users (public access)."""
    request = Request("s3:GetObject", "arn:aws:s3:::site/index.html", "anonymous", resource_account="123456789012")
    public = policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*"})
    assert evaluate(request, resource_policy=public).allowed
    assert not evaluate(request, identity_policies=[CARLOS_POLICY]).allowed


# --- trust policies and key policies must allow the caller themselves -------------------------

ROLE = "arn:aws:iam::123456789012:role/Deploy"
ASSUME = policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ROLE})


def trust(principal) -> Policy:
    return policy({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}, policy_type="resource")


def test_trust_policy__an_identity_allow_is_not_enough():
    """The "Resource-based policies" step: role trust policies are an exception and must allow the
    principal explicitly."""
    decision = evaluate(Request("sts:AssumeRole", ROLE, CARLOS), identity_policies=[ASSUME], resource_policy=trust("999999999999"))
    assert (decision.result, decision.decided_by) == ("implicitDeny", "resource")


def test_trust_policy__naming_the_account_needs_the_identity_policy_too():
    request = Request("sts:AssumeRole", ROLE, CARLOS)
    assert evaluate(request, identity_policies=[ASSUME], resource_policy=trust("123456789012")).allowed
    assert not evaluate(request, resource_policy=trust("123456789012")).allowed


def test_trust_policy__naming_the_user_is_enough_in_the_same_account():
    assert evaluate(Request("sts:AssumeRole", ROLE, CARLOS), resource_policy=trust(CARLOS)).allowed


def test_kms_key_policy__must_allow_like_a_trust_policy():
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    use_keys = policy({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})
    key_policy = policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"})
    request = Request("kms:Decrypt", key, CARLOS)
    assert evaluate(request, identity_policies=[use_keys], resource_policy=key_policy).allowed
    silent_key = policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/admin"}, "Action": "kms:*", "Resource": "*"})
    assert not evaluate(request, identity_policies=[use_keys], resource_policy=silent_key).allowed


def test_policies_may_be_json_text_dicts_or_compiled():
    text = '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}'
    as_dict = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}
    request = Request("s3:GetObject", "arn:aws:s3:::b/k", CARLOS)
    for form in (text, as_dict, Policy.from_json(text)):
        assert evaluate(request, identity_policies=[form]).allowed
        assert evaluate(request, identity_policies=form).allowed
