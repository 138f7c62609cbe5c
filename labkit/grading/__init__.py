"""Grading: one command grades a class, one command checks a notebook, and verdicts come from outside the kernel."""

from __future__ import annotations

from typing import Any

__all__ = ["grade_class", "check_notebook", "ClassReport", "StudentResult", "NotebookResult", "Verdict"]


def __getattr__(name: str) -> Any:  # pragma: no cover - trivial lazy import
    # labkit.lab imports labkit.grading.answers inside every graded kernel: keep this package light.
    if name in ("grade_class", "ClassReport"):
        from labkit.grading import classroom

        return getattr(classroom, name)
    if name == "check_notebook":
        from labkit.grading.grader import check_notebook

        return check_notebook
    if name in ("StudentResult", "NotebookResult", "Verdict"):
        from labkit.grading import results

        return getattr(results, name)
    raise AttributeError(f"module 'labkit.grading' has no attribute {name!r}")
