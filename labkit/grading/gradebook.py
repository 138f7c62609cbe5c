"""The grading folder: one result file per student (for resuming), and the class's gradebook.

``DIR/.results/<student>.json`` is written as each student finishes, with a key naming what was
graded (the submission's files, the released kit, the time limit); a later run reuses a result
whose key still matches. ``DIR/gradebook.csv`` and ``DIR/gradebook.json`` are written from the
grader's memory once every student is graded. Every file is written whole or not at all
(a temporary file, then an atomic rename), so an interrupted run never leaves half a file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from labkit.grading.results import StudentResult

__all__ = ["atomic_write", "submission_key", "ResultStore", "OutputGuard", "write_gradebook", "gradebook_rows", "OWNED"]

_VERSION = 1
#: What the grader owns in its output folder: no one else's writes there survive a run.
OWNED = ("gradebook.csv", "gradebook.json", "report.html", "feedback", ".results")
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step (a reader sees the old file or the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # as open() would make it, not mkstemp's 0600
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def submission_key(folder: Path, notebooks: Iterable[str], kit: str) -> str:
    """A hash of a student's graded files (present or not) and of the kit that grades them."""
    digest = hashlib.sha256(kit.encode())
    for name in notebooks:
        path = folder / f"{name}.ipynb"
        digest.update(f"\0{name}\0".encode())
        try:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError as err:
            digest.update(f"unreadable:{type(err).__name__}".encode())
    return digest.hexdigest()


class OutputGuard:
    """Undoes every change to the grader's files in ``out`` that the grader did not make itself.

    Taken before any kernel runs; :meth:`restore` (once the kernels are gone) puts back what was
    there, removes what was added, and keeps what :meth:`record` says the grader wrote.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self.before = self._files()
        self.folders = self._folders()
        self.ours: dict[Path, bytes] = {}

    def _folders(self) -> set[Path]:
        return {Path(r) / d for name in OWNED for r, dirs, _ in os.walk(self.out / name) for d in dirs} | {
            self.out / name for name in OWNED if (self.out / name).is_dir() and not (self.out / name).is_symlink()
        }

    def _files(self) -> dict[Path, bytes]:
        found: dict[Path, bytes] = {}
        for name in OWNED:
            top = self.out / name
            paths = [top] if not top.is_dir() or top.is_symlink() else [Path(r) / f for r, _, files in os.walk(top) for f in files]
            for path in paths:
                if path.is_symlink() or path.is_file():
                    try:
                        found[path] = b"" if path.is_symlink() else path.read_bytes()
                    except OSError:
                        pass
        return found

    def record(self, path: Path, data: bytes) -> None:
        self.ours[path] = data

    def restore(self) -> list[Path]:
        """Undo foreign changes; returns the paths that were put back or removed."""
        undone = []
        now = set(self._files())
        for path in now - set(self.before) - set(self.ours):
            path.unlink(missing_ok=True)
            undone.append(path)
        for path, data in {**self.before, **self.ours}.items():
            try:
                same = not path.is_symlink() and path.read_bytes() == data
            except OSError:
                same = False
            if not same:
                if path.is_symlink():
                    path.unlink()
                elif path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                atomic_write(path, data)
                undone.append(path)
        for folder in sorted(self._folders() - self.folders, key=lambda p: len(p.parts), reverse=True):
            try:
                folder.rmdir()  # only if empty: a folder that now holds the grader's files stays
                undone.append(folder)
            except OSError:
                pass
        return undone


class ResultStore:
    """``DIR/.results``: each graded student's result and the key it was graded under."""

    def __init__(self, out: Path, *, guard: OutputGuard | None = None) -> None:
        self.folder = out / ".results"
        self.guard = guard

    def _path(self, student: str) -> Path:
        return self.folder / f"{student}.json"

    def _encode(self, result: StudentResult, key: str) -> bytes:
        return json.dumps({"version": _VERSION, "key": key, "result": result.to_dict()}, indent=1, sort_keys=True).encode()

    def load(self, student: str, key: str) -> StudentResult | None:
        """The stored result for ``student`` if it was graded under ``key`` (else None)."""
        try:
            data = json.loads(self._path(student).read_bytes())
            if data["version"] != _VERSION or data["key"] != key or data["result"]["student"] != student:
                return None
            return StudentResult.from_dict(data["result"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, result: StudentResult, key: str) -> None:
        """Store a result, unless the same bytes are already there."""
        data = self._encode(result, key)
        path = self._path(result.student)
        if self.guard is not None:
            self.guard.record(path, data)
        try:
            if path.read_bytes() == data:
                return
        except OSError:
            pass
        atomic_write(path, data)

    def sweep(self) -> None:
        """Remove temporary files an interrupted write left behind."""
        if self.folder.is_dir():
            for leftover in self.folder.glob(".*.tmp"):
                try:
                    leftover.unlink()
                except OSError:
                    pass


def _cell(text: str) -> str:
    # A student id is text for the LMS, never a spreadsheet formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def gradebook_rows(results: list[StudentResult], check_ids: list[str]) -> list[list[Any]]:
    rows: list[list[Any]] = [["student", "total", "max", *check_ids]]
    for result in results:
        verdicts = result.verdicts
        rows.append([_cell(result.student), result.total, result.max_points, *(verdicts[c].points if c in verdicts else 0 for c in check_ids)])
    return rows


def write_gradebook(out: Path, results: list[StudentResult], checks: list[dict[str, Any]]) -> tuple[Path, Path]:
    """Write ``gradebook.csv`` (one row per student) and ``gradebook.json`` (every verdict)."""
    check_ids = [c["id"] for c in checks]
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(gradebook_rows(results, check_ids))
    csv_path, json_path = out / "gradebook.csv", out / "gradebook.json"
    atomic_write(csv_path, text.getvalue().encode("utf-8"))
    book = {"max": sum(c["points"] for c in checks), "checks": checks, "students": [r.to_dict() for r in results]}
    atomic_write(json_path, (json.dumps(book, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
    return csv_path, json_path
