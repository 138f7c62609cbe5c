"""Policies that only limit: permissions boundaries, session policies, SCPs and RCPs
(access_policies_boundaries.md, reference_policies_evaluation-logic.md; RCPs as AWS Organizations
documents them after 2023)."""

from __future__ import annotations

from labkit.policy import Policy, Request, evaluate

A, B = "111122223333", "444455556666"
USER = f"arn:aws:iam::{A}:user/ShirleyRodriguez"
ROLE = f"arn:aws:iam::{A}:role/examplerole"
SESSION = f"arn:aws:sts::{A}:assumed-role/examplerole/examplerolesessionname"
FEDERATED = f"arn:aws:sts::{A}:federated-user/exampleuser"
BUCKET = "arn:aws:s3:::shared"


def policy(*statements: dict) -> Policy:
    return Policy.from_dict({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str = "*", resource: str = "*", **extra) -> Policy:
    return policy({"Effect": "Allow", "Action": action, "Resource": resource, **extra})


def deny(action: str = "*", resource: str = "*", **extra) -> Policy:
    return policy({"Effect": "Deny", "Action": action, "Resource": resource, **extra})


def bucket_for(principal) -> Policy:
    return policy({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "s3:*", "Resource": f"{BUCKET}/*"})


SHIRLEY_BOUNDARY = policy({"Effect": "Allow", "Action": ["s3:*", "cloudwatch:*", "ec2:*"], "Resource": "*"})


# --- permissions boundaries -----------------------------------------------------------------

def test_boundary__caps_identity_policies():
    """access_policies_boundaries.md: ShirleyRodriguez may create users by policy, but her
    boundary allows only S3, CloudWatch and EC2, so iam:CreateUser fails."""
    decision = evaluate(Request("iam:CreateUser", "*", USER), identity_policies=[allow("iam:CreateUser")],
                        permissions_boundaries=[SHIRLEY_BOUNDARY])
    assert (decision.result, decision.decided_by, decision.boundary_allowed) == ("implicitDeny", "boundary", False)


def test_boundary__grants_nothing_on_its_own():
    decision = evaluate(Request("s3:GetObject", f"{BUCKET}/k", USER), permissions_boundaries=[SHIRLEY_BOUNDARY])
    assert (decision.result, decision.decided_by, decision.boundary_allowed) == ("implicitDeny", "identity", True)


def test_boundary_and_identity_policy__both_allowing():
    assert evaluate(Request("ec2:RunInstances", "*", USER), identity_policies=[allow("ec2:*")],
                    permissions_boundaries=[SHIRLEY_BOUNDARY]).allowed


def test_boundary__resource_policy_naming_the_user_is_not_capped():
    """access_policies_boundaries.md, Nikhil: a secret's resource policy that allows him works,
    because implicit denies in boundaries do not limit resource-based policies naming the user."""
    secret = "arn:aws:secretsmanager:us-east-1:111122223333:secret:db"
    resource = policy({"Effect": "Allow", "Principal": {"AWS": USER}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"})
    decision = evaluate(Request("secretsmanager:GetSecretValue", secret, USER), resource_policy=resource,
                        permissions_boundaries=[SHIRLEY_BOUNDARY])
    assert decision.allowed and decision.decided_by == "resource"


def test_boundary__explicit_deny_beats_a_resource_policy():
    """... but the logs bucket stays out of reach: the boundary denies it explicitly."""
    boundary = policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                      {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": ["arn:aws:s3:::logs", "arn:aws:s3:::logs/*"]})
    logs = policy({"Effect": "Allow", "Principal": {"AWS": USER}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::logs/*"})
    decision = evaluate(Request("s3:PutObject", "arn:aws:s3:::logs/x", USER), resource_policy=logs, permissions_boundaries=[boundary])
    assert (decision.result, decision.decided_by) == ("explicitDeny", "boundary")


def test_boundary__resource_policy_naming_the_role_is_capped():
    """"IAM role": resource-based policies that grant to a role ARN are limited by an implicit
    deny in a permissions boundary or session policy."""
    request = Request("s3:GetObject", f"{BUCKET}/k", SESSION)
    decision = evaluate(request, resource_policy=bucket_for(ROLE), permissions_boundaries=[SHIRLEY_BOUNDARY.tagged()])
    assert decision.allowed  # the boundary allows s3:*
    decision = evaluate(request, resource_policy=bucket_for(ROLE), permissions_boundaries=[allow("ec2:*")])
    assert (decision.result, decision.decided_by) == ("implicitDeny", "boundary")


def test_role_arn_grant__is_not_limited_by_the_identity_policies():
    assert evaluate(Request("s3:GetObject", f"{BUCKET}/k", SESSION), resource_policy=bucket_for(ROLE)).allowed


def test_boundary__resource_policy_naming_the_session_is_not_capped():
    """"IAM role session": permissions granted to the session ARN are not limited by implicit
    denies in identity-based policies, boundaries or session policies."""
    decision = evaluate(Request("s3:GetObject", f"{BUCKET}/k", SESSION), resource_policy=bucket_for(SESSION),
                        permissions_boundaries=[allow("ec2:*")], session_policy=allow("ec2:*"))
    assert decision.allowed and decision.decided_by == "resource"


def test_resource_policy_naming_the_account__is_capped_like_identity_policies():
    decision = evaluate(Request("s3:GetObject", f"{BUCKET}/k", USER), identity_policies=[allow("s3:*")],
                        resource_policy=bucket_for(A), permissions_boundaries=[allow("ec2:*")])
    assert (decision.result, decision.decided_by) == ("implicitDeny", "boundary")


def test_principal_star__is_not_limited_by_boundaries_or_session_policies():
    """reference_policies_elements_principal.md ("IAM role principals"): grants made with "*" in
    Principal are not limited by boundaries or session policies, unless they deny explicitly."""
    public = policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*",
                     "Condition": {"ArnEquals": {"aws:PrincipalArn": ROLE}}})
    request = Request("s3:GetObject", f"{BUCKET}/k", SESSION)
    assert evaluate(request, resource_policy=public, permissions_boundaries=[allow("ec2:*")], session_policy=allow("ec2:*")).allowed
    assert not evaluate(request, resource_policy=public, permissions_boundaries=[deny("s3:*")]).allowed


def test_cross_account__a_boundary_caps_the_callers_side():
    request = Request("s3:GetObject", f"{BUCKET}/k", SESSION, resource_account=B)
    decision = evaluate(request, identity_policies=[allow("s3:*")], resource_policy=bucket_for(SESSION),
                        permissions_boundaries=[allow("ec2:*")])
    assert (decision.result, decision.decided_by) == ("implicitDeny", "boundary")


# --- session policies -----------------------------------------------------------------------

def test_session_policy__intersects_with_identity_policies():
    """reference_policies_evaluation-logic.md: a session's permissions are the intersection of the
    entity's identity-based policies and the session policies."""
    request = Request("s3:GetObject", f"{BUCKET}/k", SESSION)
    assert evaluate(request, identity_policies=[allow("s3:*")], session_policy=allow("s3:Get*")).allowed
    decision = evaluate(request, identity_policies=[allow("s3:*")], session_policy=allow("ec2:*"))
    assert (decision.result, decision.decided_by) == ("implicitDeny", "session")
    assert not evaluate(request, session_policy=allow("s3:*")).allowed


def test_session_policy__explicit_deny():
    decision = evaluate(Request("s3:GetObject", f"{BUCKET}/k", SESSION), identity_policies=[allow()], session_policy=deny("s3:*"))
    assert (decision.result, decision.decided_by) == ("explicitDeny", "session")


def test_session_policy__caps_a_resource_policy_naming_the_role():
    decision = evaluate(Request("s3:GetObject", f"{BUCKET}/k", SESSION), resource_policy=bucket_for(ROLE), session_policy=allow("ec2:*"))
    assert (decision.result, decision.decided_by) == ("implicitDeny", "session")


def test_role_session_without_session_policy__keeps_the_roles_permissions():
    assert evaluate(Request("s3:GetObject", f"{BUCKET}/k", SESSION), identity_policies=[allow("s3:*")]).allowed


def test_federated_user_without_session_policy__has_no_permissions():
    """The "Session policies" step: with no session policy, a session that is not a role session
    is implicitly denied."""
    decision = evaluate(Request("s3:GetObject", f"{BUCKET}/k", FEDERATED), identity_policies=[allow("s3:*")])
    assert (decision.result, decision.decided_by) == ("implicitDeny", "session")
    assert evaluate(Request("s3:GetObject", f"{BUCKET}/k", FEDERATED), identity_policies=[allow("s3:*")],
                    session_policy=allow("s3:*")).allowed


def test_federated_user__resource_policy_naming_the_session_is_not_capped():
    """"IAM federated user sessions": a grant to the federated user ARN goes to the session."""
    decision = evaluate(Request("s3:GetObject", f"{BUCKET}/k", FEDERATED), resource_policy=bucket_for(FEDERATED),
                        permissions_boundaries=[allow("ec2:*")])
    assert decision.allowed


def test_federated_user__resource_policy_naming_the_federating_user_is_capped():
    """"... if a resource-based policy grants permission to the ARN of the IAM user who federated,
    then requests made by the federated user during the session are limited"."""
    request = Request("s3:GetObject", f"{BUCKET}/k", FEDERATED, federated_by=USER)
    assert evaluate(request, resource_policy=bucket_for(USER), session_policy=allow("s3:*")).allowed
    decision = evaluate(request, resource_policy=bucket_for(USER), session_policy=allow("ec2:*"))
    assert (decision.result, decision.decided_by) == ("implicitDeny", "session")


# --- service control policies ---------------------------------------------------------------

FULL = allow()  # FullAWSAccess


def test_scp__intersects_with_identity_policies():
    """"Evaluating identity-based policies with Organizations SCPs"."""
    request = Request("ec2:RunInstances", "*", USER)
    decision = evaluate(request, identity_policies=[allow()], scps=[[FULL], [allow("s3:*")]])
    assert (decision.result, decision.decided_by, decision.organizations_allowed) == ("implicitDeny", "scp", False)
    assert evaluate(request, identity_policies=[allow()], scps=[[FULL], [allow("ec2:*")]]).allowed


def test_scp__every_level_must_allow():
    request = Request("s3:GetObject", f"{BUCKET}/k", USER)
    assert not evaluate(request, identity_policies=[allow()], scps=[[allow("ec2:*")], [FULL], [FULL]]).allowed
    assert not evaluate(request, identity_policies=[allow()], scps=[[FULL], []]).allowed


def test_scp__grants_nothing_on_its_own():
    decision = evaluate(Request("s3:GetObject", f"{BUCKET}/k", USER), scps=[[FULL]])
    assert (decision.result, decision.decided_by, decision.organizations_allowed) == ("implicitDeny", "identity", True)


def test_scp__explicit_deny():
    decision = evaluate(Request("s3:DeleteBucket", BUCKET, USER), identity_policies=[allow()], scps=[[FULL, deny("s3:DeleteBucket")]])
    assert (decision.result, decision.decided_by) == ("explicitDeny", "scp")


def test_scp__applies_to_the_member_account_root_user():
    """reference_policies_evaluation-logic.md: the SCP maximum applies to each root user too."""
    decision = evaluate(Request("iam:CreateUser", "*", f"arn:aws:iam::{A}:root"), scps=[[allow("s3:*")]])
    assert (decision.result, decision.decided_by) == ("implicitDeny", "scp")


def test_scp__does_not_apply_in_the_management_account():
    decision = evaluate(Request("iam:CreateUser", "*", USER), identity_policies=[allow()], scps=[[deny()]], management_account=A)
    assert decision.allowed and "management account" in decision.explain()


def test_scp__does_not_apply_to_service_linked_roles():
    slr = f"arn:aws:sts::{A}:assumed-role/AWSServiceRoleForSupport/session"
    request = Request("support:DescribeCases", "*", slr, role_path="/aws-service-role/support.amazonaws.com/")
    assert evaluate(request, identity_policies=[allow()], scps=[[deny()]]).allowed


def test_scp__limits_the_resource_policy_too():
    """"If an SCP is present, identity-based and resource-based policies grant permissions to
    principals in member accounts only if those policies and the SCP allow the action"."""
    decision = evaluate(Request("s3:GetObject", f"{BUCKET}/k", USER), resource_policy=bucket_for(USER), scps=[[allow("ec2:*")]])
    assert (decision.result, decision.decided_by) == ("implicitDeny", "scp")


def test_scp__with_conditions_and_resources():
    region_lock = policy({"Effect": "Allow", "Action": "*", "Resource": "*"},
                         {"Effect": "Deny", "Action": "*", "Resource": "*",
                          "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}})
    inside = Request("ec2:RunInstances", "*", USER, context={"aws:RequestedRegion": "eu-west-1"})
    outside = Request("ec2:RunInstances", "*", USER, context={"aws:RequestedRegion": "us-east-1"})
    assert evaluate(inside, identity_policies=[allow()], scps=[[region_lock]]).allowed
    assert evaluate(outside, identity_policies=[allow()], scps=[[region_lock]]).result == "explicitDeny"


# --- resource control policies --------------------------------------------------------------

PERIMETER = policy({"Effect": "Allow", "Action": "*", "Resource": "*"},  # RCPFullAWSAccess
                   {"Sid": "EnforceOrgIdentities", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                    "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"},
                                  "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}})


def test_rcp__restricts_external_principals_on_member_account_resources():
    outsider = Request("s3:GetObject", f"{BUCKET}/k", f"arn:aws:iam::{B}:user/bob", resource_account=A)
    decision = evaluate(outsider, identity_policies=[allow()], resource_policy=bucket_for(B), rcps=[[PERIMETER]])
    assert (decision.result, decision.decided_by) == ("explicitDeny", "rcp")
    insider = Request("s3:GetObject", f"{BUCKET}/k", f"arn:aws:iam::{B}:user/bob", resource_account=A,
                      context={"aws:PrincipalOrgID": "o-abc123"})
    assert evaluate(insider, identity_policies=[allow()], resource_policy=bucket_for(B), rcps=[[PERIMETER]]).allowed


def test_rcp__full_access_default_changes_nothing():
    request = Request("s3:GetObject", f"{BUCKET}/k", USER)
    assert evaluate(request, identity_policies=[allow()], rcps=[[allow()]]).allowed


def test_rcp__every_level_must_allow_and_grants_nothing():
    request = Request("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{A}:q", USER)
    decision = evaluate(request, identity_policies=[allow()], rcps=[[allow()], [allow("s3:*")]])
    assert (decision.result, decision.decided_by, decision.rcp_allowed) == ("implicitDeny", "rcp", False)
    assert not evaluate(request, rcps=[[allow()]]).allowed


def test_rcp__does_not_apply_to_management_account_resources():
    outsider = Request("s3:GetObject", f"{BUCKET}/k", f"arn:aws:iam::{B}:user/bob", resource_account=A)
    assert evaluate(outsider, identity_policies=[allow()], resource_policy=bucket_for(B), rcps=[[PERIMETER]], management_account=A).allowed


def test_rcp__does_not_apply_to_service_linked_roles():
    slr = f"arn:aws:sts::{A}:assumed-role/AWSServiceRoleForX/s"
    request = Request("s3:GetObject", f"{BUCKET}/k", slr, role_path="/aws-service-role/x.amazonaws.com/")
    assert evaluate(request, identity_policies=[allow()], rcps=[[deny()]]).allowed


def test_rcp__applies_to_anonymous_callers():
    public = policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"})
    request = Request("s3:GetObject", f"{BUCKET}/k", "anonymous", resource_account=A)
    assert evaluate(request, resource_policy=public).allowed
    assert evaluate(request, resource_policy=public, rcps=[[PERIMETER]]).result == "explicitDeny"


def test_all_layers_together__intersection():
    """access_policies_boundaries.md: with an SCP, a boundary and identity policies, all three must
    allow; with a session policy too, all of them."""
    request = Request("s3:GetObject", f"{BUCKET}/k", SESSION)
    layers = dict(identity_policies=[allow("s3:*")], permissions_boundaries=[allow("s3:*")], scps=[[allow("s3:*")]],
                  rcps=[[allow("s3:*")]], session_policy=allow("s3:GetObject"))
    assert evaluate(request, **layers).allowed
    for name in layers:
        narrowed = dict(layers, **{name: [[allow("ec2:*")]] if name in ("scps", "rcps") else
                                   (allow("ec2:*") if name == "session_policy" else [allow("ec2:*")])})
        assert not evaluate(request, **narrowed).allowed, name
