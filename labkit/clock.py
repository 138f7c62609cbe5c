"""The lab's clock: moves a lab's time forward without sleeping, for moto and labkit alike."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from labkit.errors import InvalidInput, LabStateError

__all__ = ["Clock"]

# moto.core.utils.utcnow as moto shipped it, kept while a clock has replaced it.
_original_utcnow: Callable[[], datetime] | None = None


def _moto_modules() -> list[Any]:
    return [m for name, m in list(sys.modules.items()) if m is not None and (name == "moto" or name.startswith("moto."))]


def _swap(old: Callable[[], datetime], new: Callable[[], datetime]) -> None:
    """Point every loaded moto module's reference to ``old`` (any name) at ``new``."""
    for module in _moto_modules():
        namespace = getattr(module, "__dict__", None)
        if not namespace:
            continue
        for name, value in list(namespace.items()):
            if value is old:
                setattr(module, name, new)


class Clock:
    """A lab's time: the real time plus how far the lab has been moved forward.

    >>> lab.clock.advance(days=90)           # doctest: +SKIP
    >>> lab.clock.now()                      # doctest: +SKIP

    While the clock is installed (a running Lab installs its clock), moto's timestamps follow it
    (access key and user creation dates, key last used, policy dates...), and so do labkit's gate
    (``aws:CurrentTime``, session expiry) and trail. Time only moves forward; ``reset()`` returns to
    real time.
    """

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._patch: Callable[[], datetime] | None = None

    @property
    def offset(self) -> timedelta:
        """How far ahead of real time the lab is."""
        return self._offset

    def now(self) -> datetime:
        """The lab's current time (timezone-aware, UTC)."""
        return datetime.now(timezone.utc) + self._offset

    def advance(self, *, weeks: float = 0, days: float = 0, hours: float = 0, minutes: float = 0,
                seconds: float = 0) -> datetime:
        """Move the lab's time forward; returns the new lab time."""
        step = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
        if step < timedelta(0):
            raise InvalidInput(f"The lab clock only moves forward; advance() was asked to go back {-step}.")
        self._offset += step
        return self.now()

    def reset(self) -> None:
        """Return to real time."""
        self._offset = timedelta(0)

    # -- moto ------------------------------------------------------------------------------------

    @property
    def installed(self) -> bool:
        return self._patch is not None

    def install(self) -> None:
        """Make moto read this clock: replaces every loaded reference to moto's ``utcnow``.

        moto imports ``utcnow`` by name into its modules; each loaded reference is replaced, and
        ``moto.core.utils.utcnow`` itself, so modules moto loads later import the clock's version.
        """
        global _original_utcnow
        if self._patch is not None:
            return
        from moto.core import utils

        if _original_utcnow is None:
            _original_utcnow = utils.utcnow
        if utils.utcnow is not _original_utcnow:
            raise LabStateError("Another lab clock is installed in this process; stop its lab first.")

        def utcnow() -> datetime:
            # moto works with naive datetimes in UTC.
            return (datetime.now(timezone.utc) + self._offset).replace(tzinfo=None)

        self._patch = utcnow
        _swap(_original_utcnow, utcnow)

    def uninstall(self) -> None:
        """Give moto back its own ``utcnow`` everywhere the clock's had reached."""
        if self._patch is None:
            return
        patch, self._patch = self._patch, None
        assert _original_utcnow is not None
        _swap(patch, _original_utcnow)

    def __repr__(self) -> str:
        ahead = f", {_describe(self._offset)} ahead of real time" if self._offset else ""
        return f"<Clock {self.now():%Y-%m-%d %H:%M:%S} UTC{ahead}>"


def _describe(offset: timedelta) -> str:
    days, seconds = offset.days, offset.seconds
    parts = [f"{days} day{'s' * (days != 1)}"] if days else []
    if seconds or not parts:
        hours, rest = divmod(seconds, 3600)
        parts.append(f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}")
    return " ".join(parts)
