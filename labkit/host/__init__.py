"""Where a lab account lives: one interface, served in the kernel or in a lab server.

A :class:`~labkit.lab.Lab` holds an :class:`AccountHost`:

* :class:`labkit.host.account.LabAccount`, the account itself, living in this process (the
  kernel): botocore's requests reach it through labkit.interceptor, the kernel transport;
* :class:`labkit.host.remote.ServerAccount`, the same account living in a lab server
  (labkit.host.server), reached at ``endpoint_url`` by boto3, the AWS CLI or any client.

Either way the account decides each request as it arrives (labkit.gate), from the request itself;
labkit's own state (sessions and their keys, MFA devices, the clock, the trail, usage data) lives
with the account, never in the caller's process.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

__all__ = ["AccountHost", "ClockView"]


class ClockView(Protocol):
    """The lab clock, wherever it runs."""

    @property
    def offset(self) -> timedelta: ...

    def now(self) -> datetime: ...

    def advance(self, *, weeks: float = 0, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> datetime: ...

    def reset(self) -> None: ...


class AccountHost(Protocol):
    """What a Lab needs of its account, in whichever process the account lives."""

    #: Where the account serves AWS's APIs over HTTP; None for the kernel's own account.
    endpoint_url: str | None
    clock: ClockView
    trail: Any  # events(**filters), newest_first(), len(), _repr_html_()

    def reset(self) -> None: ...

    def alive(self) -> bool: ...

    def close(self) -> None: ...
