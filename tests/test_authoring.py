"""Notebooks are built from text sources; exercises are cut from solutions; nothing is stale."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from labkit.authoring import KERNELSPEC, build, render, stale, targets, to_exercise
from labkit.cli import main
from labkit.recording import stale_references

ROOT = Path(__file__).resolve().parent.parent


def _solution(cells):
    nb = nbformat.v4.new_notebook()
    for source, tags in cells:
        nb.cells.append(nbformat.v4.new_code_cell(source, metadata={"tags": tags} if tags else {}))
    return nb


def test_solution_marker__cuts_the_rest_of_the_cell_and_leaves_a_stub():
    nb = _solution([("import boto3\n# solution\n# stub: answer = None\nanswer = 42", [])])
    assert to_exercise(nb).cells[0].source == "import boto3\n# Write your code here.\nanswer = None"


def test_solution_marker__keeps_indentation():
    nb = _solution([("def f():\n    # solution\n    return 1", [])])
    assert to_exercise(nb).cells[0].source == "def f():\n    # Write your code here."


def test_cells_tagged_solution__are_left_out_of_the_exercise():
    nb = _solution([("shown = 1", []), ("secret = 2", ["solution"])])
    assert [c.source for c in to_exercise(nb).cells] == ["shown = 1"]


def test_cells_without_markers__are_kept_unchanged():
    nb = _solution([("lab.check('users.1')", [])])
    assert to_exercise(nb).cells[0].source == "lab.check('users.1')"


def test_every_solution__has_an_exercise_twin_and_every_source_a_notebook():
    solutions = {p.name for p in (ROOT / "solutions").glob("*.ipynb")}
    exercises = {p.name for p in (ROOT / "exercises").glob("*.ipynb")}
    assert solutions and solutions == exercises
    generated = {t.output for t in targets(ROOT)}
    on_disk = {p for d in ("notebooks", "solutions", "exercises") for p in (ROOT / d).glob("*.ipynb")}
    assert on_disk == generated, "a notebook without a source, or a source without its notebook"


def test_generated_notebooks__are_up_to_date():
    assert stale(ROOT) == [], "run `make notebooks` (labkit build --record) and commit the result"


def test_reference_notebooks__match_the_lessons_and_solutions():
    assert stale_references(ROOT) == [], "run `make notebooks` to re-record tests/reference"


@pytest.mark.parametrize("target", targets(ROOT), ids=lambda t: f"{t.kind}:{t.output.name}")
def test_generated_notebook__has_no_outputs_ids_or_volatile_metadata(target):
    raw = json.loads(render(target))
    assert raw["metadata"] == {"kernelspec": KERNELSPEC}
    for cell in raw["cells"]:
        assert "id" not in cell
        assert set(cell.get("metadata", {})) <= {"tags"}
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


def test_exercises__contain_no_solution_code():
    for target in targets(ROOT):
        if target.kind == "exercise":
            text = render(target)
            assert "# solution" not in text and "# stub:" not in text


def test_build__writes_only_what_changed_and_check_reports_stale(tmp_path, capsys):
    for folder in ("sources", "notebooks", "solutions", "exercises", "tests"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    assert build(tmp_path) == []
    assert main(["build", "--check", "--root", str(tmp_path)]) == 0
    source = tmp_path / "sources" / "solutions" / "00_welcome.py"
    source.write_text(source.read_text() + "\n# %%\nprint('new cell')\n")
    assert main(["build", "--check", "--root", str(tmp_path)]) == 1
    assert "out of date: exercises/00_welcome.ipynb" in capsys.readouterr().out
    assert {p.name for p in build(tmp_path)} == {"00_welcome.ipynb"}
