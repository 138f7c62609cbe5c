"""Scenarios are data: the built-in company loads, and malformed ones are refused with the entry at fault."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from labkit import Lab
from labkit.errors import ScenarioError
from labkit.scenario import builtin_scenarios, load_scenario

MINIMAL = {
    "name": "tiny",
    "company": "Tiny Co",
    "groups": [{"name": "devs", "managed_policies": ["ReadOnlyAccess"]}],
    "users": [{"name": "ann", "groups": ["devs"]}],
}


def _broken(**changes):
    raw = copy.deepcopy(MINIMAL)
    raw.update(changes)
    return raw


def test_builtin_scenario__is_listed_and_loads():
    assert "acme" in builtin_scenarios()
    scenario = load_scenario("acme")
    assert scenario.company == "Acme Rockets"
    assert scenario.account_id == "123456789012"
    assert {"developers", "admins", "auditors"} <= {g.name for g in scenario.groups}


def test_builtin_users__follow_the_naming_convention():
    scenario = load_scenario("acme")
    for user in scenario.users:
        assert user.name == user.name.lower()
    for group in scenario.groups:
        assert group.name.endswith("s") or group.name == "finance"


def test_policy_arn__resolves_aws_managed_customer_and_path_policies():
    scenario = load_scenario("acme")
    assert scenario.policy_arn("ReadOnlyAccess") == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert scenario.policy_arn("AcmeTelemetryWrite") == "arn:aws:iam::123456789012:policy/AcmeTelemetryWrite"
    assert scenario.policy_arn("AWSLambdaBasicExecutionRole") == "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def test_scenario_file__yaml_and_json__seed_a_lab(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(MINIMAL))
    with Lab(scenario=path) as lab:
        assert [u["UserName"] for u in lab.client("iam").list_users()["Users"]] == ["ann"]
    json_path = tmp_path / "tiny.json"
    json_path.write_text(json.dumps(MINIMAL))
    assert load_scenario(json_path).users[0].groups == ("devs",)


@pytest.mark.parametrize(
    ("raw", "entry", "problem"),
    [
        (_broken(users=[{"name": "ann", "groups": ["devops"]}]), "users[0] 'ann'", "unknown group 'devops'"),
        (_broken(users=[{"name": "ann"}, {"name": "ann"}]), "users[1] 'ann'", "duplicate user name 'ann'"),
        (_broken(users=[{"name": "ann"}, {"name": "Ann"}]), "users[1] 'Ann'", "duplicate user name"),
        (_broken(groups=[{"name": "devs", "inline_policies": [{"name": "p", "document": "{not json"}]}]), "groups[0] 'devs'.inline_policies[0] 'p'", "not valid JSON"),
        (_broken(groups=[{"name": "devs", "inline_policies": [{"name": "p", "document": {"Statement": [{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]}}]}]), "groups[0] 'devs'.inline_policies[0] 'p'", "bad policy document"),
        (_broken(groups=[{"name": "devs", "managed_policies": ["ReadOnlyAcess"]}]), "groups[0] 'devs'", "unknown managed policy 'ReadOnlyAcess'"),
        (_broken(users=[{"name": "ann", "grups": ["devs"]}]), "users[0]", "unknown field(s) grups"),
        (_broken(users=[{"groups": ["devs"]}]), "users[0]", "missing field(s) name"),
        (_broken(users=[{"name": "an n"}]), "users[0]", "invalid name 'an n'"),
        (_broken(users="ann"), "users", "expected a list"),
        (_broken(account_id="12345"), "account_id", "12 digits"),
        (_broken(buckets=[{"name": "Bad_Bucket"}]), "buckets[0]", "invalid name 'Bad_Bucket'"),
        (_broken(roles=[{"name": "r"}]), "roles[0]", "missing field(s) trust_policy"),
        (_broken(accounts=[{"name": "audit", "account_id": "12"}]), "accounts[0] 'audit'.account_id", "12 digits"),
        (_broken(accounts=[{"name": "audit", "account_id": "111122223333", "users": [{"name": "x", "groups": ["nope"]}]}]),
         "accounts[0] 'audit'.users[0] 'x'", "unknown group 'nope'"),
        (_broken(accounts=[{"name": "a", "account_id": "123456789012"}]), "accounts", "share an account id"),
        (_broken(organization={"management_account": "nope"}), "organization", "management_account 'nope' is not an account"),
        (_broken(accounts=[{"name": "mgmt", "account_id": "999988887777"}], organization={"management_account": "mgmt", "units": [{"name": "w", "accounts": ["ghost"]}]}),
         "organization.units[0] 'w'", "unknown account 'ghost'"),
    ],
)
def test_malformed_scenario__is_refused_naming_the_entry_and_problem(raw, entry, problem):
    with pytest.raises(ScenarioError) as err:
        load_scenario(raw)
    assert err.value.entry == entry
    assert problem in err.value.problem
    assert entry in str(err.value) and problem in str(err.value)


def test_unknown_scenario_name__lists_the_builtin_ones():
    with pytest.raises(ScenarioError, match="no scenario named 'acmee'.*acme"):
        Lab(scenario="acmee")


def test_missing_scenario_file__is_refused(tmp_path):
    with pytest.raises(ScenarioError, match="does not exist"):
        load_scenario(tmp_path / "nope.yaml")


def test_invalid_yaml__is_refused_with_the_file_name(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(ScenarioError, match="in broken.yaml.*not valid YAML"):
        load_scenario(path)


def test_a_refused_scenario__leaves_no_lab_running(tmp_path):
    from labkit.lab import current_lab

    with pytest.raises(ScenarioError):
        Lab(scenario=_broken(users=[{"name": "ann", "groups": ["nope"]}]))
    assert current_lab() is None
