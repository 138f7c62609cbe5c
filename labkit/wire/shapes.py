"""Wire values decoded into the types a botocore caller passes, shape by shape.

Timestamps become tz-aware UTC datetimes, blobs bytes, numbers int or float per the shape, and
structures keep only their modelled members, under their Python names.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

__all__ = ["timestamp", "scalar", "from_json", "header_value", "split_header_list"]

_SPECIAL_FLOATS = {"Infinity": float("inf"), "-Infinity": float("-inf"), "NaN": float("nan")}


def timestamp(value: Any) -> datetime:
    """A timestamp in any of AWS's wire forms (epoch seconds, ISO 8601, RFC 822) as UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, timezone.utc)
    else:
        text = str(value).strip()
        try:
            return datetime.fromtimestamp(float(text), timezone.utc)
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            try:
                parsed = parsedate_to_datetime(text)
            except (TypeError, ValueError):
                raise ValueError(f"not a timestamp: {text!r}") from None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def _blob(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError("not base64") from None


def scalar(shape: Any, text: str) -> Any:
    """A text value (query string, header, XML text, uri label) as the type of ``shape``."""
    kind = shape.type_name
    if kind in ("integer", "long"):
        return int(text)
    if kind in ("float", "double"):
        return float(text)
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered not in ("true", "false"):
            raise ValueError(f"not a boolean: {text!r}")
        return lowered == "true"
    if kind == "timestamp":
        return timestamp(text)
    if kind == "blob":
        return _blob(text)
    return text


def from_json(shape: Any, value: Any) -> Any:
    """A decoded JSON or CBOR value as the types of ``shape`` (unmodelled keys and nulls dropped)."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        if shape.is_document_type:
            return value
        if not isinstance(value, dict):
            raise ValueError(f"{shape.name}: expected an object")
        out = {}
        for name, member in shape.members.items():
            item = value.get(member.serialization.get("name", name))
            if item is not None:
                out[name] = from_json(member, item)
        return out
    if kind == "list":
        if not isinstance(value, list):
            raise ValueError(f"{shape.name}: expected a list")
        return [from_json(shape.member, item) for item in value]
    if kind == "map":
        if not isinstance(value, dict):
            raise ValueError(f"{shape.name}: expected an object")
        return {key: from_json(shape.value, item) for key, item in value.items() if item is not None}
    if kind == "timestamp":
        return timestamp(value)
    if kind == "blob":
        return _blob(value) if isinstance(value, str) else bytes(value)
    if kind in ("float", "double"):
        if isinstance(value, str) and value in _SPECIAL_FLOATS:  # JSON has no literal for these
            return _SPECIAL_FLOATS[value]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{value!r} is not a number")
        return float(value)
    if kind in ("integer", "long") and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"{value!r} can not be converted to an integer")
    if kind == "boolean" and not isinstance(value, bool):
        raise ValueError(f"{value!r} can not be converted to a boolean")
    if kind == "string" and not isinstance(value, str):
        raise ValueError(f"{value!r} is not a string")
    return value


def split_header_list(text: str) -> list[str]:
    """A list header's items: comma separated, an item in double quotes when it holds a comma."""
    items, current, quoted, escaped = [], "", False, False
    for char in text:
        if escaped:
            current, escaped = current + char, False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            items.append(current.strip())
            current = ""
        else:
            current += char
    items.append(current.strip())
    return items


def header_value(shape: Any, text: str) -> Any:
    """A header's value as the type of ``shape`` (lists split, JSON values decoded from base64)."""
    if shape.type_name == "list":
        return [scalar(shape.member, item) for item in split_header_list(text)]
    if shape.type_name == "string" and shape.serialization.get("jsonvalue"):
        return json.loads(_blob(text))
    if shape.type_name == "blob":
        return text.encode("utf-8")
    return scalar(shape, text)
