"""A submission is run with the released check cells: restored, deduplicated, put back in place."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from labkit.grading import normalise
from labkit.grading.normalise import BadNotebook, load_released, prepare, read_submission

ROOT = Path(__file__).resolve().parent.parent
FILES = ROOT / "tests" / "files" / "grading"


@pytest.fixture(scope="module")
def released():
    return load_released(ROOT / "exercises" / "01_users_and_groups.ipynb")


@pytest.fixture
def cells(released):
    return list(released.cells)


def _run(released, cells):
    return prepare(released, cells)


def _sources(prepared):
    return [c.source for c in prepared.cells]


def _index(cells, check_id):
    return next(i for i, (_, s) in enumerate(cells) if s.startswith(f'lab.check("{check_id}"'))


def test_released_exercise__knows_its_check_cells_and_the_check_my_work_cell(released):
    assert released.check_ids == ["users.1", "users.2", "users.3", "users.4", "users.5"]
    assert len(released.my_work) == 1


def test_untouched_exercise__runs_every_code_cell_but_check_my_work__with_no_notes(released, cells):
    prepared = _run(released, cells)
    expected = [s for i, (k, s) in enumerate(cells) if k == "code" and i not in released.my_work]
    assert _sources(prepared) == expected and prepared.notes == []


def test_deleted_check_cell__is_restored_at_the_end_of_its_exercise(released, cells):
    index = _index(cells, "users.3")
    cells[index - 1] = ("code", "exercise_3 = 'done'")
    del cells[index]
    prepared = _run(released, cells)
    sources = _sources(prepared)
    assert sources.index('lab.check("users.3")') == sources.index("exercise_3 = 'done'") + 1
    assert prepared.notes == ["restored the deleted check cell for users.3"]


def test_duplicated_check_cells__run_once(released, cells):
    index = _index(cells, "users.1")
    cells[index + 1 : index + 1] = [cells[index], cells[index]]
    prepared = _run(released, cells)
    assert _sources(prepared).count('lab.check("users.1")') == 1
    assert prepared.notes == ["removed 2 duplicate check cells for users.1"]


def test_check_cell_moved_out_of_its_exercise__is_put_back(released, cells):
    moved = cells.pop(_index(cells, "users.2"))
    cells.insert(2, moved)
    sources = _sources(_run(released, cells))
    assert sources.index('lab.check("users.2", answer)') == sources.index("# Write your code here.\nanswer = None") + 1
    assert _run(released, cells).notes == ["moved the check cell for users.2 back to the end of its exercise"]


def test_check_cell_followed_by_learner_cells_in_its_exercise__stays_where_the_learner_put_it(released, cells):
    index = _index(cells, "users.2")
    cells.insert(index + 1, ("code", "scratch = 1"))
    prepared = _run(released, cells)
    sources = _sources(prepared)
    assert sources.index("scratch = 1") == sources.index('lab.check("users.2", answer)') + 1
    assert prepared.notes == []


def test_edited_check_cell__runs_as_learner_code_followed_by_the_released_cell(released, cells):
    index = _index(cells, "users.2")
    cells[index] = ("code", 'lab.check("users.2", ["ReadOnlyAccess"])')
    sources = _sources(_run(released, cells))
    assert sources.index('lab.check("users.2", answer)') == sources.index('lab.check("users.2", ["ReadOnlyAccess"])') + 1
    assert _run(released, cells).notes == ["the check cell for users.2 was edited: your version ran as your own code, then the released check cell"]


def test_check_cell_replaced_by_other_code__counts_as_deleted(released, cells):
    cells[_index(cells, "users.1")] = ("code", 'print("✓ Check users.1 passed")')
    prepared = _run(released, cells)
    assert 'lab.check("users.1")' in _sources(prepared)
    assert prepared.notes == ["restored the deleted check cell for users.1"]


def test_run_cells__say_where_they_came_from(released, cells):
    cells[_index(cells, "users.1") - 1] = ("code", "while True:\n    pass")
    origins = [c.origin for c in _run(released, cells).cells]
    assert "cell 4 (`while True:`)" in origins and "the check cell for users.1" in origins


def test_submission__outputs_and_metadata_are_ignored(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["skip-execution"]})])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="✓ all passed")]
    nbformat.write(nb, tmp_path / "n.ipynb")
    assert read_submission(tmp_path / "n.ipynb") == [("code", "x = 1")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ((FILES / "not_valid_json.ipynb").read_bytes(), "not valid JSON (Expecting value at line 5, column 3)"),
        ((FILES / "not_a_notebook.ipynb").read_bytes(), "not a Jupyter notebook (valid JSON, but no nbformat version)"),
        (b"\xff\xfe\x00garbage", "not valid JSON (not UTF-8 text)"),
        (json.dumps({"nbformat": 4, "cells": "nope"}).encode(), "not a Jupyter notebook (it has no list of cells)"),
        (json.dumps({"nbformat": 4, "cells": [{"source": "x"}]}).encode(), "not a Jupyter notebook (a cell without a valid cell_type)"),
    ],
    ids=["not_valid_json", "not_a_notebook", "not_utf8", "cells_not_a_list", "cell_without_type"],
)
def test_unusable_submission__is_refused_with_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "n.ipynb"
    path.write_bytes(content)
    with pytest.raises(BadNotebook) as caught:
        read_submission(path)
    assert str(caught.value) == message


def test_huge_submission__is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(normalise, "MAX_NOTEBOOK_BYTES", 10)
    (tmp_path / "n.ipynb").write_text("{}" * 10)
    with pytest.raises(BadNotebook, match="larger than"):
        read_submission(tmp_path / "n.ipynb")


def test_nbformat_3_submission__is_read(tmp_path):
    old = {"nbformat": 3, "worksheets": [{"cells": [{"cell_type": "code", "input": "x = 1"}]}]}
    (tmp_path / "n.ipynb").write_text(json.dumps(old))
    assert read_submission(tmp_path / "n.ipynb") == [("code", "x = 1")]
