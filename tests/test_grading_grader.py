"""``labkit check`` grades one notebook as the grader does and shows only its public checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_labkit_check__on_a_solution__reports_public_checks_passed_and_nothing_hidden(tmp_path):
    notebook = tmp_path / "01_users_and_groups.ipynb"
    notebook.write_bytes((ROOT / "solutions" / "01_users_and_groups.ipynb").read_bytes())
    run = subprocess.run([sys.executable, "-m", "labkit", "check", str(notebook), "--release", str(ROOT / "exercises")],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.splitlines() == [
        "✓ users.1: 2/2", "✓ users.2: 2/2", "✓ users.3: 2/2", "✓ users.4: 3/3", "✓ users.5: 3/3",
        "public checks passed: 5/5 (12/12 points)",
    ]


def test_labkit_check__of_a_file_that_is_not_a_released_exercise__names_the_exercises(tmp_path, capsys):
    from labkit.cli import main

    (tmp_path / "homework.ipynb").write_text("{}")
    assert main(["check", str(tmp_path / "homework.ipynb"), "--release", str(ROOT / "exercises")]) == 2
    assert "There is no released exercise 'homework'" in capsys.readouterr().err


@pytest.mark.slow
def test_labkit_check__on_an_unsolved_exercise__fails_with_hints(tmp_path):
    notebook = tmp_path / "00_welcome.ipynb"
    notebook.write_bytes((ROOT / "exercises" / "00_welcome.ipynb").read_bytes())
    run = subprocess.run([sys.executable, "-m", "labkit", "check", str(notebook), "--release", str(ROOT / "exercises")],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 1, run.stderr[-2000:]
    assert run.stdout.splitlines()[-1] == "public checks passed: 0/3 (0/4 points)"
    assert "Hint:" in run.stdout
