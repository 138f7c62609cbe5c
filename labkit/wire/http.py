"""HTTP requests and responses as they cross the wire, before any AWS protocol is applied."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

__all__ = ["HttpRequest", "HttpResponse", "decode_aws_chunked"]


@dataclass(frozen=True)
class HttpRequest:
    """A request as it arrived: method, raw (percent-encoded) path and query, headers, body.

    ``headers`` keeps the names it was given; :meth:`header` looks one up whatever its case.
    """

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes
    _lower: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_lower", {k.lower(): v for k, v in self.headers.items()})

    def header(self, name: str) -> str | None:
        """A header's value, whatever the case of its name (``None`` when absent)."""
        return self._lower.get(name.lower())

    @property
    def lower_headers(self) -> Mapping[str, str]:
        """Every header, by lower-case name."""
        return self._lower

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any]) -> HttpRequest:
        """The request a WSGI server received; reads ``wsgi.input`` (``CONTENT_LENGTH`` bytes)."""
        headers: dict[str, str] = {}
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                headers[key[5:].replace("_", "-").lower()] = value
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = environ[key]
        return cls(environ.get("REQUEST_METHOD", "GET").upper(), _raw_path(environ), environ.get("QUERY_STRING", ""),
                   headers, _read_body(environ, headers))


def _raw_path(environ: Mapping[str, Any]) -> str:
    # The path as the client encoded it matters: SigV4 signs it. Servers that keep it (gunicorn's
    # RAW_URI, werkzeug's REQUEST_URI and RAW_URI) give it whole; otherwise PATH_INFO, decoded by
    # the server, is encoded again the way AWS SDKs do (every byte but the unreserved ones and
    # '/'), which loses only a client's unusual choices such as '%2F' inside a segment.
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        path = raw.split("?", 1)[0]
        if "://" in path:  # an absolute URI, as sent to a proxy
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        return path or "/"
    script = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    return quote(script.encode("latin-1"), safe="/~") or "/"


def _read_body(environ: Mapping[str, Any], headers: Mapping[str, str]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = str(environ.get("CONTENT_LENGTH") or "").strip()
    if length.isdigit():
        return stream.read(int(length)) if int(length) else b""
    if headers.get("transfer-encoding", "").lower() == "chunked" or environ.get("wsgi.input_terminated"):
        return bytes(stream.read())
    return b""


def decode_aws_chunked(body: bytes) -> tuple[bytes, dict[str, str]]:
    """The payload and trailing headers of an ``aws-chunked`` body (S3 streaming uploads).

    Each chunk is ``hex-size[;chunk-signature=...]\\r\\n data \\r\\n``; a zero-size chunk ends the
    data and trailers (``x-amz-checksum-crc32:...``) may follow (Amazon S3 User Guide, "Signature
    calculations for the Authorization header: Transferring payload in multiple chunks").
    """
    data, trailers, position = bytearray(), {}, 0
    while True:
        end = body.find(b"\r\n", position)
        if end < 0:
            raise ValueError("truncated aws-chunked body")
        size = int(body[position:end].split(b";", 1)[0].strip() or b"0", 16)
        position = end + 2
        if size == 0:
            break
        data += body[position:position + size]
        position += size + 2
    for line in body[position:].split(b"\r\n"):
        name, colon, value = line.decode("latin-1").partition(":")
        if colon and not name.lower().startswith("x-amz-trailer-signature"):
            trailers[name.strip().lower()] = value.strip()
    return bytes(data), trailers


@dataclass(frozen=True)
class HttpResponse:
    """A response to send: status, headers (in order, repeatable), body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of a header, whatever the case of its name."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)
