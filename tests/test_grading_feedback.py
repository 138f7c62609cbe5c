"""Feedback pages show each exercise's points, message and hint, and nothing of hidden checks."""

from __future__ import annotations

from labkit.grading.feedback import feedback_html
from labkit.grading.report import class_report_html
from labkit.grading.results import NotebookResult, StudentResult, Verdict

CHECKS = [
    {"id": "users.1", "notebook": "01_users_and_groups", "points": 2, "hidden": False, "title": "grace"},
    {"id": "users.6", "notebook": "01_users_and_groups", "points": 1, "hidden": True, "title": "No person has a policy attached directly."},
]


def _result(notes: list[str] | None = None) -> StudentResult:
    verdicts = [
        Verdict("users.1", False, 0, 2, False, "There is no IAM user named 'grace'."),
        Verdict("users.6", False, 0, 1, True, "These users still have policies of their own: henry."),
    ]
    return StudentResult("alice", [NotebookResult("01_users_and_groups", "graded", notes or [], verdicts)])


def test_feedback__shows_points_message_and_hint_of_a_failed_public_check():
    page = feedback_html(_result())
    assert "0/3 points" in page and "There is no IAM user named &#x27;grace&#x27;." in page
    assert "Hint: iam.create_user(UserName=...)" in page


def test_feedback__shows_a_hidden_check_only_as_passed_or_failed_with_its_points():
    page = feedback_html(_result())
    assert "hidden check: failed, 1 point" in page
    for secret in ("henry", "No person has a policy attached directly", "Only service users", "users.6", "no_direct_policies"):
        assert secret not in page


def test_feedback__is_self_contained_and_escapes_what_the_learner_wrote():
    page = feedback_html(_result(notes=["cell 3 (`<script>alert(1)</script>`) raised ValueError"]))
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "http" not in page and "<link" not in page


def test_student_result__renders_as_its_feedback_page_in_jupyter():
    assert _result()._repr_html_() == feedback_html(_result())


def test_class_report__embeds_its_plots_and_lists_every_student():
    page = class_report_html([_result(), _result()], CHECKS)
    assert page.count("src='data:image/png;base64,") == 2
    assert page.count("feedback/alice.html") == 2 and "mean 0.0/3" in page
