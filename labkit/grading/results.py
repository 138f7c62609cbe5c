"""What grading found, as plain dataclasses that render themselves and round-trip through JSON."""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Verdict", "NotebookResult", "StudentResult"]


@dataclass(frozen=True)
class Verdict:
    """One check's outcome for one learner. Points and visibility come from the kit, not the run."""

    check_id: str
    passed: bool
    points: int
    max_points: int
    hidden: bool
    message: str = ""  # why it did not pass (for a hidden check: for the instructor only)

    def __str__(self) -> str:
        mark = "✓" if self.passed else "✗"
        text = f"{mark} {self.check_id}: {self.points}/{self.max_points}"
        return text if self.passed or not self.message else f"{text}  {self.message}"


@dataclass
class NotebookResult:
    """One exercise notebook of one submission: how its run went, and its checks' verdicts."""

    notebook: str
    status: str  # "graded", "missing", "unreadable", "server lost" or "error" (the grader's own failure)
    notes: list[str] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def points(self) -> int:
        return sum(v.points for v in self.verdicts)

    @property
    def max_points(self) -> int:
        return sum(v.max_points for v in self.verdicts)

    @property
    def reason(self) -> str:
        return f"{self.notebook}.ipynb: " + "; ".join(self.notes) if self.notes else ""

    def public(self) -> NotebookResult:
        """The same result without hidden checks (what ``labkit check`` shows a learner)."""
        return NotebookResult(self.notebook, self.status, list(self.notes), [v for v in self.verdicts if not v.hidden])

    def __str__(self) -> str:
        lines = [str(v) for v in self.verdicts]
        lines += [f"note: {n}" for n in self.notes]
        passed = sum(v.passed for v in self.verdicts)
        hidden = any(v.hidden for v in self.verdicts)
        label = "checks passed" if hidden else "public checks passed"
        lines.append(f"{label}: {passed}/{len(self.verdicts)} ({self.points}/{self.max_points} points)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{'✓' if v.passed else '✗'}</td><td>{html.escape(v.check_id)}</td><td>{v.points}/{v.max_points}</td>"
            f"<td>{html.escape(v.message)}</td></tr>"
            for v in self.verdicts
        )
        return f"<table>{rows}</table><pre>{html.escape(str(self).splitlines()[-1])}</pre>"


@dataclass
class StudentResult:
    """Everything one student's submission earned, across the graded notebooks."""

    student: str
    notebooks: list[NotebookResult] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(n.points for n in self.notebooks)

    @property
    def max_points(self) -> int:
        return sum(n.max_points for n in self.notebooks)

    @property
    def reason(self) -> str:
        """What went wrong or was repaired while grading, in one line ("" when nothing did)."""
        return "; ".join(n.reason for n in self.notebooks if n.notes)

    @property
    def verdicts(self) -> dict[str, Verdict]:
        return {v.check_id: v for n in self.notebooks for v in n.verdicts}

    def to_dict(self) -> dict[str, Any]:
        return {"student": self.student, "total": self.total, "max": self.max_points, "reason": self.reason,
                "notebooks": [asdict(n) for n in self.notebooks]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudentResult:
        notebooks = []
        for n in data["notebooks"]:
            verdicts = [Verdict(**v) for v in n["verdicts"]]
            notebooks.append(NotebookResult(str(n["notebook"]), str(n["status"]), [str(x) for x in n["notes"]], verdicts))
        return cls(str(data["student"]), notebooks)

    def __str__(self) -> str:
        text = f"{self.student}: {self.total}/{self.max_points}"
        return f"{text} ({self.reason})" if self.reason else text

    def _repr_html_(self) -> str:
        from labkit.grading.feedback import feedback_html

        return feedback_html(self)
