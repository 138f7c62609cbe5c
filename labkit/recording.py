"""Records the reference outputs nbval compares lessons and solutions against.

Learner notebooks are committed without outputs. Their reference copies in ``tests/reference/``
hold the same cells with the outputs one run produced, sanitized (request ids, dates, key ids)
and without images, so that ``pytest --nbval`` can compare every later run against them.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path
from typing import Any

from labkit.authoring import targets, write_notebook

__all__ = ["reference_path", "record", "stale_references", "sanitize_patterns"]

SANITIZE_FILE = Path("tests") / "nbval_sanitize.cfg"


def reference_path(root: Path, output: Path) -> Path:
    return root / "tests" / "reference" / output.parent.name / output.name


def sanitize_patterns(root: Path) -> list[tuple[re.Pattern[str], str]]:
    """The regex replacements nbval applies before comparing (shared with the recorder)."""
    parser = configparser.ConfigParser()
    parser.read(root / SANITIZE_FILE, encoding="utf-8")
    return [(re.compile(parser[s]["regex"]), parser[s]["replace"]) for s in parser.sections()]


def _sanitize(text: str, patterns: list[tuple[re.Pattern[str], str]]) -> str:
    for pattern, replacement in patterns:
        text = pattern.sub(replacement, text)
    return text


def _strip(notebook: Any, patterns: list[tuple[re.Pattern[str], str]]) -> Any:
    for cell in notebook.cells:
        cell.pop("id", None)
        cell["metadata"] = {k: v for k, v in cell.get("metadata", {}).items() if k == "tags"}
        if cell.cell_type != "code":
            continue
        # Execution counts stay: nbval treats a cell with outputs and no count as never run.
        kept = []
        for output in cell.get("outputs", []):
            output["metadata"] = {}
            data = output.get("data")
            if data is not None:
                for mime in ("image/png", "image/jpeg", "image/svg+xml"):
                    data.pop(mime, None)
                for mime, value in list(data.items()):
                    if isinstance(value, str):
                        data[mime] = _sanitize(value, patterns)
            if "text" in output:
                output["text"] = _sanitize(output["text"], patterns)
            kept.append(output)
        cell["outputs"] = kept
    return notebook


def _code_cells(notebook: Any) -> list[str]:
    return [c.source for c in notebook.cells]


def stale_references(root: Path) -> list[Path]:
    """References whose cells no longer match their notebook's (or that are missing)."""
    import nbformat

    out = []
    for target in targets(root):
        if target.kind == "exercise":
            continue
        ref = reference_path(root, target.output)
        if not ref.is_file() or not target.output.is_file():
            out.append(ref)
            continue
        if _code_cells(nbformat.read(ref, as_version=4)) != _code_cells(nbformat.read(target.output, as_version=4)):
            out.append(ref)
    return out


def record(root: Path, *, only_stale: bool = True, timeout: int = 300) -> list[Path]:
    """Run lessons and solutions and write their reference copies; returns the paths written."""
    import nbformat
    from nbclient import NotebookClient

    stale = set(stale_references(root))
    patterns = sanitize_patterns(root)
    written = []
    for target in targets(root):
        if target.kind == "exercise":
            continue
        ref = reference_path(root, target.output)
        if only_stale and ref not in stale:
            continue
        notebook = nbformat.read(target.output, as_version=4)
        NotebookClient(notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(target.output.parent)}}).execute()
        notebook.metadata = {"kernelspec": notebook.metadata.get("kernelspec", {})}
        ref.parent.mkdir(parents=True, exist_ok=True)
        ref.write_text(write_notebook(_strip(notebook, patterns)), "utf-8")
        written.append(ref)
    return written
