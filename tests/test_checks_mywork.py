"""The "check my work" cell sums up the public checks, and never claims that all checks passed."""

from __future__ import annotations

import pytest

from labkit.errors import LabkitError


def test_check_my_work__on_untouched_work__counts_public_checks_and_mentions_hidden_ones(lab):
    report = lab.check_my_work("01_users_and_groups")
    assert [r.check_id for r in report.results] == ["users.1", "users.2", "users.3", "users.4", "users.5"]
    assert report.headline == "Public checks passed: 0/5 (0/12 points). The grader also runs 1 hidden check."
    assert "all passed" not in repr(report).lower()


def test_check_my_work__uses_the_answers_the_check_cells_got(lab):
    iam = lab.client("iam")
    iam.create_user(UserName="grace")
    iam.add_user_to_group(GroupName="developers", UserName="grace")
    lab.answers["users.2"] = ["wrong"]
    report = lab.check_my_work("01_users_and_groups")
    assert [r.passed for r in report.results][:2] == [True, False]
    assert report.headline.startswith("Public checks passed: 1/5 (2/12 points).")
    assert "Public checks passed: 1/5" in report._repr_html_()


def test_check_my_work__of_a_notebook_without_hidden_checks__says_nothing_of_them(lab):
    assert lab.check_my_work("00_welcome").headline == "Public checks passed: 0/3 (0/4 points)."


def test_check_my_work__of_an_unknown_notebook__names_the_exercise_notebooks(lab):
    with pytest.raises(LabkitError, match="01_users_and_groups"):
        lab.check_my_work("99_nope")
