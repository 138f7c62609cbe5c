"""Grades a class: every student's notebooks in parallel, each in a fresh kernel and lab account.

What counts comes from the released kit: which checks exist, their points and code (the
registry in labkit.checks), and the check cells (the kit's ``exercises/`` folder). A submission
only supplies its code and, through the hand-over file, its answers as plain data.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from labkit.errors import LabkitError
from labkit.grading.answers import Unanswerable, encode, read_answers
from labkit.grading.gradebook import ResultStore, atomic_write, submission_key, write_gradebook
from labkit.grading.normalise import BadNotebook, Released, load_released, prepare, read_submission
from labkit.grading.results import NotebookResult, StudentResult, Verdict
from labkit.grading.runner import Run
from labkit.grading.servers import LabServers, ServerLost

__all__ = ["Kit", "Grader", "ClassReport", "find_release", "grade_class", "check_notebook"]

DEFAULT_TIMEOUT = 120.0
_UNTOUCHED = "graded as an untouched lab account"


def find_release(release: Path | None = None) -> Path:
    """The kit's released exercises: ``release``, else ``./exercises``, else the kit's own."""
    import labkit

    candidates = [release] if release is not None else [Path.cwd() / "exercises", Path(labkit.__file__).resolve().parent.parent / "exercises"]
    for folder in candidates:
        if folder is not None and folder.is_dir() and any(folder.glob("*.ipynb")):
            return folder
    where = release or "./exercises"
    raise LabkitError(f"No released exercises found in {where}: pass --release with the kit's exercises/ folder.")


@dataclass(frozen=True)
class Kit:
    """The released exercise notebooks being graded, their checks, and a fingerprint of both."""

    released: dict[str, Released]
    checks: list[dict[str, Any]]
    key: str

    @classmethod
    def load(cls, release: Path, notebooks: list[str], *, timeout: float) -> Kit:
        from labkit.checks import all_checks

        released, checks = {}, []
        digest = hashlib.sha256(f"labkit-grading-1\0timeout={timeout:g}".encode())
        for name in notebooks:
            path = release / f"{name}.ipynb"
            if not path.is_file():
                known = ", ".join(sorted(p.stem for p in release.glob("*.ipynb")))
                raise LabkitError(f"There is no released exercise {name!r} in {release} (there are: {known}).")
            released[name] = load_released(path)
            digest.update(path.read_bytes())
            specs = all_checks(notebook=name)
            if not specs:
                raise LabkitError(f"The exercise {name!r} has no checks in labkit.checks: nothing to grade.")
            for spec in specs:
                checks.append({"id": spec.id, "notebook": name, "points": spec.points, "hidden": spec.hidden, "title": spec.title})
            for module in sorted({sys.modules[s.func.__module__].__file__ or "" for s in specs}):
                digest.update(Path(module).read_bytes() if module else b"")
        digest.update(json.dumps(checks, sort_keys=True).encode())
        return cls(released, checks, digest.hexdigest())


def _kernel_env(url: str, answers: Path, scratch: Path, scenario: Any) -> dict[str, str]:
    from labkit.identity import admin_credentials

    key, secret = admin_credentials(scenario.account_id)
    dropped = ("AWS_", "LABKIT_", "MOTO_", "JPY_", "JUPYTER_", "IPYTHON", "PYTHONSTARTUP", "PYTHONHASHSEED")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.update(
        LABKIT_SERVER=url,
        LABKIT_ANSWERS=str(answers),
        AWS_ENDPOINT_URL=url,
        AWS_ACCESS_KEY_ID=key,
        AWS_SECRET_ACCESS_KEY=secret,
        AWS_DEFAULT_REGION=scenario.region,
        AWS_REGION=scenario.region,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        IPYTHONDIR=str(scratch / "ipython"),
        JUPYTER_CONFIG_DIR=str(scratch / "jupyter"),
        PYTHONNOUSERSITE="1",
        PYTHONHASHSEED="0",
    )
    return env


class _Aborted(Exception):
    pass


class Grader:
    """Grades single notebooks against a kit, each in a fresh kernel and lab account."""

    def __init__(self, kit: Kit, servers: LabServers, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        from labkit.scenario import load_scenario

        self.kit = kit
        self.servers = servers
        self.scenario = load_scenario(servers.scenario)
        self.timeout = timeout
        self._untouched: dict[str, dict[str, tuple[bool, str]]] = {}
        self._lock = threading.Lock()
        self._runs: set[Run] = set()
        self._cancel = threading.Event()

    def abort(self) -> None:
        """Stop every run now (from another thread): their kernels are killed."""
        self._cancel.set()
        with self._lock:
            runs = list(self._runs)
        for run in runs:
            run.abort()

    def _check_ids(self, name: str, public_only: bool) -> list[str]:
        return [c["id"] for c in self.kit.checks if c["notebook"] == name and not (public_only and c["hidden"])]

    def _judge(self, server: Any, check_ids: list[str], answers: dict[str, Any]) -> dict[str, tuple[bool, str]]:
        try:
            return server.judge(check_ids, answers, timeout=max(120.0, self.timeout))
        except ServerLost:
            if not self.servers.alive():
                raise self.servers.failure() from None
            raise

    def untouched(self, name: str) -> dict[str, tuple[bool, str]]:
        """Verdicts on a freshly seeded account with no answers (cached per notebook)."""
        with self._lock:
            if name not in self._untouched:
                server = self.servers.spawn()
                try:
                    self._untouched[name] = self._judge(server, self._check_ids(name, False), {})
                finally:
                    server.close()
            return self._untouched[name]

    def _verdicts(self, name: str, judged: dict[str, tuple[bool, str]], answers: dict[str, Any], public_only: bool) -> list[Verdict]:
        by_id = {c["id"]: c for c in self.kit.checks}
        verdicts = []
        for check_id in self._check_ids(name, public_only):
            spec = by_id[check_id]
            answer = answers.get(check_id)
            if isinstance(answer, Unanswerable):
                passed, message = False, f"your answer could not be handed to the grader: {answer}"
            else:
                passed, message = judged.get(check_id, (False, "the check did not run"))
            verdicts.append(Verdict(check_id, passed, spec["points"] if passed else 0, spec["points"], spec["hidden"], message))
        return verdicts

    def grade(self, name: str, path: Path | None, *, public_only: bool = False) -> NotebookResult:
        """Grade one submitted notebook (``path`` None or absent: a missing notebook)."""
        if self._cancel.is_set():
            raise _Aborted
        if path is None or not path.is_file():
            return NotebookResult(name, "missing", [f"missing from the submission: {_UNTOUCHED}"], self._verdicts(name, self.untouched(name), {}, public_only))
        try:
            prepared = prepare(self.kit.released[name], read_submission(path))
        except BadNotebook as err:
            return NotebookResult(name, "unreadable", [f"{err}: {_UNTOUCHED}"], self._verdicts(name, self.untouched(name), {}, public_only))
        check_ids = self._check_ids(name, public_only)
        scratch = Path(tempfile.mkdtemp(prefix="labkit-grade-"))
        server = self.servers.spawn()
        try:
            (scratch / "work").mkdir()
            answers_file = scratch / "answers.jsonl"
            answers_file.touch(mode=0o600)
            run = Run(prepared.cells, env=_kernel_env(server.url, answers_file, scratch, self.scenario), cwd=str(scratch / "work"), timeout=self.timeout)
            with self._lock:
                self._runs.add(run)
            if self._cancel.is_set():
                run.abort()
            try:
                outcome = run.execute()
            finally:
                with self._lock:
                    self._runs.discard(run)
            if outcome.aborted:
                raise _Aborted
            answers = read_answers(str(answers_file), set(check_ids))
            encoded = {k: encode(v) for k, v in answers.items() if not isinstance(v, Unanswerable)}
            notes = prepared.notes + outcome.notes
            try:
                judged = self._judge(server, check_ids, encoded)
                status = "graded"
            except ServerLost as err:
                judged, status = self.untouched(name), "server lost"
                notes.append(f"{err}: {_UNTOUCHED}")
                answers = {}
        finally:
            server.close()
            shutil.rmtree(scratch, ignore_errors=True)
        return NotebookResult(name, status, notes, self._verdicts(name, judged, answers, public_only))


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
        lines = [
            f"Graded {n} students ({self.graded} now, {self.reused} unchanged since the last run) in {self.seconds:.1f} s with {self.jobs} job{'s' if self.jobs != 1 else ''}.",
        ]
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
        lines.append("Wrote " + ", ".join(str(p) for p in self.files) + ".")
        return "\n".join(lines)


class _Progress:
    """A one-line progress bar on a terminal; a line per student elsewhere."""

    def __init__(self, total: int, stream: TextIO | None) -> None:
        self.total, self.stream, self.done = total, stream, 0
        self.tty = bool(stream is not None and stream.isatty())
        self.started = time.monotonic()

    def advance(self, result: StudentResult | None, note: str = "") -> None:
        if self.stream is None:
            return
        self.done += 1
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
    store = ResultStore(out)
    store.sweep()
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
    workers = max(1, min(jobs or os.cpu_count() or 1, len(todo) * len(names) or 1))
    failures: list[BaseException] = []
    if todo:
        with LabServers() as servers:
            grader = Grader(kit, servers, timeout=timeout)
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
                    except _Aborted:
                        return
                    except BaseException as err:  # a grader bug or a dead server process: stop the class
                        done.put((student_name, err))
                        return

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
                            break
                        continue
                    remaining -= 1
                    if isinstance(item, BaseException):
                        failures.append(item)
                        grader.abort()
                        break
                    partial.setdefault(student_name, []).append(item)
                    if len(partial[student_name]) == len(names):
                        ordered = sorted(partial.pop(student_name), key=lambda r: names.index(r.notebook))
                        result = StudentResult(student_name, ordered)
                        results[student_name] = result
                        store.save(result, keys[student_name])
                        bar.advance(result)
            except BaseException:
                grader.abort()
                raise
            finally:
                for thread in threads:
                    thread.join(timeout=30)
                # Whatever a kernel wrote into .results meanwhile, what the grader knows wins.
                for student_name, result in results.items():
                    store.save(result, keys[student_name])
    if failures:
        err = failures[0]
        raise err if isinstance(err, LabkitError) else LabkitError(f"grading stopped: {type(err).__name__}: {err}") from err
    ordered_results = [results[s.name] for s in students]
    files = _write_outputs(out, ordered_results, kit.checks)
    return ClassReport(ordered_results, kit.checks, out, len(students) - reused, reused, time.monotonic() - started, workers, files)


def _write_outputs(out: Path, results: list[StudentResult], checks: list[dict[str, Any]]) -> list[Path]:
    from labkit.grading.feedback import feedback_html
    from labkit.grading.report import class_report_html

    csv_path, json_path = write_gradebook(out, results, checks)
    feedback = out / "feedback"
    feedback.mkdir(exist_ok=True)
    wanted = {f"{r.student}.html" for r in results}
    for stray in feedback.iterdir():
        if stray.name not in wanted and stray.is_file():
            stray.unlink()
    for result in results:
        atomic_write(feedback / f"{result.student}.html", feedback_html(result).encode("utf-8"))
    report = out / "report.html"
    atomic_write(report, class_report_html(results, checks).encode("utf-8"))
    return [csv_path, json_path, report, feedback]


def check_notebook(path: Path, *, name: str | None = None, timeout: float = DEFAULT_TIMEOUT, release: Path | None = None) -> NotebookResult:
    """Grade one notebook as the grader would, public checks only (``labkit check``)."""
    path = Path(path)
    release = find_release(release)
    name = name or path.stem
    kit = Kit.load(release, [name], timeout=timeout)
    with LabServers() as servers:
        return Grader(kit, servers, timeout=timeout).grade(name, path, public_only=True)
