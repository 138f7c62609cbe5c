"""Parse JSON text as json.loads does, and remember where each value and key sits in the text."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any, Literal, Union

from labkit.errors import InvalidInput, LabkitError

__all__ = ["Position", "Span", "Key", "JsonPath", "JsonSyntaxError", "parse_with_positions"]


# Position and Span are made by the thousand while parsing: not frozen (a frozen dataclass is three
# times slower to build), but hashable all the same. Treat them as read-only.
@dataclass(slots=True, unsafe_hash=True)
class Position:
    """A point in the text: ``line`` counts from 1, ``column`` and ``offset`` (characters) from 0."""

    line: int
    column: int
    offset: int


@dataclass(slots=True, unsafe_hash=True)
class Span:
    """The text from ``start`` up to, not including, ``end``: a string's span includes its quotes."""

    start: Position
    end: Position


@dataclass(frozen=True, slots=True)
class Key:
    """Last step of a path that names an object's key itself rather than the value under it.

    ``spans[("Statement", 0, "Sid")]`` is where the Sid's value is; ``spans[("Statement", 0,
    Key("Sid"))]`` is where the key ``"Sid"`` is. This mirrors Access Analyzer's path elements
    ``{"value": ...}`` (step into an object), ``{"index": ...}`` and ``{"key": ...}``.
    """

    name: str


#: A path into a JSON value: str steps into objects, int steps into arrays, a final Key names a key.
JsonPath = tuple[Union[str, int, Key], ...]


class JsonSyntaxError(LabkitError, ValueError):
    """JSON text that json.loads would refuse; says what is wrong and where (``position``)."""

    def __init__(self, problem: str, position: Position) -> None:
        self.problem = problem
        self.position = position
        super().__init__(
            f"{problem}: line {position.line} column {position.column + 1} (char {position.offset})"
        )


_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_STRING_CHUNK = re.compile(r'([^"\\\x00-\x1f]*)(["\\\x00-\x1f])')
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_CONSTANTS = {"null": None, "true": True, "false": False, "NaN": float("nan"),
              "Infinity": float("inf"), "-Infinity": float("-inf")}
_MAX_DEPTH = 200


