"""Each student's feedback page: one self-contained HTML file, with nothing of the hidden checks.

For every exercise: its points and, when it did not pass, the learner-facing message and hint.
A hidden check appears only as "hidden check: passed/failed, N points": never its title, hint,
message or code. What happened during the run (a restored cell, a time limit) is listed too.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from labkit.grading.results import StudentResult, Verdict

__all__ = ["feedback_html"]

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1f2328}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}td,th{padding:.4rem .5rem;border-bottom:1px solid #d0d7de;text-align:left;vertical-align:top}
.ok{color:#1a7f37}.no{color:#cf222e}.pts{white-space:nowrap;text-align:right}.hint{color:#57606a}
.notes{background:#fff8c5;border:1px solid #d4a72c;padding:.5rem 1rem;border-radius:6px}
"""


def _row(v: Verdict) -> str:
    from labkit.checks import get_check

    mark = "<span class='ok'>✓</span>" if v.passed else "<span class='no'>✗</span>"
    points = f"<td class='pts'>{v.points}/{v.max_points}</td>"
    if v.hidden:
        state = "passed" if v.passed else "failed"
        return f"<tr><td>{mark}</td><td><i>hidden check: {state}, {v.max_points} point{'s' if v.max_points != 1 else ''}</i></td>{points}</tr>"
    try:
        spec = get_check(v.check_id)
        title, hint = spec.title, spec.hint
    except Exception:  # a check the kit no longer has: show its id only
        title, hint = v.check_id, ""
    detail = ""
    if not v.passed:
        detail = f"<br>{html.escape(v.message)}" if v.message else ""
        detail += f"<br><span class='hint'>Hint: {html.escape(hint)}</span>" if hint else ""
    return f"<tr><td>{mark}</td><td><b>{html.escape(v.check_id)}</b> {html.escape(title)}{detail}</td>{points}</tr>"


def feedback_html(result: StudentResult) -> str:
    """The feedback page for one student."""
    parts = [f"<h1>Feedback for {html.escape(result.student)}: {result.total}/{result.max_points} points</h1>"]
    for notebook in result.notebooks:
        parts.append(f"<h2>{html.escape(notebook.notebook)}.ipynb: {notebook.points}/{notebook.max_points} points</h2>")
        if notebook.notes:
            items = "".join(f"<li>{html.escape(n)}</li>" for n in notebook.notes)
            parts.append(f"<div class='notes'><b>While grading this notebook:</b><ul>{items}</ul></div>")
        parts.append("<table>" + "".join(_row(v) for v in notebook.verdicts) + "</table>")
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>Feedback: {html.escape(result.student)}</title><style>{_STYLE}</style></head>"
        f"<body>\n{body}\n</body></html>\n"
    )
