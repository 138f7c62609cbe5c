"""What would allow a denied request (Decision.remedy, labkit.policy.trace.remedy): the layer that
denied it and the smallest change, which AWS's simulator does not say (access_policies_testing-policies.md)."""

from __future__ import annotations

import pytest

from labkit.policy import Policy, Request, evaluate

A, B = "123456789012", "222222222222"
USER = f"arn:aws:iam::{A}:user/alice"
SESSION = f"arn:aws:sts::{A}:assumed-role/Deploy/s1"
FEDERATED = f"arn:aws:sts::{A}:federated-user/bob"
OBJECT = "arn:aws:s3:::b/k"


def policy(*statements: dict, policy_id: str | None = None, policy_type: str | None = None) -> Policy:
    return Policy.from_dict({"Version": "2012-10-17", "Statement": list(statements)}, policy_id=policy_id,
                            policy_type=policy_type)


def allow(action: str = "*", resource: str = "*", **options) -> Policy:
    return policy({"Sid": "Ok", "Effect": "Allow", "Action": action, "Resource": resource}, **options)


def deny(action: str, resource: str = "*", **options) -> Policy:
    return policy({"Sid": "No", "Effect": "Deny", "Action": action, "Resource": resource}, **options)


def bucket(principal, effect: str = "Allow") -> Policy:
    return policy({"Sid": "Bucket", "Effect": effect, "Principal": {"AWS": principal}, "Action": "s3:*",
                   "Resource": "arn:aws:s3:::b/*"}, policy_id="bucket-policy", policy_type="resource")


def test_remedy__is_none_when_allowed():
    decision = evaluate(Request("s3:GetObject", OBJECT, USER), identity_policies=[allow()])
    assert decision.remedy is None and decision.why_denied() == ""


# -- explicit denies: the owner of the denying statement must change it ---------------------------

def test_explicit_deny_in_an_identity_policy__names_the_statement_and_says_remove_it():
    decision = evaluate(Request("s3:GetObject", OBJECT, USER), identity_policies=[allow(), deny("s3:*", policy_id="alice/inline")])
    found = decision.remedy
    assert (found.kind, found.layer, found.identity_change_helps) == ("explicitDeny", "identity", True)
    assert found.statement.policy_id == "alice/inline" and found.statement.label == "No"
    assert found.change == ("the identity-based policy alice/inline statement No denies s3:GetObject on arn:aws:s3:::b/k: "
                            "remove or narrow that statement in the identity-based policy")


def test_explicit_deny_in_an_scp__says_no_identity_change_helps():
    scps = [[allow(policy_id="FullAWSAccess")], [allow(policy_id="p-allow"), deny("s3:GetObject", policy_id="p-nos3")]]
    found = evaluate(Request("s3:GetObject", OBJECT, USER), identity_policies=[allow()], scps=scps).remedy
    assert (found.layer, found.identity_change_helps) == ("scp", False)
    assert found.change.startswith("the SCP at level 1 p-nos3 statement No denies s3:GetObject")
    assert "no identity change helps" in found.change


def test_explicit_deny_in_a_permissions_boundary__points_at_the_boundary():
    found = evaluate(Request("s3:GetObject", OBJECT, USER), identity_policies=[allow()],
                     permissions_boundaries=[policy({"Effect": "Allow", "Action": "*", "Resource": "*"},
                                                    {"Sid": "NoS3", "Effect": "Deny", "Action": "s3:*", "Resource": "*"},
                                                    policy_id="Boundary")]).remedy
    assert found.layer == "boundary" and "permissions boundary Boundary statement NoS3" in found.change


def test_explicit_deny_in_a_resource_policy__says_no_identity_change_helps():
    found = evaluate(Request("s3:GetObject", OBJECT, USER), identity_policies=[allow()],
                     resource_policy=bucket(USER, "Deny")).remedy
    assert (found.layer, found.identity_change_helps) == ("resource", False)
    assert "resource-based policy bucket-policy statement Bucket" in found.change and "no identity change helps" in found.change


