"""An interrupted grading run (kill -9) resumes without regrading anyone, and never leaves half a file."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NB = "01_users_and_groups"


def _command(submissions: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "labkit", "grade", str(submissions), "--out", str(out), "--jobs", "1",
            "--timeout", "60", "--notebook", NB, "--release", str(ROOT / "exercises")]


@pytest.mark.slow
def test_grading_killed_midway__resumes_with_the_students_already_graded(tmp_path):
    submissions, out = tmp_path / "submissions", tmp_path / "out"
    for student, kind in (("a_solved", "solutions"), ("b_untouched", "exercises"), ("c_solved", "solutions")):
        (submissions / student).mkdir(parents=True)
        nbformat.write(nbformat.read(ROOT / kind / f"{NB}.ipynb", as_version=4), submissions / student / f"{NB}.ipynb")

    first = subprocess.Popen(_command(submissions, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (out / ".results" / "a_solved.json").exists():
        assert first.poll() is None and time.monotonic() < deadline, "the first student was never stored"
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()

    assert not (out / "gradebook.csv").exists() and not (out / "gradebook.json").exists()
    stored = out / ".results" / "a_solved.json"
    graded_at = stored.stat().st_mtime_ns
    (out / ".results" / ".c_solved.json.x1y2.tmp").write_text('{"version": 1, "key": "half a fi')  # a write cut short

    second = subprocess.run(_command(submissions, out), capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-2000:]
    reused = int(second.stdout.split(" now, ")[1].split(" unchanged")[0])
    assert reused >= 1 and "a_solved: unchanged since the last run" in second.stderr
    assert stored.stat().st_mtime_ns == graded_at, "a student graded before the kill was graded again"
    assert sorted(p.name for p in (out / ".results").iterdir()) == ["a_solved.json", "b_untouched.json", "c_solved.json"]
    with open(out / "gradebook.csv", newline="") as handle:
        rows = {row["student"]: row["total"] for row in csv.DictReader(handle)}
    assert rows == {"a_solved": "13", "b_untouched": "0", "c_solved": "13"}


@pytest.mark.slow
def test_grading_interrupted_with_ctrl_c__keeps_only_what_the_grader_wrote(tmp_path):
    submissions, out = tmp_path / "submissions", tmp_path / "out"
    forger = nbformat.read(ROOT / "exercises" / f"{NB}.ipynb", as_version=4)
    attack = (ROOT / "tests" / "files" / "grading" / "cells" / "writes_to_output_folder.py").read_text()
    # The forger then waits without burning a core (a busy 2-core machine must still grade the honest
    # student well within the forger's time limit), so the interrupt comes while its kernel runs.
    cell = nbformat.v4.new_code_cell(attack + "\nimport time\nwhile True:\n    time.sleep(0.1)")
    del cell["id"]  # the released notebooks are nbformat 4.4: cells have no ids
    forger.cells.insert(2, cell)
    (submissions / "a_forger").mkdir(parents=True)
    nbformat.write(forger, submissions / "a_forger" / f"{NB}.ipynb")
    (submissions / "b_solved").mkdir()
    nbformat.write(nbformat.read(ROOT / "solutions" / f"{NB}.ipynb", as_version=4), submissions / "b_solved" / f"{NB}.ipynb")

    command = _command(submissions, out)
    command[command.index("--jobs") + 1] = "2"
    command[command.index("--timeout") + 1] = "90"
    progress = tmp_path / "progress.txt"
    with open(progress, "w") as stderr:
        # As from a terminal: Ctrl-C delivered by default, even when this test runs under a parent that
        # ignores SIGINT (a background job's children inherit that).
        run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + 300
        while not ((tmp_path / "forged-by-a-kernel.txt").exists() and "b_solved: 13/13" in progress.read_text()):
            assert run.poll() is None and time.monotonic() < deadline, "the forger or the honest student never got that far"
            time.sleep(0.05)
        run.send_signal(signal.SIGINT)
        run.wait(timeout=120)
    err = progress.read_text()

    assert run.returncode == 130 and "run the same command again to grade the rest" in err
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == [".results", ".results/b_solved.json"]
    assert _stored(out, "b_solved") == 13


def _stored(out: Path, student: str) -> int | None:
    import json

    try:
        return json.loads((out / ".results" / f"{student}.json").read_text())["result"]["total"]
    except (OSError, ValueError, KeyError):
        return None
