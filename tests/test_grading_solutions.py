"""Every solution notebook of the kit, graded with `labkit grade` against lab servers, gets full marks."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def test_labkit_grade__gives_every_solution_full_marks(tmp_path):
    from labkit.checks import all_checks

    solutions = sorted(p for p in (ROOT / "solutions").glob("*.ipynb") if all_checks(notebook=p.stem))
    assert solutions, "the kit has solutions with graded checks"
    student = tmp_path / "submissions" / "model-student"
    student.mkdir(parents=True)
    for path in solutions:
        shutil.copy(path, student / path.name)
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "labkit", "grade", str(tmp_path / "submissions"), "--out", str(out),
                             "--jobs", "2", "--release", str(ROOT / "exercises")], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["student"] == "model-student")
    expected = sum(c.points for path in solutions for c in all_checks(notebook=path.stem))
    assert (int(row["total"]), int(row["max"])) == (expected, expected), row