def test_explicit_deny_in_an_rcp__says_neither_identity_nor_resource_policy_helps():
    found = evaluate(Request("s3:GetObject", OBJECT, USER), identity_policies=[allow()],
                     rcps=[[allow(policy_id="RCPFullAWSAccess"), deny("s3:*", policy_id="r-lock")]]).remedy
    assert (found.layer, found.identity_change_helps) == ("rcp", False)
    assert "RCP at level 0 r-lock statement No" in found.change and "the RCP must change" in found.change


def test_explicit_deny_in_a_session_policy__says_pass_another_session_policy():
    found = evaluate(Request("s3:GetObject", OBJECT, SESSION), identity_policies=[allow()],
                     session_policy=deny("s3:*", policy_id="session")).remedy
    assert found.layer == "session" and "session policy session statement No" in found.change
    assert "pass a session policy without that statement" in found.change


# -- implicit denies: the first layer that lacked an allow ----------------------------------------

def test_implicit_deny_by_identity__says_add_the_action_on_the_resource():
    found = evaluate(Request("s3:GetObject", OBJECT, USER), identity_policies=[allow("ec2:*")]).remedy
    assert (found.kind, found.layer) == ("implicitDeny", "identity")
    assert found.change == "add s3:GetObject on arn:aws:s3:::b/k to an identity-based policy"


def test_implicit_deny_by_the_boundary__says_add_it_to_the_boundary():
    found = evaluate(Request("s3:GetObject", OBJECT, USER), identity_policies=[allow()],
                     permissions_boundaries=[allow("ec2:*", policy_id="Boundary")]).remedy
    assert found.change == ("the permissions boundary does not allow s3:GetObject: add s3:GetObject on "
                            "arn:aws:s3:::b/k to the boundary")


def test_implicit_deny_by_the_session_policy__says_pass_one_that_allows():
    found = evaluate(Request("s3:GetObject", OBJECT, SESSION), identity_policies=[allow()], session_policy=allow("ec2:*")).remedy
    assert found.layer == "session" and found.change.startswith("the session policy does not allow s3:GetObject")


def test_federated_user_without_a_session_policy__says_pass_a_session_policy():
    found = evaluate(Request("s3:GetObject", OBJECT, FEDERATED), identity_policies=[allow()]).remedy
    assert found.layer == "session" and found.change.startswith("a federated user session without a session policy")


def test_implicit_deny_by_an_scp_level__names_the_level_and_its_policies():
    scps = [[allow(policy_id="FullAWSAccess")], [allow("ec2:*", policy_id="p-ec2-only")]]
    found = evaluate(Request("s3:GetObject", OBJECT, USER), identity_policies=[allow()], scps=scps).remedy
    assert (found.layer, found.identity_change_helps) == ("scp", False)
    assert found.change.startswith("no SCP at level 1 (p-ec2-only) allows s3:GetObject")
    assert found.change.endswith("no identity change helps")


def test_implicit_deny_by_an_rcp__names_the_level():
    found = evaluate(Request("s3:GetObject", OBJECT, USER), identity_policies=[allow()],
                     rcps=[[allow("sqs:*", policy_id="r-sqs")]]).remedy
    assert found.layer == "rcp" and found.change.startswith("no RCP at level 0 (r-sqs) allows s3:GetObject")


def test_role_trust_policy__must_allow_the_caller():
    role = f"arn:aws:iam::{A}:role/Deploy"
    trust = policy({"Effect": "Allow", "Principal": {"AWS": "999999999999"}, "Action": "sts:AssumeRole"}, policy_type="resource")
    found = evaluate(Request("sts:AssumeRole", role, USER), identity_policies=[allow()], resource_policy=trust).remedy
    assert (found.layer, found.identity_change_helps) == ("resource", False)
    assert found.change == f"the role's trust policy must allow the caller ({USER}) sts:AssumeRole"


def test_kms_key_policy__must_allow_the_caller_or_delegate_to_the_account():
    key = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    other = policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:user/admin"}, "Action": "kms:*", "Resource": "*"})
    found = evaluate(Request("kms:Decrypt", key, USER), identity_policies=[allow()], resource_policy=other).remedy
    assert found.change.startswith(f"the key policy must allow the caller or delegate to the account (Principal arn:aws:iam::{A}:root")


