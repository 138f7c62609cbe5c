"""Grading a class: every adversarial submission gets exactly what its work earns, and a reason.

One class is generated from the kit's own exercise and solution notebooks (the attack cells
live in tests/files/grading/cells/), graded once with ``labkit grade --jobs 2``, and shared by
the tests below. Each student's folder is named for what the submission does.
"""

from __future__ import annotations

import copy
import csv
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
FILES = ROOT / "tests" / "files" / "grading"
NB = "01_users_and_groups"
TIMEOUT = 30
FULL = 13  # users.1-5 (12 points) and the hidden users.6 (1 point)
UNTOUCHED = "graded as an untouched lab account"


def _read(kind: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / kind / f"{NB}.ipynb", as_version=4)


def _check_cell(nb: nbformat.NotebookNode, check_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.source.startswith(f'lab.check("{check_id}"'))


def _attack(name: str) -> str:
    return (FILES / "cells" / f"{name}.py").read_text("utf-8").strip()


def _insert_after(nb: nbformat.NotebookNode, index: int, source: str) -> int:
    """Insert a code cell after cell ``index``; returns its number as the learner sees it (1-based)."""
    cell = nbformat.v4.new_code_cell(source)
    del cell["id"]  # the released notebooks are nbformat 4.4: cells have no ids
    nb.cells.insert(index + 1, cell)
    return index + 2


def _solve(nb: nbformat.NotebookNode, *check_ids: str) -> nbformat.NotebookNode:
    solution = _read("solutions")
    for check_id in check_ids:
        nb.cells[_check_cell(nb, check_id) - 1] = copy.deepcopy(solution.cells[_check_cell(solution, check_id) - 1])
    return nb


def build_class(folder: Path) -> dict[str, tuple[int, str]]:
    """Write the class into ``folder``; returns each student's expected (total, reason)."""
    expected: dict[str, tuple[int, str]] = {}
    notebooks: dict[str, nbformat.NotebookNode] = {}
    prefix = f"{NB}.ipynb: "

    notebooks["honest_solution"] = _read("solutions")
    expected["honest_solution"] = (FULL, "")

    nb = _read("solutions")
    del nb.cells[_check_cell(nb, "users.2")]
    notebooks["honest_deleted_check_cell"] = nb
    expected["honest_deleted_check_cell"] = (FULL, prefix + "restored the deleted check cell for users.2")

    nb = _read("exercises")
    nb.cells[_check_cell(nb, "users.1")].source = 'print("✓ Check users.1 passed: 2/2 points.")'
    nb.cells[_check_cell(nb, "users.2")].source = 'lab.check("users.2", ["AdministratorAccess"])'
    nb.cells[_check_cell(nb, "users.5")].source = 'lab.check("users.5") if False else print("✓ Check users.5 passed")'
    notebooks["edited_check_cells"] = nb
    expected["edited_check_cells"] = (
        0,
        prefix + "restored the deleted check cell for users.1; "
        "the check cell for users.2 was edited: your version ran as your own code, then the released check cell; "
        "the check cell for users.5 was edited: your version ran as your own code, then the released check cell",
    )

    nb = _read("solutions")
    check_1 = _check_cell(nb, "users.1")
    nb.cells[check_1 + 1 : check_1 + 1] = [copy.deepcopy(nb.cells[check_1]), copy.deepcopy(nb.cells[check_1])]
    moved = nb.cells.pop(_check_cell(nb, "users.2"))
    nb.cells.insert(2, moved)  # right after the set-up cell, before exercise 1
    notebooks["duplicated_and_reordered_check_cells"] = nb
    expected["duplicated_and_reordered_check_cells"] = (
        FULL,
        prefix + "removed 2 duplicate check cells for users.1; moved the check cell for users.2 back to the end of its exercise",
    )

    for attack in ("monkeypatch_labkit_checks", "monkeypatch_boto3", "writes_to_output_folder"):
        nb = _read("exercises")
        _insert_after(nb, 1, _attack(attack))
        notebooks[attack] = nb
        expected[attack] = (0, "")

    nb = _read("solutions")
    _insert_after(nb, _check_cell(nb, "users.1"), _attack("input_transformer_blanks_later_cells"))
    notebooks["input_transformer_blanks_later_cells"] = nb
    expected["input_transformer_blanks_later_cells"] = (2, "")

    nb = _read("exercises")
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith("lab.check("):
            check_id = cell.source.split('"')[1]
            cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": f"✓ Check {check_id} passed: 3/3 points."}, execution_count=9)]
            cell.metadata["nbgrader"] = {"grade": True, "points": 3, "solution": False, "grade_id": check_id}
    notebooks["forged_output_cells"] = nb
    expected["forged_output_cells"] = (0, "")

    stop = "; the cells after it did not run"
    died = "(os._exit, a crash or running out of memory)" + stop
    for name, after, cell, total, message in (
        ("infinite_loop", "users.1", "infinite_loop", 2, "stopped at the time limit ({t} s) in cell {n} (`while True:`)" + stop),
        ("kernel_dies_os_exit", "users.1", "os_exit", 2, "the kernel died in cell {n} (`import os`) " + died),
        ("kernel_dies_segfault", "users.3", "segfault", 6, "the kernel died in cell {n} (`import ctypes`) " + died),
        ("floods_output", "users.1", "flood_output", FULL, "cell {n} (`for i in range(10**9):`) printed more than 1 MB of output and was interrupted"),
        ("waits_for_input", "users.1", "waits_for_input", FULL, 'cell {n} (`name = input("What is your name? ")`) called input(), which a graded run cannot answer: the cell failed'),
    ):
        nb = _read("solutions")
        number = _insert_after(nb, _check_cell(nb, after), _attack(cell))
        notebooks[name] = nb
        expected[name] = (total, prefix + message.format(n=number, t=TIMEOUT))

    nb = _solve(_read("exercises"), "users.1", "users.3")
    nb.cells[_check_cell(nb, "users.2") - 1].source = 'answer = (name for name in ["ReadOnlyAccess"])'
    notebooks["partly_solved_unanswerable_answer"] = nb
    expected["partly_solved_unanswerable_answer"] = (4, "")

    for student, nb in notebooks.items():
        (folder / student).mkdir(parents=True)
        nbformat.write(nb, folder / student / f"{NB}.ipynb")

    for student, fixture in (("not_valid_json", "not_valid_json.ipynb"), ("not_a_notebook", "not_a_notebook.ipynb")):
        (folder / student).mkdir()
        shutil.copy(FILES / fixture, folder / student / f"{NB}.ipynb")
    expected["not_valid_json"] = (0, prefix + f"not valid JSON (Expecting value at line 5, column 3): {UNTOUCHED}")
    expected["not_a_notebook"] = (0, prefix + f"not a Jupyter notebook (valid JSON, but no nbformat version): {UNTOUCHED}")

    (folder / "missing_notebook").mkdir()
    nbformat.write(_read("solutions"), folder / "missing_notebook" / f"{NB} (1).ipynb")
    expected["missing_notebook"] = (0, prefix + f"missing from the submission: {UNTOUCHED}")
    return expected


