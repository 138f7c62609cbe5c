"""Turns a submission into the notebook a graded run executes, against the released exercise.

What the learner wrote runs as they wrote it; what the kit owns comes from the kit. Every check
cell of the released exercise runs exactly once, with the released code: a deleted one is
restored, a duplicate dropped, one moved out of its exercise put back at the end of it. A check
cell the learner edited stays as their own code (it may hold their work), and the released cell
runs after it. Outputs and metadata in the submission are ignored. The "check my work" cell is
left out: it judges in the kernel, and in a graded run nothing is judged there.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit.errors import BadNotebook, LabkitError

__all__ = ["Released", "RunCell", "Prepared", "BadNotebook", "load_released", "read_submission", "prepare"]

MAX_NOTEBOOK_BYTES = 50_000_000
_CHECK_CALL = re.compile(r"""\.check\(\s*["']([\w.\-]+)["']""")
_CHECK_CELL = re.compile(r"""^lab\.check\(\s*["']([\w.\-]+)["'][^\n]*\)$""")
_MY_WORK = re.compile(r"""^lab\.check_my_work\([^\n]*\)$""")


@dataclass(frozen=True)
class Released:
    """A released exercise notebook: its cells, and which of them are check cells (by check id)."""

    name: str
    cells: tuple[tuple[str, str], ...]  # (cell_type, source)
    check_cells: dict[int, str]  # released cell index -> check id
    my_work: frozenset[int] = frozenset()

    @property
    def check_ids(self) -> list[str]:
        return [self.check_cells[i] for i in sorted(self.check_cells)]


@dataclass(frozen=True)
class RunCell:
    """One code cell of the graded run, and where it came from (for messages to the learner)."""

    source: str
    origin: str  # "cell 7 (`while True:`)" or "the check cell for users.3"


@dataclass
class Prepared:
    """The cells a graded run executes, and what normalising the submission changed."""

    cells: list[RunCell]
    notes: list[str] = field(default_factory=list)


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def _cells(notebook: dict[str, Any]) -> list[tuple[str, str]]:
    cells = notebook.get("cells")
    if cells is None and isinstance(notebook.get("worksheets"), list):  # nbformat 3
        cells = [c for ws in notebook["worksheets"] if isinstance(ws, dict) for c in ws.get("cells", [])]
        cells = [dict(c, source=c.get("input", c.get("source", ""))) for c in cells if isinstance(c, dict)]
    if not isinstance(cells, list):
        raise BadNotebook("not a Jupyter notebook (it has no list of cells)")
    out = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            raise BadNotebook("not a Jupyter notebook (a cell without a valid cell_type)")
        out.append((cell["cell_type"], _source(cell)))
    return out


def read_submission(path: Path) -> list[tuple[str, str]]:
    """The (cell_type, source) cells of a submitted notebook; :class:`BadNotebook` if unusable."""
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            raise BadNotebook(f"larger than {MAX_NOTEBOOK_BYTES // 1_000_000} MB")
        raw = path.read_bytes()
    except OSError as err:
        raise BadNotebook(f"cannot be read ({err.strerror or err})") from None
    try:
        notebook = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise BadNotebook("not valid JSON (not UTF-8 text)") from None
    except json.JSONDecodeError as err:
        raise BadNotebook(f"not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})") from None
    if not isinstance(notebook, dict) or "nbformat" not in notebook:
        raise BadNotebook("not a Jupyter notebook (valid JSON, but no nbformat version)")
    return _cells(notebook)


def load_released(path: Path) -> Released:
    """A released exercise notebook from the kit's ``exercises/`` folder."""
    try:
        cells = _cells(json.loads(path.read_text("utf-8")))
    except (OSError, ValueError, BadNotebook) as err:
        raise LabkitError(f"cannot read the released exercise {path}: {err}") from None
    checks = {}
    my_work = set()
    for index, (kind, source) in enumerate(cells):
        if kind != "code":
            continue
        match = _CHECK_CELL.match(source.strip())
        if match:
            checks[index] = match.group(1)
        elif _MY_WORK.match(source.strip()):
            my_work.add(index)
    return Released(path.stem, tuple(cells), checks, frozenset(my_work))


def _origin(number: int, source: str) -> str:
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    if len(first) > 40:
        first = first[:37] + "..."
    return f"cell {number} (`{first}`)" if first else f"cell {number}"


def prepare(released: Released, submitted: list[tuple[str, str]]) -> Prepared:
    """The graded run of ``submitted`` (cells as read by :func:`read_submission`)."""
    check_source = {cid: released.cells[i][1].strip() for i, cid in released.check_cells.items()}
    by_source = {source: cid for cid, source in check_source.items()}
    my_work_sources = {released.cells[i][1].strip() for i in released.my_work}

    # Anchors: released cells that are neither check cells nor "check my work", found unchanged
    # in the submission, matched in order.
    anchor_rel = [i for i in range(len(released.cells)) if i not in released.check_cells and i not in released.my_work]
    anchor_sub = list(range(len(submitted)))
    matcher = difflib.SequenceMatcher(
        None,
        [(released.cells[i][0], released.cells[i][1].strip()) for i in anchor_rel],
        [(k, s.strip()) for k, s in submitted],
        autojunk=False,
    )
    position: dict[int, int] = {}  # released index -> submission index
    for block in matcher.get_matching_blocks():
        for offset in range(block.size):
            position[anchor_rel[block.a + offset]] = anchor_sub[block.b + offset]

    def segment(rel_index: int) -> tuple[int, int]:
        before = [position[i] for i in range(rel_index) if i in position]
        after = [position[i] for i in range(rel_index + 1, len(released.cells)) if i in position]
        return (before[-1] if before else -1, after[0] if after else len(submitted))

    intact: dict[str, list[int]] = {cid: [] for cid in check_source}
    edited: dict[str, list[int]] = {cid: [] for cid in check_source}
    dropped_my_work = set()
    for index, (kind, source) in enumerate(submitted):
        if kind != "code":
            continue
        text = source.strip()
        if text in by_source:
            intact[by_source[text]].append(index)
        elif text in my_work_sources:
            dropped_my_work.add(index)
        else:
            for cid in set(_CHECK_CALL.findall(source)) & set(check_source):
                edited[cid].append(index)

    keep: dict[int, str] = {}  # submission index of an intact check cell that runs in place
    insert_before: dict[int, list[str]] = {}
    notes = []
    for rel_index in sorted(released.check_cells):
        cid = released.check_cells[rel_index]
        start, end = segment(rel_index)
        in_place = [i for i in intact[cid] if start < i < end]
        if in_place:
            keep[in_place[0]] = cid
        else:
            insert_before.setdefault(end, []).append(cid)
        if not intact[cid]:
            if edited[cid]:
                notes.append(f"the check cell for {cid} was edited: your version ran as your own code, then the released check cell")
            else:
                notes.append(f"restored the deleted check cell for {cid}")
        elif not in_place:
            notes.append(f"moved the check cell for {cid} back to the end of its exercise")
        if len(intact[cid]) > 1:
            extra = len(intact[cid]) - 1
            notes.append(f"removed {extra} duplicate check cell{'s' if extra > 1 else ''} for {cid}")

    cells: list[RunCell] = []
    for index in range(len(submitted) + 1):
        for cid in insert_before.get(index, []):
            cells.append(RunCell(check_source[cid], f"the check cell for {cid}"))
        if index == len(submitted):
            break
        kind, source = submitted[index]
        if kind != "code" or not source.strip() or index in dropped_my_work:
            continue
        if index in keep:
            cells.append(RunCell(check_source[keep[index]], f"the check cell for {keep[index]}"))
        elif source.strip() not in by_source:
            cells.append(RunCell(source, _origin(index + 1, source)))
    return Prepared(cells, notes)
