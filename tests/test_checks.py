"""The check registry: ids, points, hints, hidden checks, and friendly failures that still fail."""

from __future__ import annotations

import pytest

from labkit.checks import CheckResult, all_checks, evaluate, get_check
from labkit.errors import CheckFailed, LabkitError


class Context:
    def __init__(self, lab, answer=None):
        self.lab, self.answer = lab, answer

    def client(self, service):
        return self.lab.client(service)


def test_every_check__has_an_id_points_a_hint_and_a_notebook():
    checks = all_checks()
    assert {"welcome.1", "welcome.2", "welcome.3", "users.1", "users.5", "users.6"} <= {c.id for c in checks}
    for c in checks:
        assert c.points > 0 and c.hint and c.notebook and c.title


def test_hidden_checks__are_left_out_on_request():
    visible = {c.id for c in all_checks(include_hidden=False)}
    assert "users.6" not in visible
    assert get_check("users.6").hidden


def test_checks__are_grouped_by_notebook():
    assert {c.id for c in all_checks(notebook="00_welcome")} == {"welcome.1", "welcome.2", "welcome.3"}


def test_unknown_check__names_the_known_ones():
    with pytest.raises(LabkitError, match="no check named 'users.99'.*users.1"):
        get_check("users.99")


def test_passing_check__shows_its_points(lab):
    result = lab.check("welcome.1", answer=len(lab.client("iam").list_users()["Users"]))
    assert isinstance(result, CheckResult)
    assert result.passed and result.points == result.max_points == 1
    assert repr(result).startswith("✓ Check welcome.1 passed: 1/1 points")
    assert "passed" in result._repr_html_()


def test_failing_check__raises_a_short_friendly_error_with_a_hint(lab):
    with pytest.raises(CheckFailed) as err:
        lab.check("welcome.1", answer=3)
    failure = err.value
    assert failure.check_id == "welcome.1"
    assert "3 is not the number of users" in failure.message
    assert failure.hint == get_check("welcome.1").hint
    lines = failure._render_traceback_()
    assert len(lines) <= 3 and "welcome.1" in lines[0] and "Hint" in lines[-1]


def test_check_without_an_answer__asks_for_one(lab):
    with pytest.raises(CheckFailed, match="No answer yet"):
        lab.check("welcome.2")


def test_evaluate__reports_a_crashing_check_instead_of_raising(lab):
    result = evaluate("welcome.2", Context(lab, answer=object()))
    assert not result.passed and result.points == 0
    assert "list of bucket names" in result.message


def test_evaluate__runs_hidden_checks_from_outside_a_notebook(lab):
    assert not evaluate("users.6", Context(lab)).passed  # henry has a policy of his own
    iam = lab.client("iam")
    iam.detach_user_policy(UserName="henry", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess")
    assert evaluate("users.6", Context(lab)).passed


def test_check_answers__are_kept_as_plain_data_on_the_lab(lab):
    with pytest.raises(CheckFailed):
        lab.check("welcome.2", answer=["acme-app-data"])
    assert lab.answers == {"welcome.2": ["acme-app-data"]}


def test_users_4__accepts_least_privilege_and_refuses_more(lab):
    import json

    iam = lab.client("iam")
    broad = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::acme-telemetry*"}]}
    iam.put_group_policy(GroupName="developers", PolicyName="TelemetryRead", PolicyDocument=json.dumps(broad))
    with pytest.raises(CheckFailed, match="allows more than reading telemetry"):
        lab.check("users.4")
    exact = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::acme-telemetry", "arn:aws:s3:::acme-telemetry/*"]}]}
    iam.put_group_policy(GroupName="developers", PolicyName="TelemetryRead", PolicyDocument=json.dumps(exact))
    assert lab.check("users.4").passed
