"""Graded checks: small functions with points and a hint, run against a lab account.

A check reads the account through boto3 (``ctx.client("iam")``) and the learner's answer, if
it takes one (``ctx.answer``), and raises :class:`Fail` with a short message when the work is not
done. Checks never look inside the learner's kernel, so a grader can run the very same checks
from outside the notebook, on an account and answers it holds itself.
"""

from __future__ import annotations

import html
import importlib
import pkgutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from labkit.errors import CheckFailed, LabkitError

__all__ = ["Check", "CheckContext", "CheckResult", "Fail", "check", "get_check", "all_checks", "evaluate", "run_check"]


class Fail(Exception):
    """Raised by a check function: the work is not done yet, and ``message`` says what is missing."""


class CheckContext(Protocol):
    """What a check may use: admin clients for the account under test, and the learner's answer."""

    answer: Any

    def client(self, service: str) -> Any: ...


@dataclass(frozen=True)
class Check:
    id: str
    points: int
    hint: str
    hidden: bool
    func: Callable[[CheckContext], None]
    title: str
    notebook: str  # the exercise notebook the check belongs to, e.g. "01_users_and_groups"


@dataclass(frozen=True)
class CheckResult:
    check_id: str
    passed: bool
    points: int
    max_points: int
    message: str
    hint: str = ""

    def __repr__(self) -> str:
        if self.passed:
            return f"✓ Check {self.check_id} passed: {self.points}/{self.max_points} points. {self.message}".rstrip()
        text = f"✗ Check {self.check_id} did not pass (0/{self.max_points} points): {self.message}"
        return f"{text}\nHint: {self.hint}" if self.hint else text

    def _repr_html_(self) -> str:
        if self.passed:
            return (
                f"<div style='color:#1a7f37'><b>✓ Check {html.escape(self.check_id)} passed</b>: "
                f"{self.points}/{self.max_points} points. {html.escape(self.message)}</div>"
            )
        hint = f"<br><i>Hint:</i> {html.escape(self.hint)}" if self.hint else ""
        return (
            f"<div style='color:#cf222e'><b>✗ Check {html.escape(self.check_id)} did not pass</b> "
            f"(0/{self.max_points} points): {html.escape(self.message)}{hint}</div>"
        )


_REGISTRY: dict[str, Check] = {}
_loaded = False


def check(check_id: str, *, points: int = 1, hint: str = "", hidden: bool = False) -> Callable[[Callable[[CheckContext], None]], Callable[[CheckContext], None]]:
    """Register a check function under ``check_id``."""

    def register(func: Callable[[CheckContext], None]) -> Callable[[CheckContext], None]:
        if check_id in _REGISTRY:
            raise LabkitError(f"check id {check_id!r} is registered twice")
        title = (func.__doc__ or "").strip().splitlines()[0] if func.__doc__ else check_id
        notebook = getattr(sys.modules[func.__module__], "NOTEBOOK", "")
        _REGISTRY[check_id] = Check(check_id, points, hint, hidden, func, title, notebook)
        return func

    return register


def _load() -> None:
    global _loaded
    if not _loaded:
        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")
        _loaded = True


def all_checks(*, notebook: str | None = None, include_hidden: bool = True) -> list[Check]:
    """Every registered check (of one exercise notebook, if given), by id."""
    _load()
    return [
        c
        for _, c in sorted(_REGISTRY.items())
        if (include_hidden or not c.hidden) and (notebook is None or c.notebook == notebook)
    ]


def get_check(check_id: str) -> Check:
    _load()
    try:
        return _REGISTRY[check_id]
    except KeyError:
        prefix = check_id.split(".")[0]
        known = sorted(k for k in _REGISTRY if k.startswith(prefix + ".")) or sorted(_REGISTRY)
        raise LabkitError(f"There is no check named {check_id!r}. Checks with that prefix: {', '.join(known)}") from None


def evaluate(check_id: str, ctx: CheckContext) -> CheckResult:
    """Run one check and return its result; never raises for a failing or crashing check."""
    spec = get_check(check_id)
    try:
        spec.func(ctx)
    except Fail as fail:
        return CheckResult(spec.id, False, 0, spec.points, str(fail), spec.hint)
    except Exception as err:  # the learner's account can be in any state: report, don't crash
        message = f"the check could not inspect your work ({type(err).__name__}: {err})"
        return CheckResult(spec.id, False, 0, spec.points, message, spec.hint)
    return CheckResult(spec.id, True, spec.points, spec.points, "")


@dataclass
class _LabContext:
    lab: Any
    answer: Any

    def client(self, service: str) -> Any:
        return self.lab.client(service)


def run_check(check_id: str, lab: Any, *, answer: Any = None) -> CheckResult:
    """Run a check in a notebook: returns the passing result, raises CheckFailed otherwise."""
    result = evaluate(check_id, _LabContext(lab, answer))
    if not result.passed:
        raise CheckFailed(result.check_id, f"{result.message} (0/{result.max_points} points)", result.hint or None)
    return result
