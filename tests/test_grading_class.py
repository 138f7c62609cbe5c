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
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
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
