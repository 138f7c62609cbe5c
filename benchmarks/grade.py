"""Grading speed: ``labkit grade`` against nbgrader's ``autograde``, on the same class of 20.

    python benchmarks/grade.py [--students 20] [--jobs N] [--nbgrader-venv DIR]

Generates a class of submissions of exercises/01_users_and_groups.ipynb (solved and partly
solved copies), then, in the same run:

* bare: every submission run once with nbclient as released (its lab in the kernel), N at a
  time in one process: what running the notebooks costs, before any grading;
* labkit: ``python -m labkit grade`` with N jobs (default: one per core);
* nbgrader: ``nbgrader autograde`` (0.9.x, installed for this benchmark only, into a throwaway
  virtual environment) on the same class laid out as an nbgrader course, whose check cells are
  autograder test cells and whose kernel is this environment's Python, like labkit's.

Prints each wall time, labkit's overhead per submission beyond the bare run, and on its last
line the ratio of labkit's wall time to nbgrader's.
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NB = "01_users_and_groups"
CHECKS = ["users.1", "users.2", "users.3", "users.4", "users.5"]
POINTS = {"users.1": 2, "users.2": 2, "users.3": 2, "users.4": 3, "users.5": 3}

BARE = """
import sys, time
from concurrent.futures import ThreadPoolExecutor
import nbformat
from nbclient import NotebookClient

def run(path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True).execute()

paths, jobs = sys.argv[2:], int(sys.argv[1])
started = time.perf_counter()
with ThreadPoolExecutor(jobs) as pool:
    list(pool.map(run, paths))
