"""The "check my work" cell: every public check of an exercise notebook, run here, summed up.

It says "public checks passed", never "all passed": the grader runs the same checks, and
hidden ones too, on the account and answers of a fresh run of the whole notebook.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from labkit.checks import CheckResult, _LabContext, all_checks, evaluate
from labkit.errors import LabkitError

__all__ = ["WorkReport", "check_my_work"]


@dataclass(frozen=True)
class WorkReport:
    """The public checks of one exercise notebook, as they stand in this kernel."""

    notebook: str
    results: tuple[CheckResult, ...]
    hidden: int  # how many hidden checks the grader will run as well

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def points(self) -> int:
        return sum(r.points for r in self.results)

    @property
    def max_points(self) -> int:
        return sum(r.max_points for r in self.results)

    @property
    def headline(self) -> str:
        text = f"Public checks passed: {self.passed}/{len(self.results)} ({self.points}/{self.max_points} points)."
        if self.hidden:
            text += f" The grader also runs {self.hidden} hidden check{'s' if self.hidden != 1 else ''}."
        return text

    def __repr__(self) -> str:
        return "\n".join([repr(r) for r in self.results] + [self.headline])

    def _repr_html_(self) -> str:
        rows = "".join(r._repr_html_() for r in self.results)
        return f"<div>{rows}<p><b>{html.escape(self.headline)}</b></p></div>"


def check_my_work(lab: Any, notebook: str) -> WorkReport:
    """Run every public check of ``notebook`` on ``lab``, with the answers its check cells got."""
    public = all_checks(notebook=notebook, include_hidden=False)
    if not public:
        known = sorted({c.notebook for c in all_checks()})
        raise LabkitError(f"There is no exercise notebook {notebook!r} with checks. Exercise notebooks: {', '.join(known)}")
    results = tuple(evaluate(c.id, _LabContext(lab, lab.answers.get(c.id))) for c in public)
    hidden = len(all_checks(notebook=notebook)) - len(public)
    return WorkReport(notebook, results, hidden)
