"""Answers reach the grader as plain data only, through a file the grader reads defensively."""

from __future__ import annotations

import json
import os

import pytest

from labkit.grading.answers import HandedOver, Unanswerable, decode, encode, hand_over, read_answers


class Sneaky(str):
    def __eq__(self, other):  # would pass any comparison in the kernel
        return True

    __hash__ = str.__hash__


@pytest.mark.parametrize(
    "value",
    [None, True, 3, 2.5, "s", [1, "a"], (1, 2), {1, 2}, frozenset({"x"}), b"\x00bytes", {"k": [1, (2, 3)]}, {1: "int key"}, {"$tag": 1}],
    ids=lambda v: type(v).__name__,
)
def test_plain_data__round_trips_with_its_type(value):
    decoded = decode(json.loads(json.dumps(encode(value))))
    assert decoded == value and type(decoded) is type(value)


def test_subclass_of_a_plain_type__reaches_the_grader_as_the_plain_type():
    decoded = decode(encode(Sneaky("ReadOnlyAccess")))
    assert type(decoded) is str and decoded == "ReadOnlyAccess" and decoded != "anything else"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ((x for x in [1]), "a builtins.generator is not plain data"),
        (object(), "a builtins.object is not plain data"),
        ([lambda: 1], "a builtins.function is not plain data"),
    ],
    ids=["generator", "object", "function_in_list"],
)
def test_anything_else__is_unanswerable(value, problem):
    with pytest.raises(Unanswerable, match=problem):
        encode(value)


def test_hand_over__appends_one_line_per_answer_and_the_last_one_counts(tmp_path):
    path = str(tmp_path / "answers.jsonl")
    assert hand_over(path, "users.2", ["a"]) == HandedOver("users.2")
    hand_over(path, "users.2", ("b",))
    assert read_answers(path, {"users.2"}) == {"users.2": ("b",)}
    assert len((tmp_path / "answers.jsonl").read_text().splitlines()) == 2


def test_hand_over__records_an_unanswerable_answer_with_the_reason(tmp_path):
    path = str(tmp_path / "answers.jsonl")
    shown = hand_over(path, "users.2", float("nan"))
    assert shown.problem == "it holds a value JSON cannot carry"
    assert "cannot be graded" in repr(shown)
    answer = read_answers(path, {"users.2"})["users.2"]
    assert isinstance(answer, Unanswerable) and str(answer) == "it holds a value JSON cannot carry"


def test_read_answers__ignores_garbage_and_checks_it_was_not_asked_for(tmp_path):
    path = tmp_path / "answers.jsonl"
    path.write_text('not json\n{"check": "other.1", "answer": 1}\n[1, 2]\n{"check": "users.2", "answer": ["x"]}\n{"check": "users.2"\n')
    assert read_answers(str(path), {"users.2"}) == {"users.2": ["x"]}


def test_read_answers__does_not_follow_a_link_planted_by_the_kernel(tmp_path):
    real = tmp_path / "elsewhere.jsonl"
    real.write_text('{"check": "users.2", "answer": ["x"]}\n')
    (tmp_path / "answers.jsonl").symlink_to(real)
    assert read_answers(str(tmp_path / "answers.jsonl"), {"users.2"}) == {}


def test_read_answers__does_not_wait_on_a_pipe_planted_by_the_kernel(tmp_path):
    os.mkfifo(tmp_path / "answers.jsonl")
    assert read_answers(str(tmp_path / "answers.jsonl"), {"users.2"}) == {}


def test_read_answers__of_a_missing_file_is_empty(tmp_path):
    assert read_answers(str(tmp_path / "none.jsonl"), {"users.2"}) == {}


def test_lab_check_in_a_graded_run__hands_the_answer_over_instead_of_judging(lab, tmp_path, monkeypatch):
    path = tmp_path / "answers.jsonl"
    monkeypatch.setenv("LABKIT_ANSWERS", str(path))
    shown = lab.check("users.2", ["wrong"])  # judged in the kernel, this would raise CheckFailed
    assert shown == HandedOver("users.2")
    assert read_answers(str(path), {"users.2"}) == {"users.2": ["wrong"]}
    assert lab.answers["users.2"] == ["wrong"]
