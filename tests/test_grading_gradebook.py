"""Results are stored whole or not at all, reused only under the same key, and booked for an LMS."""

from __future__ import annotations

import csv
import json
import os

import pytest

from labkit.grading import gradebook
from labkit.grading.gradebook import ResultStore, atomic_write, submission_key, write_gradebook
from labkit.grading.results import NotebookResult, StudentResult, Verdict

CHECKS = [
    {"id": "users.1", "notebook": "01_users_and_groups", "points": 2, "hidden": False, "title": "grace"},
    {"id": "users.6", "notebook": "01_users_and_groups", "points": 1, "hidden": True, "title": "no direct policies"},
]


def _result(student: str = "alice", passed: bool = True, notes: list[str] | None = None) -> StudentResult:
    verdicts = [Verdict("users.1", passed, 2 if passed else 0, 2, False, "" if passed else "There is no IAM user named 'grace'."),
                Verdict("users.6", False, 0, 1, True, "These users still have policies of their own: henry.")]
    return StudentResult(student, [NotebookResult("01_users_and_groups", "graded", notes or [], verdicts)])


def test_atomic_write__that_fails_midway__leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "gradebook.csv"
    path.write_text("old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write(path, b"new")
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["gradebook.csv"]


def test_atomic_write__makes_files_others_can_read_like_open_would(tmp_path):
    atomic_write(tmp_path / "f", b"x")
    assert (tmp_path / "f").stat().st_mode & 0o777 == 0o666 & ~gradebook._UMASK


def test_store__returns_a_result_only_under_the_key_it_was_graded_with(tmp_path):
    store = ResultStore(tmp_path)
    store.save(_result(), "key-1")
    assert store.load("alice", "key-1") == _result()
    assert store.load("alice", "key-2") is None
    assert store.load("bob", "key-1") is None


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"version": 1}', b"[]"], ids=["empty", "half_written", "no_result", "not_a_dict"])
def test_store__treats_a_damaged_result_as_not_graded(tmp_path, content):
    store = ResultStore(tmp_path)
    store.save(_result(), "key")
    (tmp_path / ".results" / "alice.json").write_bytes(content)
    assert store.load("alice", "key") is None


def test_store__refuses_a_result_filed_under_another_students_name(tmp_path):
    store = ResultStore(tmp_path)
    store.save(_result("mallory"), "key")
    os.replace(tmp_path / ".results" / "mallory.json", tmp_path / ".results" / "alice.json")
    assert store.load("alice", "key") is None


def test_store__sweeps_temporary_files_an_interrupted_write_left(tmp_path):
    store = ResultStore(tmp_path)
    store.save(_result(), "key")
    (tmp_path / ".results" / ".alice.json.abc.tmp").write_text("{half")
    store.sweep()
    assert [p.name for p in (tmp_path / ".results").iterdir()] == ["alice.json"]


def test_submission_key__changes_with_the_submission_and_with_the_kit(tmp_path):
    (tmp_path / "01_users_and_groups.ipynb").write_text("{}")
    first = submission_key(tmp_path, ["01_users_and_groups"], "kit-1")
    assert first == submission_key(tmp_path, ["01_users_and_groups"], "kit-1")
    assert first != submission_key(tmp_path, ["01_users_and_groups"], "kit-2")
    (tmp_path / "01_users_and_groups.ipynb").write_text("{ }")
    assert first != submission_key(tmp_path, ["01_users_and_groups"], "kit-1")


def test_gradebook_csv__has_student_total_max_then_one_column_per_check(tmp_path):
    write_gradebook(tmp_path, [_result("alice"), _result("=cmd|' /C calc'!A0", passed=False)], CHECKS)
    with open(tmp_path / "gradebook.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["student", "total", "max", "users.1", "users.6"],
        ["alice", "2", "3", "2", "0"],
        ["'=cmd|' /C calc'!A0", "0", "3", "0", "0"],
    ]


def test_gradebook_json__has_every_verdict_and_reason(tmp_path):
    write_gradebook(tmp_path, [_result(notes=["restored the deleted check cell for users.1"])], CHECKS)
    book = json.loads((tmp_path / "gradebook.json").read_text())
    student = book["students"][0]
    assert (book["max"], student["total"], student["reason"]) == (3, 2, "01_users_and_groups.ipynb: restored the deleted check cell for users.1")
    assert student["notebooks"][0]["verdicts"][1]["message"] == "These users still have policies of their own: henry."


def test_output_guard__undoes_what_others_wrote_and_keeps_what_the_grader_wrote(tmp_path):
    from labkit.grading.gradebook import OutputGuard

    (tmp_path / "gradebook.csv").write_text("genuine")
    (tmp_path / "feedback").mkdir()
    (tmp_path / "feedback" / "alice.html").write_text("alice: 2/13")
    guard = OutputGuard(tmp_path)
    store = ResultStore(tmp_path, guard=guard)
    store.save(_result("alice"), "key")  # the grader's own write
    (tmp_path / "gradebook.csv").write_text("forged")
    (tmp_path / "feedback" / "alice.html").unlink()
    (tmp_path / "feedback" / "mallory.html").write_text("13/13")
    (tmp_path / ".results" / "bob.json").write_text("{}")
    (tmp_path / "report.html").symlink_to(tmp_path / "gradebook.csv")
    guard.restore()
    assert (tmp_path / "gradebook.csv").read_text() == "genuine"
    assert sorted(p.name for p in (tmp_path / "feedback").iterdir()) == ["alice.html"]
    assert (tmp_path / "feedback" / "alice.html").read_text() == "alice: 2/13"
    assert [p.name for p in (tmp_path / ".results").iterdir()] == ["alice.json"] and store.load("alice", "key") == _result("alice")
    assert not (tmp_path / "report.html").exists()


def test_output_guard__puts_back_a_results_folder_replaced_by_a_link(tmp_path):
    from labkit.grading.gradebook import OutputGuard

    guard = OutputGuard(tmp_path)
    ResultStore(tmp_path, guard=guard).save(_result("alice"), "key")
    elsewhere = tmp_path / "elsewhere"
    (tmp_path / ".results").rename(elsewhere)
    (tmp_path / ".results").symlink_to(elsewhere, target_is_directory=True)
    guard.restore()
    assert not (tmp_path / ".results").is_symlink() and ResultStore(tmp_path).load("alice", "key") == _result("alice")