def grade(cwd: Path, submissions: str, out: str, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "labkit", "grade", submissions, "--out", out, "--timeout", str(TIMEOUT),
               "--notebook", NB, "--release", str(ROOT / "exercises"), *extra]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=900)


class Graded:
    def __init__(self, folder: Path, expected: dict[str, tuple[int, str]], run: subprocess.CompletedProcess[str], seconds: float) -> None:
        self.folder, self.expected, self.run, self.seconds = folder, expected, run, seconds
        self.out = folder / "out"
        self.book = json.loads((self.out / "gradebook.json").read_text("utf-8"))
        self.students = {s["student"]: s for s in self.book["students"]}
        with open(self.out / "gradebook.csv", newline="", encoding="utf-8") as handle:
            self.rows = list(csv.reader(handle))


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    folder = tmp_path_factory.mktemp("class")
    expected = build_class(folder / "submissions")
    started = time.monotonic()
    run = grade(folder, "submissions", "out", "--jobs", "2")
    assert run.returncode == 0, run.stderr[-3000:]
    return Graded(folder, expected, run, time.monotonic() - started)


STUDENTS = sorted([
    "honest_solution", "honest_deleted_check_cell", "edited_check_cells", "duplicated_and_reordered_check_cells",
    "monkeypatch_labkit_checks", "monkeypatch_boto3", "writes_to_output_folder", "input_transformer_blanks_later_cells",
    "forged_output_cells", "infinite_loop", "kernel_dies_os_exit", "kernel_dies_segfault", "floods_output",
    "waits_for_input", "partly_solved_unanswerable_answer", "not_valid_json", "not_a_notebook", "missing_notebook",
])


@pytest.mark.slow
@pytest.mark.parametrize("student", STUDENTS)
def test_every_student__gets_exactly_the_score_and_reason_their_work_earns(graded, student):
    total, reason = graded.expected[student]
    entry = graded.students[student]
    assert (entry["total"], entry["reason"]) == (total, reason)
    assert entry["max"] == FULL


HIDDEN_CONTENT = (
    "No person in the company has a policy attached to them directly",  # users.6's title
    "Only service users",  # its hint
    "These users still have policies of their own",  # its message
)


