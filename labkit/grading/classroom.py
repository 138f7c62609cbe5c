"""Grades a class: every student's notebooks in parallel, then the gradebook, feedback and report.

Each notebook is graded by labkit.grading.grader in a fresh kernel and lab account; a pool of
threads keeps ``jobs`` of them running. Every finished student is stored at once, so an
interrupted run resumes where it stopped; the gradebook is written only for a complete class.
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from labkit.errors import LabkitError
from labkit.grading.gradebook import OutputGuard, ResultStore, atomic_write, submission_key, write_gradebook
from labkit.grading.grader import DEFAULT_TIMEOUT, Aborted, Grader, Kit, find_release
from labkit.grading.results import NotebookResult, StudentResult
from labkit.grading.servers import LabServers

__all__ = ["ClassReport", "default_jobs", "grade_class"]


@dataclass
class ClassReport:
    """A graded class: every student's result, where the files went, and how long it took."""

    results: list[StudentResult]
    checks: list[dict[str, Any]]
    out: Path
    graded: int
    reused: int
    seconds: float
    jobs: int
    files: list[Path] = field(default_factory=list)

    def __str__(self) -> str:
        maximum = sum(c["points"] for c in self.checks)
        totals = sorted(r.total for r in self.results)
        n = len(totals)
        jobs = f" with {self.jobs} job{'s' if self.jobs != 1 else ''}" if self.graded else ""
        lines = [f"Graded {n} students ({self.graded} now, {self.reused} unchanged since the last run) in {self.seconds:.1f} s{jobs}."]
        if n:
            full = sum(t == maximum for t in totals)
            lines.append(f"Scores: mean {sum(totals) / n:.1f}/{maximum}, median {totals[n // 2]}/{maximum}; {full} with full marks.")
            rates = ", ".join(
                f"{c['id']} {round(100 * sum(r.verdicts[c['id']].passed for r in self.results if c['id'] in r.verdicts) / n)}%" for c in self.checks
            )
            lines.append(f"Pass rate per check: {rates}.")
        noted = [r for r in self.results if r.reason]
        if noted:
            lines.append(f"{len(noted)} student{'s' if len(noted) != 1 else ''} with notes:")
            lines += [f"  {r.student} ({r.total}/{r.max_points}): {r.reason}" for r in noted]
        *books, feedback = self.files
        lines.append("Wrote " + ", ".join(str(p) for p in books) + f" and {n} feedback pages in {feedback}{os.sep}.")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from labkit.grading.report import class_report_html

        return class_report_html(self.results, self.checks)


class _Progress:
    """A one-line progress bar on a terminal; a line per student elsewhere."""

    def __init__(self, total: int, stream: TextIO | None) -> None:
        self.total, self.stream, self.done = total, stream, 0
        self.tty = bool(stream is not None and stream.isatty())
        self.started = time.monotonic()

    def advance(self, result: StudentResult | None, note: str = "") -> None:
        self.done += 1
        try:
            self._show(result, note)
        except (OSError, ValueError):  # a closed terminal or pipe must not stop the grading
            self.stream = None

    def _show(self, result: StudentResult | None, note: str) -> None:
        if self.stream is None:
            return
        label = note or (f"{result.student}: {result.total}/{result.max_points}" if result else "")
        if self.tty:
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            elapsed = time.monotonic() - self.started
            bar = "#" * filled + "." * (width - filled)
            self.stream.write(f"\r[{bar}] {self.done}/{self.total} · {elapsed:.0f} s · {label[:40]:<40}")
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(f"[{self.done:>{len(str(self.total))}}/{self.total}] {label}\n")
        self.stream.flush()


