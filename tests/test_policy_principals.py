"""Principal and NotPrincipal in resource-based policies (reference_policies_elements_principal.md,
reference_policies_elements_notprincipal.md)."""

from __future__ import annotations

import pytest

from labkit.errors import InvalidInput, MalformedPolicyDocument
from labkit.policy import Policy, Request, evaluate

A, B = "111122223333", "444455556666"
USER = f"arn:aws:iam::{A}:user/alice"
ROLE = f"arn:aws:iam::{A}:role/examplerole"
SESSION = f"arn:aws:sts::{A}:assumed-role/examplerole/examplerolesessionname"
FEDERATED = f"arn:aws:sts::{A}:federated-user/exampleuser"
OUTSIDER = f"arn:aws:iam::{B}:user/bob"
BUCKET = "arn:aws:s3:::BUCKETNAME"
ALLOW_ALL = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}


def bucket_policy(effect: str = "Allow", element: str = "Principal", who=None) -> Policy:
    statement = {"Effect": effect, element: who, "Action": "s3:*", "Resource": [BUCKET, f"{BUCKET}/*"]}
    return Policy.from_dict({"Version": "2012-10-17", "Statement": [statement]}, policy_type="resource")


def granted(principal: str, who, **options) -> bool:
    """Whether the bucket policy alone (no identity policy) lets ``principal`` in."""
    request = Request("s3:GetObject", f"{BUCKET}/k", principal, resource_account=A, **options)
    return evaluate(request, resource_policy=bucket_policy(who=who)).allowed


@pytest.mark.parametrize("who", ["*", {"AWS": "*"}])
def test_everyone__star_and_aws_star_are_the_same(who):
    """"All principals": "*" and {"AWS": "*"} are equivalent, anonymous users included."""
    assert granted(USER, who) and granted("anonymous", who) and granted("ec2.amazonaws.com", who)


@pytest.mark.parametrize("who", [{"AWS": A}, {"AWS": f"arn:aws:iam::{A}:root"}])
def test_account_principal__covers_every_principal_of_the_account(who):
    """"AWS account principals": the id and the root ARN behave the same and are not limited to the
    root user. They delegate to the account, whose identity policies must then allow."""
    for principal in (USER, SESSION, f"arn:aws:iam::{A}:root"):
        request = Request("s3:GetObject", f"{BUCKET}/k", principal, resource_account=A)
        assert evaluate(request, resource_policy=bucket_policy(who=who), identity_policies=[ALLOW_ALL]).allowed
    outsider = Request("s3:GetObject", f"{BUCKET}/k", OUTSIDER, resource_account=A)
    assert not evaluate(outsider, resource_policy=bucket_policy(who=who), identity_policies=[ALLOW_ALL]).allowed


def test_account_principal__alone_does_not_grant_an_iam_user():
    assert not granted(USER, {"AWS": A})


def test_user_principal__names_that_user_only():
    """"IAM user principals": the user name part is case sensitive."""
    assert granted(USER, {"AWS": USER})
    assert not granted(f"arn:aws:iam::{A}:user/Alice", {"AWS": USER})


def test_role_principal__covers_sessions_of_the_role():
    """"IAM role principals": a session of the role gets what the role ARN is granted."""
    assert granted(SESSION, {"AWS": ROLE})
    assert not granted(f"arn:aws:sts::{A}:assumed-role/otherrole/s", {"AWS": ROLE})


def test_role_principal__with_a_path_needs_the_sessions_role_path_to_agree():
    with_path = f"arn:aws:iam::{A}:role/teams/examplerole"
    assert granted(SESSION, {"AWS": with_path}, role_path="/teams/")
    assert not granted(SESSION, {"AWS": with_path}, role_path="/other/")
    assert granted(SESSION, {"AWS": with_path})  # path unknown: the role name decides


def test_session_principal__names_one_session():
    """"Assumed-role session principals" must name a specific session."""
    assert granted(SESSION, {"AWS": SESSION})
    assert not granted(f"arn:aws:sts::{A}:assumed-role/examplerole/other", {"AWS": SESSION})


def test_federated_user_principal():
    """"AWS STS federated user session principals"."""
    assert granted(FEDERATED, {"AWS": FEDERATED})


def test_service_principal():
    """"AWS service principals": one Service element listing several services."""
    who = {"Service": ["ecs.amazonaws.com", "elasticloadbalancing.amazonaws.com"]}
    assert granted("elasticloadbalancing.amazonaws.com", who)
    assert not granted("ec2.amazonaws.com", who)
    assert not granted(USER, who)


def test_federated_principal__web_identity_and_saml_providers():
    """"Web identity session principals" and "SAML session principals"."""
    assert granted("accounts.google.com", {"Federated": "accounts.google.com"})
    assert granted("cognito-identity.amazonaws.com", {"Federated": "cognito-identity.amazonaws.com"})
    saml = f"arn:aws:iam::{A}:saml-provider/corp"
    assert granted(saml, {"Federated": saml})
    assert not granted("accounts.google.com", {"Service": "accounts.google.com"})


def test_canonical_user_principal():
    canonical = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
    assert granted(canonical, {"CanonicalUser": canonical})


