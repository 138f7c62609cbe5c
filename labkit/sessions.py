"""Temporary credentials: the sessions STS hands out in a lab, and the MFA codes that unlock them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
import struct
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["Session", "SessionStore", "new_key_id", "new_secret", "totp", "verify_totp"]

_KEY_ALPHABET = string.ascii_uppercase + "234567"


def new_key_id(prefix: str) -> str:
    """A fresh access key id: ``AKIA...`` for long-term keys, ``ASIA...`` for temporary ones."""
    return prefix + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))


def new_secret(length: int = 40) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits + "/+") for _ in range(length))


def totp(seed: str, *, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """The RFC 6238 code (HMAC-SHA1, 30 s, 6 digits) a virtual MFA device shows at time ``at``."""
    key = base64.b32decode(seed.upper() + "=" * (-len(seed) % 8))
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{code:0{digits}d}"


def verify_totp(seed: str, code: str, *, at: float | None = None) -> bool:
    """Whether ``code`` is the device's code now, or one step either side (clock drift), as AWS allows."""
    now = time.time() if at is None else at
    return isinstance(code, str) and any(hmac.compare_digest(totp(seed, at=now + d * 30), code) for d in (-1, 0, 1))


@dataclass
class Session:
    """What AWS knows about one set of temporary credentials."""

    access_key: str
    secret_key: str
    token: str
    kind: str  # "assumed-role", "federated-user" or "user-session" (GetSessionToken)
    arn: str  # the session's principal ARN (for user sessions: the user's ARN)
    account_id: str
    name: str  # role session name, federated user name, or user name
    user_id: str  # aws:userid
    expires: datetime
    role_arn: str | None = None
    role_path: str | None = None
    user_name: str | None = None  # the IAM user behind a user or federated session
    federated_by: str | None = None
    session_policies: tuple[Any, ...] = ()
    mfa_time: datetime | None = None  # when MFA was presented, if it was
    tags: dict[str, str] = field(default_factory=dict)
    #: the keys of ``tags`` that pass on to sessions chained from this one (id_session-tags.md)
    transitive_tag_keys: frozenset[str] = frozenset()
    source_identity: str | None = None
    issued: datetime | None = None  # on the lab clock: aws:TokenIssueTime

    def transitive_tags(self) -> dict[str, str]:
        """The session tags a role session chained from this one inherits; the others end here."""
        return {k: v for k, v in self.tags.items() if k in self.transitive_tag_keys}


class SessionStore:
    """Every session issued in a lab, by access key id."""

    def __init__(self) -> None:
        self._by_key: dict[str, Session] = {}

    def add(self, session: Session) -> None:
        self._by_key[session.access_key] = session

    def get(self, access_key: str) -> Session | None:
        return self._by_key.get(access_key)

    def clear(self) -> None:
        self._by_key.clear()
