"""CBOR (RFC 8949) as smithy-rpc-v2-cbor uses it: botocore's decoder, and a small encoder."""

from __future__ import annotations

import struct
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

__all__ = ["decode", "encode"]


@lru_cache(maxsize=1)
def _parser() -> Any:
    from botocore.parsers import BaseCBORParser

    from labkit.wire.shapes import timestamp

    return BaseCBORParser(timestamp_parser=timestamp)


def decode(data: bytes) -> Any:
    """One CBOR data item (tag 1 timestamps as UTC datetimes); ValueError when malformed."""
    from botocore.parsers import ResponseParserError

    parser = _parser()
    stream = parser.get_peekable_stream_from_bytes(data)
    try:
        value = parser.parse_data_item(stream)
    except (ResponseParserError, KeyError, IndexError, UnicodeDecodeError, struct.error) as error:
        raise ValueError(f"malformed CBOR: {error}") from None
    if stream.read(1):
        raise ValueError("malformed CBOR: bytes after the data item")
    return value


def _head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if length < 1 << (8 * size):
            return bytes([major << 5 | info]) + length.to_bytes(size, "big")
    raise ValueError("too large for CBOR")


def encode(value: Any) -> bytes:
    """``value`` (JSON-like, with bytes and datetimes) as CBOR; datetimes carry tag 1 (epoch seconds)."""
    if value is None:
        return b"\xf6"
    if value is True or value is False:
        return b"\xf5" if value else b"\xf4"
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, float):
        return b"\xfb" + struct.pack(">d", value)
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        seconds = moment.timestamp()
        return b"\xc1" + encode(int(seconds) if seconds.is_integer() else seconds)
    if isinstance(value, (bytes, bytearray)):
        return _head(2, len(value)) + bytes(value)
    if isinstance(value, str):
        data = value.encode("utf-8")
        return _head(3, len(data)) + data
    if isinstance(value, (list, tuple)):
        return _head(4, len(value)) + b"".join(encode(item) for item in value)
    if isinstance(value, dict):
        return _head(5, len(value)) + b"".join(encode(str(k)) + encode(v) for k, v in value.items())
    raise TypeError(f"cannot encode {type(value).__name__} as CBOR")