def test_cross_account__the_resource_policy_must_name_the_caller_or_its_account():
    request = Request("s3:GetObject", OBJECT, USER, resource_account=B)
    found = evaluate(request, identity_policies=[allow()]).remedy
    assert found.layer == "resource"
    assert found.change.startswith(f"cross-account request: the resource's policy (account {B}) must allow s3:GetObject "
                                   f"to the caller or its account ({A}); the caller's identity-based policy must allow it too (it does)")


def test_cross_account__without_an_identity_allow_says_both_sides():
    found = evaluate(Request("s3:GetObject", OBJECT, USER, resource_account=B), identity_policies=[allow("ec2:*")]).remedy
    assert found.layer == "identity" and found.identity_change_helps
    assert f"the resource's policy must also name the caller or its account ({A})" in found.change


def test_anonymous_caller__only_the_resource_policy_can_allow():
    found = evaluate(Request("s3:GetObject", OBJECT, "anonymous", resource_account=A), identity_policies=[allow()]).remedy
    assert (found.layer, found.identity_change_helps) == ("resource", False)
    assert found.change.startswith("only a resource-based policy can allow a caller without an identity")


# -- conditions ----------------------------------------------------------------------------------

NEEDS_MFA = policy({"Sid": "Mfa", "Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "*",
                    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}, policy_id="mfa")


def test_a_missing_condition_key__is_named():
    found = evaluate(Request("s3:DeleteObject", OBJECT, USER), identity_policies=[NEEDS_MFA]).remedy
    assert found.conditions == ("mfa statement Mfa: the request has no aws:MultiFactorAuthPresent (Bool needs it)",)
    assert found.change.startswith("meet the condition of the identity-based policy's Allow that did not apply, or add")


def test_a_failed_condition__names_the_key_and_the_operator():
    request = Request("s3:DeleteObject", OBJECT, USER, context={"aws:MultiFactorAuthPresent": "false"})
    found = evaluate(request, identity_policies=[NEEDS_MFA]).remedy
    assert found.conditions == ("mfa statement Mfa: aws:MultiFactorAuthPresent does not satisfy Bool true",)


def test_an_allow_for_another_resource__is_not_reported_as_a_failed_condition():
    narrow = policy({"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::other/*",
                     "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}})
    assert evaluate(Request("s3:DeleteObject", OBJECT, USER), identity_policies=[narrow]).remedy.conditions == ()


# -- where it shows, and laziness ----------------------------------------------------------------

def test_explain_and_html__show_what_would_allow_it():
    decision = evaluate(Request("s3:DeleteObject", OBJECT, USER), identity_policies=[NEEDS_MFA])
    text = decision.explain()
    assert "  to allow: meet the condition" in text and "    condition: mfa statement Mfa: the request has no" in text
    html = decision._repr_html_()
    assert "<b>To allow:</b>" in html and "<li>mfa statement Mfa: the request has no aws:MultiFactorAuthPresent" in html
    assert decision.why_denied().splitlines()[1] == "condition: " + decision.remedy.conditions[0]
    assert "To allow" not in evaluate(Request("s3:DeleteObject", OBJECT, USER), identity_policies=[allow()])._repr_html_()


@pytest.mark.parametrize("options", [{}, {"permissions_boundaries": [allow()], "scps": [[allow()]]}])
def test_evaluate__builds_no_trace_and_no_remedy(monkeypatch, options):
    import labkit.policy.trace as trace_module

    def refuse(*args, **kwargs):
        raise AssertionError("evaluate must not build the explanation")

    monkeypatch.setattr(trace_module, "trace", refuse)
    monkeypatch.setattr(trace_module, "remedy", refuse)
    decision = evaluate(Request("s3:GetObject", OBJECT, USER), identity_policies=[allow("ec2:*")], **options)
    assert decision.result == "implicitDeny" and decision._trace is None
    with pytest.raises(AssertionError, match="must not build"):
        decision.remedy


def test_an_action_that_needs_no_permission__is_noted_and_has_no_remedy():
    decision = evaluate(Request("sts:GetCallerIdentity", "*", USER), identity_policies=[deny("*")])
    assert decision.allowed and decision.remedy is None
    assert "sts:GetCallerIdentity needs no permission: it is allowed even if a policy denies it" in decision.trace.notes
