"""Every graded check fails on the unsolved exercise and passes on its solution, hidden checks too."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from labkit.checks import all_checks

ROOT = Path(__file__).resolve().parent.parent

# Appended to a notebook after it ran: evaluates every check of the notebook, hidden ones
# included, from the registry, on the kernel's lab account and the answers its check cells got.
VERDICTS = """
import json
from labkit.checks import all_checks, evaluate
from labkit.lab import current_lab

class _Context:
    def __init__(self, lab, answer):
        self.lab, self.answer = lab, answer
    def client(self, service):
        return self.lab.client(service)

_lab = current_lab()
print(json.dumps({c.id: evaluate(c.id, _Context(_lab, _lab.answers.get(c.id))).passed for c in all_checks(notebook=NOTEBOOK)}))
"""


def _run(path: Path) -> tuple[nbformat.NotebookNode, dict[str, bool]]:
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(VERDICTS.replace("NOTEBOOK", repr(path.stem))))
    NotebookClient(notebook, timeout=180, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(path.parent)}}).execute()
    last = notebook.cells[-1].outputs
    assert last and last[0].get("name") == "stdout", f"the verdict cell failed: {last}"
    return notebook, json.loads(last[0]["text"])


def _check_cells(notebook: nbformat.NotebookNode) -> dict[str, list]:
    cells = {}
    for cell in notebook.cells:
        match = re.search(r"lab\.check\(\"([\w.]+)\"", cell.source) if cell.cell_type == "code" else None
        if match:
            cells[match.group(1)] = cell.outputs
    return cells


EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.stem)
def test_every_check__fails_on_the_unsolved_exercise(path):
    notebook, verdicts = _run(path)
    expected = {c.id for c in all_checks(notebook=path.stem)}
    assert set(verdicts) == expected and expected
    assert not any(verdicts.values()), f"checks passing with no work done: {[k for k, v in verdicts.items() if v]}"
    for check_id, outputs in _check_cells(notebook).items():
        errors = [o for o in outputs if o.output_type == "error"]
        assert errors and errors[0].ename == "CheckFailed", f"{check_id}: {outputs}"
        assert len(errors[0].traceback) <= 3, "a failing check shows a short message, not a traceback"


@pytest.mark.slow
@pytest.mark.parametrize("path", [ROOT / "solutions" / p.name for p in EXERCISES], ids=lambda p: p.stem)
def test_every_check__passes_on_the_solution(path):
    notebook, verdicts = _run(path)
    assert verdicts and all(verdicts.values()), f"checks failing on the solution: {[k for k, v in verdicts.items() if not v]}"
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    visible = {c.id for c in all_checks(notebook=path.stem, include_hidden=False)}
    assert set(_check_cells(notebook)) == visible, "every visible check has its check cell"
