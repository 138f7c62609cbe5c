"""Tests for labkit.policy.jsonpos: JSON parsed as json.loads does, with the span of every value and key."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.errors import LabkitError
from labkit.policy.jsonpos import JsonSyntaxError, Key, Position, Span, parse_with_positions

POLICY = """{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "",
            "Action": ["s3:GetObject", "s3:PutObject"]
        }
    ]
}"""


def _text(text: str, span: Span) -> str:
    return text[span.start.offset : span.end.offset]


def test_parse__returns_the_same_value_as_json_loads():
    value, _ = parse_with_positions(POLICY)
    assert value == json.loads(POLICY)


def test_parse__gives_the_root_span_the_whole_document():
    _, spans = parse_with_positions(POLICY)
    assert spans[()] == Span(Position(1, 0, 0), Position(9, 1, len(POLICY)))


def test_parse__gives_a_string_span_that_includes_its_quotes():
    _, spans = parse_with_positions(POLICY)
    span = spans[("Statement", 0, "Sid")]
    assert _text(POLICY, span) == '""'
    assert (span.start.line, span.start.column) == (5, 19)
    assert (span.end.line, span.end.column) == (5, 21)


def test_parse__indexes_array_items_by_int():
    _, spans = parse_with_positions(POLICY)
    assert _text(POLICY, spans[("Statement", 0, "Action", 1)]) == '"s3:PutObject"'


def test_parse__records_the_span_of_each_key_under_a_key_step():
    _, spans = parse_with_positions(POLICY)
    span = spans[("Statement", 0, Key("Action"))]
    assert _text(POLICY, span) == '"Action"'
    assert span.start.line == 6


def test_parse__keeps_key_and_value_paths_apart():
    _, spans = parse_with_positions('{"a": 1}')
    assert spans[("a",)] != spans[(Key("a"),)]


def test_parse__spans_values_that_cross_lines():
    text = '{"a": [\n1,\n2\n]}'
    _, spans = parse_with_positions(text)
    span = spans[("a",)]
    assert (span.start.line, span.start.column, span.end.line, span.end.column) == (1, 6, 4, 1)


def test_parse__keeps_the_last_of_repeated_keys_like_json_loads():
    text = '{"a": 1, "a": 2}'
    value, spans = parse_with_positions(text)
    assert value == {"a": 2}
    assert _text(text, spans[("a",)]) == "2"


def test_parse__can_refuse_repeated_keys_and_say_where_the_repeat_is():
    with pytest.raises(JsonSyntaxError, match="Duplicate key 'a'") as raised:
        parse_with_positions('{"a": 1,\n "a": 2}', duplicate_keys="error")
    assert (raised.value.position.line, raised.value.position.column) == (2, 1)


def test_parse__accepts_nan_and_infinity_like_json_loads():
    value, _ = parse_with_positions("[NaN, Infinity, -Infinity]")
    assert math.isnan(value[0]) and value[1:] == [math.inf, -math.inf]


@pytest.mark.parametrize(
    "text, problem, column",
    [
        ('{"a": 1,}', "Expecting property name enclosed in double quotes", 9),
        ('{"a" 1}', "Expecting ':' delimiter", 6),
        ("[1 2]", "Expecting ',' delimiter", 4),
        ('"abc', "Unterminated string starting at", 1),
        ('"a\tb"', "Invalid control character at", 3),
        ('"\\x"', "Invalid \\escape", 2),
        ('"\\u12"', "Invalid \\uXXXX escape", 3),
        ("1 2", "Extra data", 3),
        ("", "Expecting value", 1),
        ("\ufeff{}", "Unexpected UTF-8 BOM (decode using utf-8-sig)", 1),
    ],
)
def test_parse__raises_where_json_loads_raises__with_the_same_problem_and_place(text, problem, column):
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(JsonSyntaxError) as raised:
        parse_with_positions(text)
    assert raised.value.problem == problem == expected.value.msg
    assert raised.value.position.column + 1 == column == expected.value.colno


def test_parse__reports_line_and_column_of_a_syntax_error_on_a_later_line():
    with pytest.raises(JsonSyntaxError) as raised:
        parse_with_positions('{\n  "a": [1,\n  ]\n}')
    assert (raised.value.position.line, raised.value.position.column) == (3, 2)
    assert "line 3 column 3" in str(raised.value)


def test_syntax_error__is_a_labkit_error_and_a_value_error():
    with pytest.raises(LabkitError):
        parse_with_positions("{")
    with pytest.raises(ValueError):
        parse_with_positions("{")


def test_parse__refuses_nesting_deeper_than_200_without_a_recursion_error():
    with pytest.raises(JsonSyntaxError, match="Too deeply nested"):
        parse_with_positions("[" * 5000 + "]" * 5000)


def test_parse__rejects_bytes():
    with pytest.raises(TypeError):
        parse_with_positions(b"{}")  # type: ignore[arg-type]


_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def _walk(value, path=()):
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, path + (index,))


@settings(max_examples=300)
@given(_values, st.sampled_from([None, 0, 2, 4, "\t"]), st.booleans())
def test_parse__round_trips_json_dumps_output_and_every_span_holds_its_value(value, indent, ascii_only):
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    parsed, spans = parse_with_positions(text)
    assert parsed == json.loads(text)
    for path, item in _walk(parsed):
        span = spans[path]
        assert json.loads(_text(text, span)) == item
        lines = text.split("\n")
        assert lines[span.start.line - 1][span.start.column :].startswith(_text(text, span).split("\n")[0])
        if path and isinstance(path[-1], str):
            assert json.loads(_text(text, spans[path[:-1] + (Key(path[-1]),)])) == path[-1]


@settings(max_examples=500)
@given(st.text(alphabet='{}[]",:0123456789.eE+-tfrulnasNIiy\\ \n\tx', max_size=40))
def test_parse__accepts_and_rejects_exactly_what_json_loads_does(text):
    try:
        expected = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        with pytest.raises(JsonSyntaxError):
            parse_with_positions(text)
    else:
        value, _ = parse_with_positions(text)
        assert json.dumps(value) == json.dumps(expected)
