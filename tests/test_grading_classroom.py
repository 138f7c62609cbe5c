"""The class loop: one notebook's trouble never stops the class, and only a complete class is booked."""

from __future__ import annotations

import io
import json
from contextlib import contextmanager
from pathlib import Path

import pytest

from labkit.errors import LabkitError
from labkit.grading import classroom
from labkit.grading.grader import Grader
from labkit.grading.results import NotebookResult, Verdict

ROOT = Path(__file__).resolve().parent.parent
NB = "01_users_and_groups"


class FakeServers:
    scenario = "acme"

    def __init__(self, alive: bool = True) -> None:
        self._alive = alive

    def alive(self) -> bool:
        return self._alive

    def failure(self) -> LabkitError:
        return LabkitError("The lab server process stopped. Its last words: out of memory")


def _graded(name: str, points: int) -> NotebookResult:
    return NotebookResult(name, "graded", [], [Verdict("users.1", points > 0, points, 2, False)])


@pytest.fixture
def fake(monkeypatch, tmp_path):
    """grade_class with a stub Grader: students named buggy* crash it, dead* kill the server process."""
    state = {"alive": True, "graded": []}

    class StubGrader(Grader):
        def __init__(self, kit, servers, *, timeout):
            super().__init__(kit, FakeServers(), timeout=timeout)

        def grade(self, name, path, *, public_only=False):
            student = path.parent.name
            state["graded"].append(student)
            if student.startswith("dead"):
                self.servers._alive = False
                raise self.servers.failure()
            if student.startswith("buggy"):
                raise TypeError("unexpected None")
            return _graded(name, 2)

    @contextmanager
    def no_servers():
        yield FakeServers()

    monkeypatch.setattr(classroom, "Grader", StubGrader)
    monkeypatch.setattr(classroom, "LabServers", no_servers)
    submissions = tmp_path / "submissions"

    def make(*students: str) -> Path:
        for student in students:
            (submissions / student).mkdir(parents=True)
            (submissions / student / f"{NB}.ipynb").write_text("{}")
        return submissions

    state["make"] = make
    return state


def _grade(submissions: Path, out: Path, progress=None):
    return classroom.grade_class(submissions, out, jobs=2, notebooks=[NB], release=ROOT / "exercises", progress=progress)


def test_grader_failing_on_one_notebook__gives_that_student_a_row_and_grades_the_rest(fake, tmp_path):
    report = _grade(fake["make"]("alice", "buggy_bob", "carol"), tmp_path / "out")
    rows = {r.student: (r.total, r.reason) for r in report.results}
    assert rows["alice"] == (2, "") and rows["carol"] == (2, "")
    assert rows["buggy_bob"] == (0, f"{NB}.ipynb: the grader failed on this notebook (TypeError: unexpected None); it will be graded again on the next run")


def test_student_the_grader_failed_on__is_graded_again_on_the_next_run(fake, tmp_path):
    submissions = fake["make"]("alice", "buggy_bob")
    _grade(submissions, tmp_path / "out")
    fake["graded"].clear()
    _grade(submissions, tmp_path / "out")
    assert fake["graded"] == ["buggy_bob"]


def test_lab_server_process_dying__stops_the_class_with_its_reason_and_books_nothing(fake, tmp_path):
    with pytest.raises(LabkitError, match="out of memory"):
        _grade(fake["make"]("dead_alice"), tmp_path / "out")
    assert not (tmp_path / "out" / "gradebook.csv").exists()


def test_interrupted_class__books_nothing_and_keeps_the_students_graded_so_far(fake, tmp_path):
    class CtrlC(io.StringIO):
        def write(self, text):
            if "carol" in text:
                raise KeyboardInterrupt
            return super().write(text)

    with pytest.raises(KeyboardInterrupt):
        _grade(fake["make"]("alice", "carol"), tmp_path / "out", progress=CtrlC())
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".results"]
    stored = {json.loads(p.read_text())["result"]["student"] for p in (tmp_path / "out" / ".results").iterdir()}
    assert "alice" in stored


def test_class_where_no_one_submitted_a_released_exercise__is_refused_with_their_names(tmp_path):
    (tmp_path / "submissions" / "alice").mkdir(parents=True)
    (tmp_path / "submissions" / "alice" / "homework.ipynb").write_text("{}")
    with pytest.raises(LabkitError, match=r"No submission holds any released exercise \(00_welcome.ipynb, 01_users_and_groups.ipynb\)"):
        classroom.grade_class(tmp_path / "submissions", tmp_path / "out", release=ROOT / "exercises")


def test_progress__is_one_line_per_student_off_a_terminal(fake, tmp_path):
    stream = io.StringIO()
    _grade(fake["make"]("alice", "bob"), tmp_path / "out", progress=stream)
    lines = stream.getvalue().splitlines()
    assert [line[:6] for line in lines] == ["[1/2] ", "[2/2] "]
    assert sorted(line[6:] for line in lines) == ["alice: 2/2", "bob: 2/2"]
