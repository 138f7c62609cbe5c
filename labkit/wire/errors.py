"""The one error the wire layer raises: a request it cannot read, with the AWS error to answer."""

from __future__ import annotations

from labkit.errors import AwsError

__all__ = ["WireError"]


class WireError(AwsError):
    """A request labkit cannot decode (or whose signature is malformed), as AWS would refuse it.

    ``code``, ``message`` and ``status`` are what to answer; ``service`` and ``protocol`` say how,
    when the request got far enough to tell (``None`` otherwise: answer as the caller sees fit).
    """

    def __init__(self, code: str, message: str, status: int = 400, *, service: str | None = None,
                 protocol: str | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.service = service
        self.protocol = protocol