def test_several_principals__are_ored():
    """"Specifying a principal": more than one principal is a logical OR."""
    who = {"AWS": [OUTSIDER, USER], "CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}
    assert granted(USER, who)


def test_wildcard_inside_a_principal_arn__matches_nothing():
    """"You cannot use a wildcard to match part of a principal name or ARN"."""
    assert not granted(USER, {"AWS": f"arn:aws:iam::{A}:user/*"})


@pytest.mark.parametrize("who", ["someone", {"AWS": "bob"}, {"Group": "admins"}, {"AWS": 123}, {}])
def test_invalid_principal__is_malformed(who):
    with pytest.raises(MalformedPolicyDocument):
        bucket_policy(who=who)


def test_principal_and_notprincipal_together__are_malformed():
    with pytest.raises(MalformedPolicyDocument):
        Policy.from_dict({"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Principal": "*", "NotPrincipal": "*",
                                                                 "Action": "s3:*", "Resource": "*"}})


def deny_all_but(*names: str) -> Policy:
    return bucket_policy("Deny", "NotPrincipal", {"AWS": list(names)})


def denied(principal: str, policy: Policy, account: str = A) -> bool:
    request = Request("s3:GetObject", f"{BUCKET}/k", principal, resource_account=account)
    return evaluate(request, resource_policy=policy, identity_policies=[ALLOW_ALL]).result == "explicitDeny"


def test_notprincipal_deny__spares_the_user_and_account_listed():
    """"NotPrincipal with Deny": everyone but Bob of 444455556666 (user and account ARN listed)."""
    policy = deny_all_but(f"arn:aws:iam::{B}:user/Bob", f"arn:aws:iam::{B}:root")
    assert not denied(f"arn:aws:iam::{B}:user/Bob", policy, account="999999999999")
    assert denied(f"arn:aws:iam::{B}:user/Alice", policy, account="999999999999")
    assert denied(USER, policy)


def test_notprincipal_deny__naming_only_the_user_still_denies_them():
    """"If the NotPrincipal element contained only Bob's ARN, the effect of the policy might be to
    explicitly deny access to the AWS account that contains the user Bob": labkit checks the
    account too, so Bob is denied."""
    assert denied(f"arn:aws:iam::{B}:user/Bob", deny_all_but(f"arn:aws:iam::{B}:user/Bob"), account="999999999999")


def test_notprincipal_deny__a_session_needs_session_role_and_account_listed():
    """The cross-account-audit-app example lists the session, the role and the account."""
    session = f"arn:aws:sts::{B}:assumed-role/cross-account-read-only-role/cross-account-audit-app"
    role = f"arn:aws:iam::{B}:role/cross-account-read-only-role"
    assert not denied(session, deny_all_but(session, role, f"arn:aws:iam::{B}:root"), account=A)
    assert denied(session, deny_all_but(session, f"arn:aws:iam::{B}:root"), account=A)


def test_notprincipal_allow__allows_everyone_else():
    """"NotPrincipal with Allow": every principal except the one named."""
    policy = bucket_policy("Allow", "NotPrincipal", {"AWS": OUTSIDER})
    assert evaluate(Request("s3:GetObject", f"{BUCKET}/k", USER, resource_account=A), resource_policy=policy).allowed
    assert evaluate(Request("s3:GetObject", f"{BUCKET}/k", "anonymous", resource_account=A), resource_policy=policy).allowed
    outsider = Request("s3:GetObject", f"{BUCKET}/k", OUTSIDER, resource_account=A)
    assert not evaluate(outsider, resource_policy=policy, identity_policies=[ALLOW_ALL]).allowed


def test_principal_arn_condition__instead_of_notprincipal():
    """"All principals": deny everyone but one user with Principal "*" and ArnNotEquals."""
    policy = Policy.from_dict({"Version": "2012-10-17", "Statement": [{
        "Sid": "UsePrincipalArnInsteadOfNotPrincipalWithDeny", "Effect": "Deny", "Action": "s3:*", "Principal": "*",
        "Resource": [f"{BUCKET}/*", BUCKET], "Condition": {"ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{B}:user/user-name"}}}]})
    assert not denied(f"arn:aws:iam::{B}:user/user-name", policy, account=A)
    assert denied(OUTSIDER, policy, account=A)


@pytest.mark.parametrize("principal", ["bob", "arn:aws:s3:::bucket", "arn:aws:iam::123:user/x", 42,
                                       "arn:aws:iam::111122223333:group/devs", "arn:aws:sts::111122223333:assumed-role/r"])
def test_request_principal__must_be_something_that_can_call_aws(principal):
    with pytest.raises(InvalidInput):
        Request("s3:GetObject", "*", principal)


def test_everyone__from_another_account_still_needs_an_identity_policy():
    """"All principals": for principals in other accounts, their own identity-based policies must
    allow too (cross-account access)."""
    assert not granted(OUTSIDER, "*")
    request = Request("s3:GetObject", f"{BUCKET}/k", OUTSIDER, resource_account=A)
    assert evaluate(request, resource_policy=bucket_policy(who="*"), identity_policies=[ALLOW_ALL]).allowed