print(time.perf_counter() - started)
"""


def _check_index(nb: nbformat.NotebookNode, check_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.source.startswith(f'lab.check("{check_id}"'))


def submission(exercise: nbformat.NotebookNode, solution: nbformat.NotebookNode, solved: list[str]) -> nbformat.NotebookNode:
    nb = copy.deepcopy(exercise)
    for check_id in solved:
        nb.cells[_check_index(nb, check_id) - 1].source = solution.cells[_check_index(solution, check_id) - 1].source
    return nb


def solved_by(student: int) -> list[str]:
    """A mix: a third solve everything, the rest stop somewhere along the way."""
    return CHECKS if student % 3 == 0 else CHECKS[: student % 5]


def make_class(folder: Path, students: int) -> dict[str, list[str]]:
    exercise = nbformat.read(ROOT / "exercises" / f"{NB}.ipynb", as_version=4)
    solution = nbformat.read(ROOT / "solutions" / f"{NB}.ipynb", as_version=4)
    plan = {f"student{n:02d}": solved_by(n) for n in range(students)}
    for name, solved in plan.items():
        (folder / name).mkdir(parents=True)
        nbformat.write(submission(exercise, solution, solved), folder / name / f"{NB}.ipynb")
    return plan


def nbgrader_venv(where: Path | None, scratch: Path) -> Path:
    venv = where or scratch / "nbgrader-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"installing nbgrader into {venv} (once) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "nbgrader>=0.9,<0.10"], check=True)
    # nbgrader's kernels run this environment's Python, with labkit, like labkit's own.
    spec = venv / "share" / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "labkit", "language": "python"}))
    return venv


def make_course(course: Path, plan: dict[str, list[str]]) -> None:
    exercise = nbformat.read(ROOT / "exercises" / f"{NB}.ipynb", as_version=4)
    solution = nbformat.read(ROOT / "solutions" / f"{NB}.ipynb", as_version=4)
    source = copy.deepcopy(exercise)
    for check_id in CHECKS:
        cell = source.cells[_check_index(source, check_id)]
        if check_id == "users.5":  # the hidden check, as an nbgrader hidden test
            cell.source += '\n### BEGIN HIDDEN TESTS\nlab.check("users.6")\n### END HIDDEN TESTS'
        points = POINTS[check_id] + (1 if check_id == "users.5" else 0)
        cell.metadata["nbgrader"] = {"grade": True, "grade_id": check_id.replace(".", "_"), "locked": True, "points": points,
                                     "schema_version": 3, "solution": False, "task": False}
    (course / "source" / "ps1").mkdir(parents=True)
    nbformat.write(source, course / "source" / "ps1" / f"{NB}.ipynb")
    (course / "nbgrader_config.py").write_text('c = get_config()\nc.CourseDirectory.course_id = "labkit-bench"\nc.Execute.timeout = 300\n')
    return None


def submit_course(course: Path, plan: dict[str, list[str]]) -> None:
    released = nbformat.read(course / "release" / "ps1" / f"{NB}.ipynb", as_version=4)
    solution = nbformat.read(ROOT / "solutions" / f"{NB}.ipynb", as_version=4)
    for name, solved in plan.items():
        folder = course / "submitted" / name / "ps1"
        folder.mkdir(parents=True)
        nbformat.write(submission(released, solution, solved), folder / f"{NB}.ipynb")


def timed(command: list[str], **kwargs: object) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - started


def main() -> None:
    from labkit.grading.classroom import default_jobs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    parser.add_argument("--nbgrader-venv", type=Path, help="reuse (or create) nbgrader's virtual environment here")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LABKIT_"))}
    with tempfile.TemporaryDirectory(prefix="labkit-bench-") as tmp:
        scratch = Path(tmp)
        plan = make_class(scratch / "submissions", args.students)
        venv = nbgrader_venv(args.nbgrader_venv, scratch)
        course = scratch / "course"
        make_course(course, plan)
        nbgrader = str(venv / "bin" / "nbgrader")
        nb_env = dict(env, PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", JUPYTER_PATH=str(venv / "share" / "jupyter"))
        subprocess.run([nbgrader, "generate_assignment", "ps1", "--force"], cwd=course, check=True, env=nb_env, capture_output=True)
        submit_course(course, plan)

        paths = [str(scratch / "submissions" / name / f"{NB}.ipynb") for name in plan]
        bare = float(subprocess.run([sys.executable, "-c", BARE, str(args.jobs), *paths], check=True, capture_output=True, text=True, env=env).stdout.split()[-1])
        labkit = timed([sys.executable, "-m", "labkit", "grade", str(scratch / "submissions"), "--out", str(scratch / "out"),
                        "--jobs", str(args.jobs), "--release", str(ROOT / "exercises")], env=env)
        nbg = timed([nbgrader, "autograde", "ps1"], cwd=course, env=nb_env)

        # Both graders must have graded the class, and the same way: a fast wrong grader proves nothing.
        expected = {name: sum(POINTS[c] for c in solved) + (1 if len(solved) == 5 else 0) for name, solved in plan.items()}
        book = json.loads((scratch / "out" / "gradebook.json").read_text())
        got = {s["student"]: s["total"] for s in book["students"]}
        assert got == expected, f"labkit graded the class wrong: {got} != {expected}"
        subprocess.run([nbgrader, "export"], cwd=course, check=True, env=nb_env, capture_output=True)
        with open(course / "grades.csv", newline="") as handle:
            theirs = {row["student_id"]: round(float(row["score"])) for row in csv.DictReader(handle)}
        assert theirs == expected, f"nbgrader graded the class differently: {theirs} != {expected}"

    n = args.students
    print(f"class: {n} submissions of {NB}, {args.jobs} jobs, {os.cpu_count()} cores")
    print(f"bare nbclient ({args.jobs} at a time): {bare:6.1f} s  ({bare / n:.2f} s a submission)")
    print(f"labkit grade:                {labkit:6.1f} s  ({labkit / n:.2f} s a submission)")
    print(f"nbgrader autograde:          {nbg:6.1f} s  ({nbg / n:.2f} s a submission)")
    print(f"labkit overhead beyond the bare run: {(labkit - bare) * args.jobs / n:+.2f} s of worker time a submission "
          f"({(labkit - bare) / n:+.2f} s of wall time)")
    print(f"labkit / nbgrader wall time: {labkit / nbg:.3f}")


if __name__ == "__main__":
    main()
