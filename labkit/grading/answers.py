"""The hand-over of a graded run's answers: plain data, one JSON line per ``lab.check`` call.

In a graded run the grader sets ``LABKIT_ANSWERS`` to a file it owns. ``lab.check(id, answer)``
then appends ``{"check": id, "answer": ...}`` to that file instead of judging in the kernel; the
grader judges later, outside the kernel. Answers travel as plain data only (numbers, strings,
lists, tuples, sets, dicts, bytes, ``None``): anything else is recorded as unanswerable, so no
object the learner made ever reaches the grader. Writing the file by hand is just answering.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from dataclasses import dataclass
from typing import Any

__all__ = ["HandedOver", "Unanswerable", "encode", "decode", "hand_over", "read_answers"]

MAX_LINE = 1_000_000  # bytes of one encoded answer
MAX_FILE = 20_000_000  # bytes of answers the grader reads
_MAX_DEPTH = 50


class Unanswerable(ValueError):
    """An answer that is not plain data (or is too large): the grader cannot take it."""


def encode(value: Any, _depth: int = 0) -> Any:
    """``value`` as JSON data; tuples, sets, bytes and non-string dict keys are tagged."""
    if _depth > _MAX_DEPTH:
        raise Unanswerable("it is nested too deeply")
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, list):
        return [encode(v, _depth + 1) for v in list.__iter__(value)]
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, _depth + 1) for v in tuple.__iter__(value)]}
    if isinstance(value, (set, frozenset)):
        tag = "$frozenset" if isinstance(value, frozenset) else "$set"
        return {tag: [encode(v, _depth + 1) for v in value]}
    if isinstance(value, dict):
        items = list(dict.items(value))
        if all(type(k) is str and not k.startswith("$") for k, _ in items):
            return {k: encode(v, _depth + 1) for k, v in items}
        return {"$dict": [[encode(k, _depth + 1), encode(v, _depth + 1)] for k, v in items]}
    raise Unanswerable(f"a {type(value).__module__}.{type(value).__qualname__} is not plain data")


def decode(data: Any) -> Any:
    """The plain value :func:`encode` made ``data`` from."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if isinstance(data, dict):
        if len(data) == 1:
            (tag, inner), = data.items()
            if tag == "$bytes" and isinstance(inner, str):
                return base64.b64decode(inner)
            if tag == "$tuple" and isinstance(inner, list):
                return tuple(decode(v) for v in inner)
            if tag in ("$set", "$frozenset") and isinstance(inner, list):
                items = [_hashable(decode(v)) for v in inner]
                return set(items) if tag == "$set" else frozenset(items)
            if tag == "$dict" and isinstance(inner, list):
                return {_hashable(decode(k)): decode(v) for k, v in (p for p in inner if isinstance(p, list) and len(p) == 2)}
        return {k: decode(v) for k, v in data.items()}
    return data


def _hashable(value: Any) -> Any:
    if isinstance(value, (list, dict, set)):
        raise Unanswerable("a set or dict key holds an unhashable value")
    return value


@dataclass(frozen=True)
class HandedOver:
    """What a check cell shows in a graded run: the answer went to the grader, who judges later."""

    check_id: str
    problem: str = ""

    def __repr__(self) -> str:
        if self.problem:
            return f"Check {self.check_id}: your answer cannot be graded ({self.problem})."
        return f"Check {self.check_id}: handed to the grader."

    def _repr_html_(self) -> str:
        import html

        return f"<div>{html.escape(repr(self))}</div>"


def hand_over(path: str, check_id: str, answer: Any) -> HandedOver:
    """Append one answer to the grader's answers file (called by ``lab.check`` in a graded run)."""
    record: dict[str, Any] = {"check": str(check_id)}
    problem = ""
    if answer is not None:
        try:
            line = json.dumps({"check": str(check_id), "answer": encode(answer)}, allow_nan=False)
            if len(line) > MAX_LINE:
                raise Unanswerable("it is larger than 1 MB")
        except (Unanswerable, ValueError, RecursionError) as err:
            problem = str(err) if isinstance(err, Unanswerable) else "it holds a value JSON cannot carry"
            record["unanswerable"] = problem
        else:
            record["answer"] = json.loads(line)["answer"]
    text = json.dumps(record) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)
    return HandedOver(str(check_id), problem)


def read_answers(path: str, check_ids: set[str]) -> dict[str, Any]:
    """The last answer the run gave each of ``check_ids``: a value, or an :class:`Unanswerable`.

    Reads at most 20 MB from a regular file (never follows a link or waits on a pipe); lines
    that are not well-formed hand-over records are ignored.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return {}
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return {}
        with os.fdopen(fd, "rb", closefd=False) as handle:
            raw = handle.read(MAX_FILE)
    finally:
        os.close(fd)
    answers: dict[str, Any] = {}
    for line in raw.split(b"\n"):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or record.get("check") not in check_ids:
            continue
        check_id = record["check"]
        if isinstance(record.get("unanswerable"), str):
            answers[check_id] = Unanswerable(record["unanswerable"][:200])
        elif "answer" in record:
            try:
                answers[check_id] = decode(record["answer"])
            except (Unanswerable, ValueError, TypeError) as err:
                answers[check_id] = Unanswerable(str(err)[:200])
    return answers