def default_jobs() -> int:
    """One job per core this process may use."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _students(submissions: Path) -> list[Path]:
    if not submissions.is_dir():
        raise LabkitError(f"{submissions} is not a folder of submissions (one folder per student).")
    return sorted((p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.name)


def _notebook_names(students: list[Path], release: Path, notebooks: list[str] | None) -> list[str]:
    if notebooks:
        return sorted(set(notebooks))
    released = sorted(p.stem for p in release.glob("*.ipynb"))
    present = [n for n in released if any((s / f"{n}.ipynb").exists() for s in students)]
    if not present:
        raise LabkitError(f"No submission holds any released exercise ({', '.join(n + '.ipynb' for n in released)}); use --notebook to name the one to grade.")
    return present


def grade_class(
    submissions: Path,
    out: Path,
    *,
    jobs: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    notebooks: list[str] | None = None,
    release: Path | None = None,
    progress: TextIO | None = None,
) -> ClassReport:
    """Grade every student folder in ``submissions`` and write the gradebook, feedback and report to ``out``.

    Students whose files and kit are unchanged since a previous run into ``out`` keep their
    stored result. Raises KeyboardInterrupt (after stopping every kernel) when interrupted;
    what was graded by then is kept for the next run.
    """
    started = time.monotonic()
    release = find_release(release)
    students = _students(Path(submissions))
    names = _notebook_names(students, release, notebooks)
    kit = Kit.load(release, names, timeout=timeout)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ResultStore(out).sweep()
    guard = OutputGuard(out)  # before any kernel runs
    store = ResultStore(out, guard=guard)
    keys = {s.name: submission_key(s, names, kit.key) for s in students}
    results: dict[str, StudentResult] = {}
    for student in students:
        stored = store.load(student.name, keys[student.name])
        if stored is not None:
            results[student.name] = stored
    reused = len(results)
    todo = [s for s in students if s.name not in results]
    bar = _Progress(len(students), progress)
    for student in students:
        if student.name in results:
            bar.advance(results[student.name], f"{student.name}: unchanged since the last run")
    workers = max(1, min(jobs or default_jobs(), len(todo) * len(names) or 1))
    complete: set[str] = set(results)  # students whose every notebook was graded (kept for resuming)

    def finished(result: StudentResult) -> None:
        results[result.student] = result
        if all(n.status != "error" for n in result.notebooks):
            complete.add(result.student)
            store.save(result, keys[result.student])
        bar.advance(result)

    if todo:
        try:
            with LabServers() as servers:
                _grade_in_parallel(Grader(kit, servers, timeout=timeout), todo, names, workers, finished)
        finally:
            # Whatever a kernel wrote into the grader's files meanwhile is undone; what the
            # grader knows is stored again.
            guard.restore()
            for student_name in sorted(complete):
                store.save(results[student_name], keys[student_name])
    ordered_results = [results[s.name] for s in students]
    files = _write_outputs(out, ordered_results, kit.checks)
    return ClassReport(ordered_results, kit.checks, out, len(students) - reused, reused, time.monotonic() - started, workers, files)


def _grade_in_parallel(grader: Grader, todo: list[Path], names: list[str], workers: int, finished: Any) -> None:
    """Grade every notebook of ``todo`` on ``workers`` threads; ``finished(result)`` per student."""
    work: queue.Queue[tuple[str, str, Path]] = queue.Queue()
    for student in todo:
        for name in names:
            work.put((student.name, name, student / f"{name}.ipynb"))
    done: queue.Queue[tuple[str, NotebookResult | BaseException]] = queue.Queue()

    def worker() -> None:
        while True:
            try:
                student_name, name, path = work.get_nowait()
            except queue.Empty:
                return
            try:
                done.put((student_name, grader.grade(name, path)))
            except Aborted:
                return
            except Exception as err:
                if not grader.servers.alive():  # no lab server can start: nothing more can be graded
                    done.put((student_name, err))
                    return
                done.put((student_name, grader.failed(name, err)))  # a grader bug: this notebook only

    threads = [threading.Thread(target=worker, name=f"labkit-grade-{i}", daemon=True) for i in range(workers)]
    for thread in threads:
        thread.start()
    partial: dict[str, list[NotebookResult]] = {}
    remaining = len(todo) * len(names)
    try:
        while remaining:
            try:
                student_name, item = done.get(timeout=0.25)
            except queue.Empty:
                if not any(t.is_alive() for t in threads) and done.empty():
                    raise LabkitError("grading stopped: every worker ended early") from None
                continue
            remaining -= 1
            if isinstance(item, BaseException):
                raise item if isinstance(item, LabkitError) else LabkitError(f"grading stopped: {type(item).__name__}: {item}")
            partial.setdefault(student_name, []).append(item)
            if len(partial[student_name]) == len(names):
                ordered = sorted(partial.pop(student_name), key=lambda r: names.index(r.notebook))
                finished(StudentResult(student_name, ordered))
    except BaseException:
        grader.abort()
        raise
    finally:
        for thread in threads:
            thread.join(timeout=30)


def _write_outputs(out: Path, results: list[StudentResult], checks: list[dict[str, Any]]) -> list[Path]:
    from labkit.grading.feedback import feedback_html
    from labkit.grading.report import class_report_html

    csv_path, json_path = write_gradebook(out, results, checks)
    feedback = out / "feedback"
    feedback.mkdir(exist_ok=True)
    wanted = {f"{r.student}.html" for r in results}
    for stray in feedback.iterdir():
        if stray.name not in wanted:
            shutil.rmtree(stray) if stray.is_dir() and not stray.is_symlink() else stray.unlink()
    for result in results:
        atomic_write(feedback / f"{result.student}.html", feedback_html(result).encode("utf-8"))
    report = out / "report.html"
    atomic_write(report, class_report_html(results, checks).encode("utf-8"))
    return [csv_path, json_path, report, feedback]


