"""The instructor's class report: score distribution, pass rate per check, and every student's row."""

from __future__ import annotations

import base64
import html
import io
from typing import Any
from urllib.parse import quote

from labkit.grading.results import StudentResult

__all__ = ["class_report_html"]

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#1f2328}
table{border-collapse:collapse}td,th{padding:.3rem .6rem;border-bottom:1px solid #d0d7de;text-align:left}
img{max-width:100%}.num{text-align:right}
"""


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _plots(results: list[StudentResult], checks: list[dict[str, Any]], maximum: int) -> tuple[str, str]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from labkit.plots import STYLE

    with plt.style.context(STYLE):
        fig, ax = plt.subplots(figsize=(8, 3.5))
        totals = [r.total for r in results]
        ax.hist(totals, bins=range(0, maximum + 2), align="left", rwidth=0.85)
        ax.set_xlabel("points")
        ax.set_ylabel("students")
        ax.set_xlim(-0.5, maximum + 0.5)
        ax.set_title(f"Score distribution ({len(results)} students, out of {maximum})")
        fig.tight_layout()
        histogram = _png(fig)

        fig, ax = plt.subplots(figsize=(8, 0.9 + 0.35 * len(checks)))
        labels = [c["id"] + (" (hidden)" if c["hidden"] else "") for c in checks]
        rates = [100 * sum(r.verdicts.get(c["id"]) is not None and r.verdicts[c["id"]].passed for r in results) / max(len(results), 1) for c in checks]
        ax.barh(labels[::-1], rates[::-1])
        ax.set_xlim(0, 100)
        ax.set_xlabel("% of students who passed")
        ax.set_title("Pass rate per check")
        fig.tight_layout()
        rates_png = _png(fig)
    return histogram, rates_png


def class_report_html(results: list[StudentResult], checks: list[dict[str, Any]]) -> str:
    """A self-contained HTML page for the instructor."""
    maximum = sum(c["points"] for c in checks)
    histogram, rates = _plots(results, checks, maximum)
    totals = sorted(r.total for r in results)
    mean = sum(totals) / len(totals) if totals else 0.0
    median = totals[len(totals) // 2] if totals else 0
    head = "".join(f"<th>{html.escape(c['id'])}</th>" for c in checks)
    rows = []
    for r in results:
        cells = "".join(f"<td class='num'>{r.verdicts[c['id']].points if c['id'] in r.verdicts else 0}</td>" for c in checks)
        rows.append(
            f"<tr><td><a href='feedback/{html.escape(quote(r.student))}.html'>{html.escape(r.student)}</a></td>"
            f"<td class='num'>{r.total}/{r.max_points}</td>{cells}<td>{html.escape(r.reason)}</td></tr>"
        )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>Class report</title>"
        f"<style>{_STYLE}</style></head><body>\n"
        f"<h1>Class report</h1><p>{len(results)} students · mean {mean:.1f}/{maximum} · median {median}/{maximum}</p>\n"
        f"<img alt='Score distribution' src='{histogram}'>\n<img alt='Pass rate per check' src='{rates}'>\n"
        f"<h2>Students</h2><table><tr><th>student</th><th>total</th>{head}<th>notes</th></tr>{''.join(rows)}</table>\n"
        "</body></html>\n"
    )
