"""Parsing and checking policy documents (labkit.policy.document)."""

from __future__ import annotations

import json

import pytest

from labkit.errors import InvalidInput, MalformedPolicyDocument
from labkit.policy import Policy, Request, evaluate

USER = "arn:aws:iam::123456789012:user/alice"


def malformed(document, **kwargs) -> MalformedPolicyDocument:
    text = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(MalformedPolicyDocument) as caught:
        Policy.from_json(text, **kwargs)
    assert caught.value.code == "MalformedPolicyDocument"
    return caught.value


def statement(**elements) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", **elements}]}


def test_from_json__keeps_the_original_text_and_names():
    text = '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}'
    policy = Policy.from_json(text, policy_id="ReadOnlyAccess", policy_type="aws-managed")
    assert (policy.text, policy.policy_id, policy.policy_type, policy.version) == (text, "ReadOnlyAccess", "aws-managed", "2012-10-17")


def test_from_json__accepts_a_single_statement_object():
    """reference_policies_elements_statement.md: Statement holds one statement or an array of them."""
    policy = Policy.from_json('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}')
    assert len(policy.statements) == 1 and policy.single


def test_from_json__accepts_string_or_list_values():
    """reference_policies_grammar.md: a list with one value may drop its brackets."""
    policy = Policy.from_dict({"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"}]})
    assert evaluate(Request("s3:GetObject", "arn:aws:s3:::b/k", USER), identity_policies=[policy]).allowed


def test_missing_version__means_the_2008_language():
    """reference_policies_variables.md: without Version, variables are literal strings."""
    assert Policy.from_dict({"Statement": statement()["Statement"]}).version == "2008-10-17"


def test_from_dict__lays_the_text_out_for_positions():
    policy = Policy.from_dict(statement())
    assert json.loads(policy.text) == statement()
    assert policy.statement_span(policy.statements[0]).start.line == 4


def test_document__is_a_copy_so_the_policy_stays_immutable():
    policy = Policy.from_dict(statement())
    policy.document["Statement"][0]["Effect"] = "Deny"
    assert policy.statements[0].effect == "Allow" and policy.document["Statement"][0]["Effect"] == "Allow"
    with pytest.raises(AttributeError):
        policy.policy_id = "other"  # type: ignore[misc]


def test_tagged__renames_without_reparsing():
    policy = Policy.from_dict(statement())
    renamed = policy.tagged(policy_id="bob/inline/s3", policy_type="user")
    assert (renamed.policy_id, renamed.policy_type, renamed.statements) == ("bob/inline/s3", "user", policy.statements)


def test_policy_type__must_be_a_simulator_source_type():
    with pytest.raises(InvalidInput):
        Policy.from_dict(statement(), policy_type="inline")


@pytest.mark.parametrize("text", ["", "{", "[1]", '"policy"', "null", '{"Statement": NaN}'])
def test_not_a_json_object__is_malformed(text):
    malformed(text)


def test_duplicate_elements__are_malformed():
    """reference_policies_grammar.md notes: elements must not repeat a key."""
    error = malformed('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}}')
    assert "duplicate" in str(error)


def test_unknown_top_level_element__is_malformed():
    error = malformed({**statement(), "Statements": []})
    assert error.element == "Statements"


@pytest.mark.parametrize("version", ["2012-10-18", "2012/10/17", 2012, None])
def test_bad_version__is_malformed(version):
    """reference_policies_elements_version.md: only 2012-10-17 and 2008-10-17 exist."""
    assert malformed({**statement(), "Version": version}).element == "Version"


@pytest.mark.parametrize("value", [42, "text", None, True])
def test_statement_that_is_not_an_object_or_list__is_malformed(value):
    malformed({"Version": "2012-10-17", "Statement": value})


def test_statement_missing__is_malformed():
    malformed({"Version": "2012-10-17"})


@pytest.mark.parametrize("effect", [None, "allow", "Permit", 1])
def test_missing_or_invalid_effect__is_malformed_and_says_where(effect):
    """reference_policies_elements_effect.md: Effect is required, Allow or Deny, case-sensitive."""
    document = statement(Sid="ReadAll", Effect=effect)
    if effect is None:
        del document["Statement"][0]["Effect"]
    error = malformed(document)
    assert (error.statement, error.element) == ("ReadAll", "Effect")


def test_both_action_and_notaction__are_malformed():
    error = malformed(statement(NotAction="iam:*"))
    assert error.statement == 0 and error.element == "Action"


def test_neither_action_nor_notaction__is_malformed():
    document = statement()
    del document["Statement"][0]["Action"]
    malformed(document)


def test_action_without_a_service_prefix__is_malformed():
    malformed(statement(Action="GetObject"))


@pytest.mark.parametrize("resource", ["bucket", "arn:aws:s3", "arn:aws:*:us-east-1:123456789012:thing", 5, []])
def test_resource_not_an_arn__is_malformed(resource):
    """reference_policies_elements_resource.md: Resource is an ARN; no wildcard in its service part."""
    malformed(statement(Resource=resource))


def test_resource_with_a_variable_holding_colons__is_still_an_arn():
    Policy.from_dict(statement(Resource="arn:aws:iam::${aws:PrincipalAccount}:user/${aws:username}"))


def test_identity_policy_without_resource__is_malformed():
    document = statement()
    del document["Statement"][0]["Resource"]
    malformed(document, policy_type="user")
    Policy.from_json(json.dumps(document), policy_type="resource")  # a trust policy has none


def test_identity_policy_with_principal__is_malformed():
    """reference_policies_elements_principal.md: no Principal in identity-based policies."""
    malformed(statement(Principal="*"), policy_type="role")


def test_condition_that_is_not_an_object__is_malformed():
    assert malformed(statement(Condition=["StringEquals"])).element == "Condition"


def test_unknown_condition_operator__is_malformed():
    error = malformed(statement(Condition={"StringEqualz": {"aws:username": "bob"}}))
    assert "StringEqualz" in str(error)


def test_null_with_ifexists__is_malformed():
    """reference_policies_elements_condition_operators.md: IfExists goes on any operator but Null."""
    malformed(statement(Condition={"NullIfExists": {"aws:TokenIssueTime": "true"}}))


def test_unknown_statement_element__is_malformed():
    assert malformed(statement(Effects="Allow")).element == "Effects"


def test_duplicate_sids__are_malformed():
    document = {"Version": "2012-10-17", "Statement": [statement(Sid="A")["Statement"][0]] * 2}
    assert malformed(document).statement == "A"


def test_from_dict__refuses_data_json_could_not_hold():
    with pytest.raises(MalformedPolicyDocument):
        Policy.from_dict({"Version": "2012-10-17", "Statement": [{1: "Allow"}]})
    with pytest.raises(MalformedPolicyDocument):
        Policy.from_dict(statement(Condition={"NumericLessThan": {"s3:max-keys": float("nan")}}))
