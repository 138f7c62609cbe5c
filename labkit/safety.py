"""Keeps every botocore request on this machine: nothing labkit runs can reach real AWS.

Two layers, both installed when labkit is imported:

* The wire. Every request botocore would actually send over the network (API calls the mock did
  not answer, instance-metadata and container credential look-ups, SSO and STS calls made to
  resolve a profile) goes through ``botocore.httpsession.URLLib3Session.send``. labkit replaces it
  with a function that raises :class:`~labkit.errors.NoLabRunning`: inside a Lab, moto answers
  before that point, so whatever reaches it would have left the machine. This holds for clients
  made before labkit was imported too, and for any endpoint URL or proxy.
* The environment. While a Lab runs, the variables that could point botocore elsewhere or at real
  credentials (profiles, config and credentials files, endpoint URLs, proxies, web identity and
  container credentials) are set aside and restored exactly when the Lab stops.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from labkit.errors import NoLabRunning

__all__ = ["install", "isolated_environment", "allow_endpoint", "forbid_endpoint", "LAB_ENVIRONMENT_KEYS"]

# Variables removed while a Lab runs (and restored after). Prefixes cover families such as the
# per-service AWS_ENDPOINT_URL_<SERVICE> variables.
_REMOVED_PREFIXES = (
    "AWS_ENDPOINT_URL",
    "AWS_CONTAINER_",
    "AWS_WEB_IDENTITY_",
    "AWS_SSO_",
)
_REMOVED = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CA_BUNDLE",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_CREDENTIAL_EXPIRATION",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
)
# Keys labkit sets while a Lab runs; listed so that stop can restore them.
LAB_ENVIRONMENT_KEYS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_ENDPOINT_URL",
    "MOTO_ACCOUNT_ID",
)

_installed = False
_original_send: Any = None
# Loopback endpoints of lab servers this process may talk to (a grader's moto server).
# Each maps to what to raise when the server does not answer (its death explained), or None.
_allowed: dict[str, Callable[[], Exception] | None] = {}


def allow_endpoint(url: str, *, lost: Callable[[], Exception] | None = None) -> None:
    """Let requests reach ``url``, a lab server on this machine (loopback only)."""
    parsed = urlsplit(url)
    if parsed.hostname not in ("127.0.0.1", "localhost", "::1") or parsed.scheme != "http":
        raise NoLabRunning(f"labkit only talks to lab servers on this machine (http://127.0.0.1:PORT), not {url!r}")
    _allowed[f"{parsed.scheme}://{parsed.netloc}"] = lost


def forbid_endpoint(url: str) -> None:
    parsed = urlsplit(url)
    _allowed.pop(f"{parsed.scheme}://{parsed.netloc}", None)


def _refuse_to_send(self: object, request: Any) -> object:
    url = getattr(request, "url", "?")
    if _allowed and isinstance(url, str):
        parsed = urlsplit(url)
        origin = f"{parsed.scheme}://{parsed.netloc}"
        if origin in _allowed:
            lost = _allowed[origin]
            if lost is None:
                return _original_send(self, request)
            from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

            try:
                return _original_send(self, request)
            except (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError):
                raise lost() from None
    raise NoLabRunning(
        f"labkit stopped a request to {url}: it would have left this machine, and labkit never "
        "talks to real AWS.\nStart the lab first: `from labkit import open_lab; lab = open_lab()`"
    )


def install() -> None:
    """Refuse every real network send botocore attempts from now on (idempotent)."""
    global _installed, _original_send
    if _installed:
        return
    from botocore.httpsession import URLLib3Session

    _original_send = URLLib3Session.send
    URLLib3Session.send = _refuse_to_send  # type: ignore[method-assign]
    _installed = True


def _keys_to_remove(environ: Mapping[str, str]) -> list[str]:
    return [k for k in environ if k in _REMOVED or k.startswith(_REMOVED_PREFIXES)]


@contextmanager
def isolated_environment(lab_values: Mapping[str, str]) -> Iterator[None]:
    """Set ``lab_values`` and remove anything that could reach real AWS; restore on exit."""
    touched = set(_keys_to_remove(os.environ)) | set(lab_values) | set(LAB_ENVIRONMENT_KEYS)
    saved = {k: os.environ.get(k) for k in touched}
    for key in _keys_to_remove(os.environ):
        del os.environ[key]
    os.environ.update(lab_values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