class _Parser:
    def __init__(self, text: str, reject_duplicates: bool) -> None:
        self.text = text
        self.reject_duplicates = reject_duplicates
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.spans: dict[JsonPath, Span] = {}

    def position(self, offset: int) -> Position:
        index = bisect_right(self.line_starts, offset) - 1
        return Position(index + 1, offset - self.line_starts[index], offset)

    def fail(self, problem: str, offset: int) -> JsonSyntaxError:
        return JsonSyntaxError(problem, self.position(offset))

    def record(self, path: JsonPath, start: int, end: int) -> None:
        starts = self.line_starts
        first = bisect_right(starts, start) - 1
        last = first if first + 1 == len(starts) or end < starts[first + 1] else bisect_right(starts, end) - 1
        self.spans[path] = Span(Position(first + 1, start - starts[first], start),
                                Position(last + 1, end - starts[last], end))

    def value(self, i: int, path: JsonPath, depth: int) -> tuple[Any, int]:
        """Parse the value starting exactly at ``i``; record its span; return it and where it ends."""
        text = self.text
        char = text[i : i + 1]
        if char == '"':
            result, end = self.string(i)
        elif char == "{":
            result, end = self.object(i, path, depth + 1)
        elif char == "[":
            result, end = self.array(i, path, depth + 1)
        else:
            match = _NUMBER.match(text, i)
            if match is not None:
                integer, fraction, exponent = match.groups()
                try:
                    result = float(match.group()) if fraction or exponent else int(integer)
                except ValueError as error:  # an integer past Python's digit limit
                    raise self.fail(str(error), i) from None
                end = match.end()
            else:
                for word, constant in _CONSTANTS.items():
                    if text.startswith(word, i):
                        result, end = constant, i + len(word)
                        break
                else:
                    raise self.fail("Expecting value", i)
        self.record(path, i, end)
        return result, end

    def string(self, start: int) -> tuple[str, int]:
        text = self.text
        parts: list[str] = []
        i = start + 1
        while True:
            chunk = _STRING_CHUNK.match(text, i)
            if chunk is None:
                raise self.fail("Unterminated string starting at", start)
            content, terminator = chunk.groups()
            if content:
                parts.append(content)
            i = chunk.end()
            if terminator == '"':
                return "".join(parts), i
            if terminator != "\\":
                raise self.fail("Invalid control character at", i - 1)
            escape = text[i : i + 1]
            if not escape:
                raise self.fail("Unterminated string starting at", start)
            if escape != "u":
                if escape not in _ESCAPES:
                    raise self.fail("Invalid \\escape", i - 1)
                parts.append(_ESCAPES[escape])
                i += 1
                continue
            code = self.hex4(i + 1)
            i += 5
            if 0xD800 <= code <= 0xDBFF and text.startswith("\\u", i):
                low = self.hex4(i + 2)
                if 0xDC00 <= low <= 0xDFFF:
                    code = 0x10000 + (((code - 0xD800) << 10) | (low - 0xDC00))
                    i += 6
            parts.append(chr(code))

    def hex4(self, i: int) -> int:
        if _HEX4.fullmatch(self.text, i, i + 4) is None:
            raise self.fail("Invalid \\uXXXX escape", i - 1)
        return int(self.text[i : i + 4], 16)

    def object(self, start: int, path: JsonPath, depth: int) -> tuple[dict[str, Any], int]:
        if depth > _MAX_DEPTH:
            raise self.fail("Too deeply nested", start)
        text, ws = self.text, _WS.match
        result: dict[str, Any] = {}
        i = ws(text, start + 1).end()
        if text[i : i + 1] == "}":
            return result, i + 1
        while True:
            if text[i : i + 1] != '"':
                raise self.fail("Expecting property name enclosed in double quotes", i)
            key, key_end = self.string(i)
            if self.reject_duplicates and key in result:
                raise self.fail(f"Duplicate key {key!r}", i)
            self.record(path + (Key(key),), i, key_end)
            i = ws(text, key_end).end()
            if text[i : i + 1] != ":":
                raise self.fail("Expecting ':' delimiter", i)
            i = ws(text, i + 1).end()
            result[key], i = self.value(i, path + (key,), depth)
            i = ws(text, i).end()
            char = text[i : i + 1]
            if char == "}":
                return result, i + 1
            if char != ",":
                raise self.fail("Expecting ',' delimiter", i)
            i = ws(text, i + 1).end()

    def array(self, start: int, path: JsonPath, depth: int) -> tuple[list[Any], int]:
        if depth > _MAX_DEPTH:
            raise self.fail("Too deeply nested", start)
        text, ws = self.text, _WS.match
        result: list[Any] = []
        i = ws(text, start + 1).end()
        if text[i : i + 1] == "]":
            return result, i + 1
        while True:
            item, i = self.value(i, path + (len(result),), depth)
            result.append(item)
            i = ws(text, i).end()
            char = text[i : i + 1]
            if char == "]":
                return result, i + 1
            if char != ",":
                raise self.fail("Expecting ',' delimiter", i)
            i = ws(text, i + 1).end()


def parse_with_positions(
    text: str, *, duplicate_keys: Literal["last", "error"] = "last"
) -> tuple[Any, dict[JsonPath, Span]]:
    """Parse ``text`` exactly as :func:`json.loads` would, and return ``(value, spans)``.

    ``spans`` maps the path of every value, ``()`` for the root, to its :class:`Span`; a path
    ending in :class:`Key` maps to the span of that object key. When an object repeats a key the
    last one wins, for the value as for its span, unless ``duplicate_keys="error"``: then the
    repeat is a :class:`JsonSyntaxError` (IAM refuses such policies). Lines end at ``\\n``.
    Raises :class:`JsonSyntaxError` (a ``ValueError``) where json.loads would raise
    ``JSONDecodeError``, and also for containers nested more than 200 deep.
    """
    if not isinstance(text, str):
        raise TypeError(f"JSON text must be str, not {type(text).__name__}")
    if duplicate_keys not in ("last", "error"):
        raise InvalidInput(f'duplicate_keys must be "last" or "error", not {duplicate_keys!r}')
    parser = _Parser(text, duplicate_keys == "error")
    if text.startswith("\ufeff"):
        raise parser.fail("Unexpected UTF-8 BOM (decode using utf-8-sig)", 0)
    start = _WS.match(text).end()
    try:
        value, end = parser.value(start, (), 0)
    except RecursionError:  # only when called from an already deep stack
        raise parser.fail("Too deeply nested", start) from None
    end = _WS.match(text, end).end()
    if end != len(text):
        raise parser.fail("Extra data", end)
    return value, parser.spans
