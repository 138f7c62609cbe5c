"""One API call as it arrived at the lab account, and the answer labkit gives to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ApiCall", "Answer"]


@dataclass(slots=True)
class ApiCall:
    """One API call, decoded from the request that reached the account (``state``: the gate's scratch space)."""

    service: str  # botocore's service name: "iam", "s3", "sts", ...
    operation: str  # the API operation: "ListUsers", "GetObject", ...
    params: dict[str, Any]  # the parameters as the caller passed them to its SDK
    access_key: str | None  # None for unsigned calls
    region: str
    protocol: str  # "query", "rest-xml", "json", "rest-json", "ec2", "smithy-rpc-v2-cbor"
    source_ip: str = "198.51.100.10"  # aws:SourceIp: labkit.context.DEFAULT_SOURCE_IP unless a session set one
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Answer:
    """What the gate answers instead of moto: a body labkit computed, or an AWS error."""

    status: int
    body: dict[str, Any] | None = None
    code: str | None = None
    message: str | None = None

    @classmethod
    def error(cls, status: int, code: str, message: str) -> Answer:
        return cls(status, None, code, message)

    @property
    def error_fields(self) -> dict[str, Any]:
        """The ``Error`` part of the response botocore would parse (empty for a success)."""
        return {"Code": self.code, "Message": self.message} if self.code else {}
