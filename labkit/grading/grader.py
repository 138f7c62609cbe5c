"""Grades one submitted notebook: a fresh lab account and kernel, verdicts from outside the kernel.

What counts comes from the released kit: which checks exist, their points and code (the
registry in labkit.checks), and the check cells (the kit's ``exercises/`` folder). A submission
only supplies its code and, through the hand-over file, its answers as plain data.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit.errors import LabkitError
from labkit.grading.answers import Unanswerable, encode, read_answers
from labkit.grading.normalise import BadNotebook, Released, load_released, prepare, read_submission
from labkit.grading.results import NotebookResult, Verdict
from labkit.grading.runner import Run
from labkit.grading.servers import LabServers, ServerLost

__all__ = ["Kit", "Grader", "Aborted", "find_release", "check_notebook", "DEFAULT_TIMEOUT"]

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


def _kernel_env(url: str, token: str, answers: Path, scratch: Path, scenario: Any) -> dict[str, str]:
    from labkit.identity import admin_credentials

    key, secret = admin_credentials(scenario.account_id)
    dropped = ("AWS_", "LABKIT_", "MOTO_", "JPY_", "JUPYTER_", "IPYTHON", "PYTHONSTARTUP", "PYTHONHASHSEED")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.update(
        LABKIT_SERVER=url,
        LABKIT_SERVER_TOKEN=token,
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


_SCRATCH = "labkit-grade-"


def _sweep_scratch() -> None:
    """Remove run folders left by graders that were killed (their process is gone)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_SCRATCH}*-*"):
        try:
            pid = int(folder.name[len(_SCRATCH):].split("-")[0])
            os.kill(pid, 0)
        except ValueError:
            continue
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


class Aborted(Exception):
    """The grader was stopped (Ctrl-C) while this notebook ran."""


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
        self._untouched_lock = threading.Lock()
        self._runs: set[Run] = set()
        self._cancel = threading.Event()
        _sweep_scratch()

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
        with self._untouched_lock:
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

    def failed(self, name: str, err: BaseException) -> NotebookResult:
        """The result of a notebook the grader itself failed on: nothing earned, graded again next run."""
        note = f"the grader failed on this notebook ({type(err).__name__}: {err}); it will be graded again on the next run"
        verdicts = [Verdict(c["id"], False, 0, c["points"], c["hidden"], "not graded") for c in self.kit.checks if c["notebook"] == name]
        return NotebookResult(name, "error", [note], verdicts)

    def grade(self, name: str, path: Path | None, *, public_only: bool = False) -> NotebookResult:
        """Grade one submitted notebook (``path`` None or absent: a missing notebook)."""
        if self._cancel.is_set():
            raise Aborted
        if path is None or not path.is_file():
            return NotebookResult(name, "missing", [f"missing from the submission: {_UNTOUCHED}"], self._verdicts(name, self.untouched(name), {}, public_only))
        try:
            prepared = prepare(self.kit.released[name], read_submission(path))
        except BadNotebook as err:
            return NotebookResult(name, "unreadable", [f"{err}: {_UNTOUCHED}"], self._verdicts(name, self.untouched(name), {}, public_only))
        check_ids = self._check_ids(name, public_only)
        scratch = Path(tempfile.mkdtemp(prefix=f"{_SCRATCH}{os.getpid()}-"))
        server = self.servers.spawn()
        try:
            (scratch / "work").mkdir()
            answers_file = scratch / "answers.jsonl"
            answers_file.touch(mode=0o600)
            run = Run(prepared.cells, env=_kernel_env(server.url, server.token, answers_file, scratch, self.scenario), cwd=str(scratch / "work"), timeout=self.timeout)
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
                raise Aborted
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


def check_notebook(path: Path, *, name: str | None = None, timeout: float = DEFAULT_TIMEOUT, release: Path | None = None) -> NotebookResult:
    """Grade one notebook as the grader would, public checks only (``labkit check``)."""
    path = Path(path)
    release = find_release(release)
    name = name or path.stem
    kit = Kit.load(release, [name], timeout=timeout)
    with LabServers() as servers:
        return Grader(kit, servers, timeout=timeout).grade(name, path, public_only=True)
