"""Decisions explain themselves, lazily (labkit.policy.decision, labkit.policy.trace)."""

from __future__ import annotations

from labkit.policy import MatchedStatement, Policy, Request, evaluate

USER = "arn:aws:iam::123456789012:user/alice"
READ = Policy.from_dict({"Version": "2012-10-17", "Statement": [
    {"Sid": "Read", "Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*",
     "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}},
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:PrincipalTag/team}/*"},
    {"Sid": "NoSecrets", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::b/secret/*"}]},
    policy_id="alice/inline/s3-read", policy_type="user")
BOUNDARY = Policy.from_dict({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}},
                            policy_id="Boundary", policy_type="user-managed")


def test_explanation__is_built_only_when_asked_for():
    decision = evaluate(Request("s3:GetObject", "arn:aws:s3:::b/k", USER), identity_policies=[READ])
    assert decision._trace is None
    assert decision.matched_statements == ()
    assert decision._trace is not None


def test_matched_statements__name_policy_statement_effect_and_layer():
    request = Request("s3:GetObject", "arn:aws:s3:::b/secret/k", USER, context={"aws:SourceIp": "203.0.113.5"})
    decision = evaluate(request, identity_policies=[READ])
    assert decision.result == "explicitDeny"
    assert decision.matched_statements == (
        MatchedStatement("alice/inline/s3-read", "user", "Read", 0, "Allow", "identity"),
        MatchedStatement("alice/inline/s3-read", "user", "NoSecrets", 2, "Deny", "identity"),
    )
    assert [s.label for s in decision.deciding_statements] == ["NoSecrets"]


def test_statement_without_sid__is_labelled_by_index():
    request = Request("s3:GetObject", "arn:aws:s3:::b/red/k", USER, context={"aws:PrincipalTag/team": "red"})
    decision = evaluate(request, identity_policies=[READ])
    assert decision.allowed and [s.label for s in decision.matched_statements] == ["#1"]


def test_missing_context_keys__of_statements_that_could_apply():
    decision = evaluate(Request("s3:GetObject", "arn:aws:s3:::b/k", USER), identity_policies=[READ])
    assert decision.missing_context_keys == ("aws:PrincipalTag/team", "aws:SourceIp")
    other = evaluate(Request("ec2:RunInstances", "*", USER), identity_policies=[READ])
    assert other.missing_context_keys == ()


def test_boundary_and_organizations__report_what_they_said():
    request = Request("s3:GetObject", "arn:aws:s3:::b/k", USER, context={"aws:SourceIp": "203.0.113.5"})
    scp = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}
    decision = evaluate(request, identity_policies=[READ], permissions_boundaries=[BOUNDARY], scps=[[scp]])
    assert (decision.result, decision.decided_by) == ("implicitDeny", "boundary")
    assert (decision.boundary_allowed, decision.organizations_allowed, decision.rcp_allowed) == (False, True, None)
    plain = evaluate(request, identity_policies=[READ])
    assert (plain.boundary_allowed, plain.organizations_allowed) == (None, None)


def test_resource_statements__say_how_they_name_the_caller():
    bucket = {"Version": "2012-10-17", "Statement": {"Sid": "Team", "Effect": "Allow", "Principal": {"AWS": "123456789012"},
                                                     "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}}
    decision = evaluate(Request("s3:GetObject", "arn:aws:s3:::b/k", USER), resource_policy=bucket)
    assert decision.result == "implicitDeny"
    assert [(s.layer, s.grant) for s in decision.matched_statements] == [("resource", "account")]


def test_explain__reads_as_a_short_report():
    request = Request("s3:GetObject", "arn:aws:s3:::b/k", USER, context={"aws:SourceIp": "203.0.113.5"})
    text = evaluate(request, identity_policies=[READ], permissions_boundaries=[BOUNDARY]).explain()
    assert text.splitlines()[0] == "implicitDeny (decided by the permissions boundary)"
    assert "Allow identity-based policy alice/inline/s3-read statement Read" in text
    assert "permissions boundary: does not allow" in text
    assert "missing context keys: aws:PrincipalTag/team" in text


def test_repr_and_html__for_notebooks():
    decision = evaluate(Request("s3:GetObject", "arn:aws:s3:::b/<k>", USER), identity_policies=[READ])
    assert repr(decision) == f"<Decision implicitDeny by identity: s3:GetObject on arn:aws:s3:::b/<k> by {USER}>"
    html = decision._repr_html_()
    assert "implicitDeny" in html and "&lt;k&gt;" in html and "<k>" not in html
    assert str(decision) == decision.explain()
