"""Builds the notebooks learners open from their diffable text sources.

Sources are jupytext ``py:percent`` files:

* ``sources/notebooks/NAME.py`` becomes the lesson ``notebooks/NAME.ipynb``;
* ``sources/solutions/NAME.py`` becomes ``solutions/NAME.ipynb`` and, with the solution cut
  out, the exercise ``exercises/NAME.ipynb``.

Markers in a solution say what the exercise keeps:

* a cell tagged ``solution`` (``# %% tags=["solution"]``) is left out of the exercise;
* in a code cell, a line ``# solution`` cuts the rest of the cell from the exercise, which gets
  ``# Write your code here.`` instead; lines after it written ``# stub: CODE`` give the exercise
  ``CODE`` (for instance ``answer = None``) and are left out of the solution.

Generated notebooks carry no outputs, no cell ids and only kernelspec metadata. The same build
also keeps ``tests/reference/``: copies of the lessons and solutions with the outputs they
produce, recorded by ``labkit build --record``, against which nbval compares each run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit.errors import LabkitError
from labkit.kernel import DISPLAY_NAME, KERNEL_NAME

__all__ = ["Target", "targets", "build", "stale", "to_exercise", "render", "write_notebook"]

# The labkit kernel: its network guard holds from the first cell, before any `import labkit`.
KERNELSPEC = {"display_name": DISPLAY_NAME, "language": "python", "name": KERNEL_NAME}
_MARKER = "# solution"
_STUB = re.compile(r"^(\s*)# stub: ?(.*)$")
_WRITE_HERE = "# Write your code here."


@dataclass(frozen=True)
class Target:
    """One generated notebook and the source it comes from."""

    source: Path
    output: Path
    kind: str  # "lesson", "solution" or "exercise"


def targets(root: Path) -> list[Target]:
    """Every notebook the sources under ``root`` generate."""
    found = []
    for source in sorted((root / "sources" / "notebooks").glob("*.py")):
        found.append(Target(source, root / "notebooks" / f"{source.stem}.ipynb", "lesson"))
    for source in sorted((root / "sources" / "solutions").glob("*.py")):
        found.append(Target(source, root / "solutions" / f"{source.stem}.ipynb", "solution"))
        found.append(Target(source, root / "exercises" / f"{source.stem}.ipynb", "exercise"))
    return found


def _read(source: Path) -> Any:
    import jupytext

    return jupytext.read(source, fmt="py:percent")


def _clean(notebook: Any) -> Any:
    import nbformat

    cells = []
    for cell in notebook.cells:
        tags = [t for t in cell.get("metadata", {}).get("tags", []) if t != "solution"]
        metadata = {"tags": tags} if tags else {}
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(cell.source, metadata=metadata)
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(cell.source, metadata=metadata)
        else:
            new = nbformat.v4.new_raw_cell(cell.source, metadata=metadata)
        cells.append(new)
    clean = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": dict(KERNELSPEC)})
    clean.nbformat_minor = 4
    return clean


def _solution_source(source: str) -> str:
    lines = source.split("\n")
    if _MARKER not in (line.strip() for line in lines):
        return source
    return "\n".join(line for line in lines if not _STUB.match(line))


def _exercise_source(source: str) -> str:
    lines = source.split("\n")
    stripped = [line.strip() for line in lines]
    if _MARKER not in stripped:
        return source
    cut = stripped.index(_MARKER)
    indent = lines[cut][: len(lines[cut]) - len(lines[cut].lstrip())]
    stubs = [m.group(1) + m.group(2) for m in map(_STUB.match, lines[cut + 1 :]) if m]
    return "\n".join(lines[:cut] + [indent + _WRITE_HERE] + stubs)


def to_exercise(notebook: Any) -> Any:
    """The exercise for a solution notebook (as read from its source, tags intact)."""
    import copy

    exercise = copy.deepcopy(notebook)
    exercise.cells = [c for c in exercise.cells if "solution" not in c.get("metadata", {}).get("tags", [])]
    for cell in exercise.cells:
        if cell.cell_type == "code":
            cell.source = _exercise_source(cell.source)
    return exercise


def write_notebook(notebook: Any) -> str:
    """A notebook's JSON text as nbformat writes it, without cell ids (nbformat 4.4)."""
    from nbformat.v4.nbjson import JSONWriter

    for cell in notebook.cells:
        cell.pop("id", None)
    notebook.nbformat_minor = 4
    return JSONWriter().writes(notebook) + "\n"


def render(target: Target) -> str:
    """The text of the notebook ``target`` should hold."""
    import nbformat

    notebook = _read(target.source)
    if target.kind == "exercise":
        notebook = to_exercise(notebook)
    elif target.kind == "solution":
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.source = _solution_source(cell.source)
    return write_notebook(_clean(notebook))


def stale(root: Path) -> list[Path]:
    """Generated notebooks that are missing or differ from what their sources make."""
    out = []
    for target in targets(root):
        if not target.output.is_file() or target.output.read_text("utf-8") != render(target):
            out.append(target.output)
    return out


def build(root: Path) -> list[Path]:
    """Write every generated notebook that is out of date; returns the paths written."""
    if not (root / "sources").is_dir():
        raise LabkitError(f"{root} has no sources/ folder: run the build from the kit's top folder.")
    written = []
    for target in targets(root):
        text = render(target)
        if not target.output.is_file() or target.output.read_text("utf-8") != text:
            target.output.parent.mkdir(parents=True, exist_ok=True)
            target.output.write_text(text, "utf-8")
            written.append(target.output)
    return written