@pytest.mark.slow
def test_gradebook_csv__has_a_row_per_student_and_a_column_per_check(graded):
    assert graded.rows[0] == ["student", "total", "max", "users.1", "users.2", "users.3", "users.4", "users.5", "users.6"]
    assert [row[0] for row in graded.rows[1:]] == STUDENTS
    for row in graded.rows[1:]:
        assert int(row[1]) == sum(int(points) for points in row[3:]) and row[2] == str(FULL)
        assert int(row[1]) == graded.expected[row[0]][0]


@pytest.mark.slow
def test_answer_that_is_not_plain_data__fails_its_check_with_the_reason(graded):
    verdicts = {v["check_id"]: v for v in graded.students["partly_solved_unanswerable_answer"]["notebooks"][0]["verdicts"]}
    assert verdicts["users.2"]["message"] == "your answer could not be handed to the grader: a builtins.generator is not plain data"


@pytest.mark.slow
def test_edited_check_cell__its_forged_answer_is_judged_like_any_answer(graded):
    verdicts = {v["check_id"]: v for v in graded.students["edited_check_cells"]["notebooks"][0]["verdicts"]}
    assert verdicts["users.2"]["message"] == "That is not the set of managed policies that reach carol (3 policies do)."


@pytest.mark.slow
def test_kernel_writing_to_the_output_folder__changes_nothing_the_grader_writes(graded):
    from labkit.grading.classroom import Kit
    from labkit.grading.gradebook import ResultStore, submission_key

    out = graded.out
    assert (graded.folder / "forged-by-a-kernel.txt").exists(), "the attack did not run: this test would prove nothing"
    assert graded.students["writes_to_output_folder"]["total"] == 0
    assert "everyone gets full marks" not in (out / "report.html").read_text("utf-8")
    assert sorted(p.stem for p in (out / "feedback").rglob("*.html")) == STUDENTS
    for student in STUDENTS:
        total = graded.students[student]["total"]
        assert f"Feedback for {student}: {total}/{FULL} points" in (out / "feedback" / f"{student}.html").read_text("utf-8")
    kit = Kit.load(ROOT / "exercises", [NB], timeout=TIMEOUT)
    store = ResultStore(out)
    for student in STUDENTS:
        stored = store.load(student, submission_key(graded.folder / "submissions" / student, [NB], kit.key))
        assert stored is not None and stored.to_dict() == graded.students[student], f"{student}'s stored result was not restored"


@pytest.mark.slow
def test_feedback_pages__show_nothing_of_the_hidden_check_but_its_points(graded):
    for page in (graded.out / "feedback").iterdir():
        text = page.read_text("utf-8")
        assert "hidden check: " in text and ", 1 point" in text
        assert not any(secret in text for secret in HIDDEN_CONTENT), page.name


@pytest.mark.slow
def test_summary__counts_the_class_and_names_every_student_with_notes(graded):
    out = graded.run.stdout
    assert out.startswith(f"Graded {len(STUDENTS)} students ({len(STUDENTS)} now, 0 unchanged since the last run)")
    for student, (_, reason) in graded.expected.items():
        assert (f"  {student} (" in out) == bool(reason)
    assert f"[{len(STUDENTS)}/{len(STUDENTS)}]" in graded.run.stderr  # the progress, one line per student off a terminal


@pytest.mark.slow
def test_grading_again_into_the_same_folder__reuses_every_result_and_writes_the_same_gradebook(graded):
    before = {name: (graded.out / name).read_bytes() for name in ("gradebook.csv", "gradebook.json")}
    run = grade(graded.folder, "submissions", "out")
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith(f"Graded {len(STUDENTS)} students (0 now, {len(STUDENTS)} unchanged since the last run)")
    assert {name: (graded.out / name).read_bytes() for name in before} == before


@pytest.mark.slow
def test_same_submissions_graded_again_elsewhere__score_exactly_the_same(graded, tmp_path):
    subset = ["honest_solution", "duplicated_and_reordered_check_cells", "floods_output", "kernel_dies_os_exit"]
    for student in subset:
        shutil.copytree(graded.folder / "submissions" / student, tmp_path / "submissions" / student)
    run = grade(tmp_path, "submissions", "out", "--jobs", "1")
    assert run.returncode == 0, run.stderr[-2000:]
    again = {s["student"]: s for s in json.loads((tmp_path / "out" / "gradebook.json").read_text("utf-8"))["students"]}
    assert again == {student: graded.students[student] for student in subset}
    for student in subset:
        assert (tmp_path / "out" / "feedback" / f"{student}.html").read_bytes() == (graded.out / "feedback" / f"{student}.html").read_bytes()
