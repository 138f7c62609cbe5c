"""AWS Signature Version 4, checked where the request arrives: header and query (presigned) forms.

The rules are those of the IAM User Guide, "Create a signed AWS API request"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html) and, for S3, the
Amazon S3 API Reference, "Authenticating Requests (AWS Signature Version 4)"
(https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html). S3's
SigV2, which botocore's presigned URLs still use by default, is checked too (``sigv2``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import parse_qsl, quote, unquote

from labkit.wire import sigv2
from labkit.wire.errors import WireError
from labkit.wire.http import HttpRequest

__all__ = ["Signature", "signature_of", "verify"]

_ALGORITHM = "AWS4-HMAC-SHA256"
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_PART = re.compile(r"(Credential|SignedHeaders|Signature)=([^,\s]*)")


@dataclass(frozen=True)
class Signature:
    """What a request's Authorization header (or a presigned URL's query) says about its signing."""

    access_key: str
    date: str  # the request's timestamp, X-Amz-Date form: 20260102T030405Z
    region: str
    service: str  # the signing name: "iam", "s3", "monitoring", "access-analyzer"...
    signed_headers: tuple[str, ...]
    signature: str
    session_token: str | None
    scope_date: str = ""  # the credential scope's date (20260102); must be the timestamp's day
    presigned: bool = False
    expires: int | None = None  # a SigV4 presigned URL's X-Amz-Expires, in seconds after `date`
    expires_at: int | None = None  # when a presigned URL expires, in epoch seconds (SigV4 and SigV2)
    algorithm: str = _ALGORITHM  # or "AWS": S3's SigV2 (region "" and no signed headers then)


def _incomplete(message: str) -> WireError:
    return WireError("IncompleteSignature", message, 400)


def _scope(credential: str) -> tuple[str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise _incomplete(f"Credential should be scoped to a valid region, not '{credential}'.")
    return parts[0], parts[1], parts[2], parts[3]


def _timestamp(request: HttpRequest) -> str:
    stamp = request.header("x-amz-date")
    if stamp:
        return stamp.strip()
    date = request.header("date")  # SigV4 allows the Date header instead
    if date:
        try:
            return parsedate_to_datetime(date).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        except (TypeError, ValueError):
            pass
    raise _incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")


def signature_of(request: HttpRequest) -> Signature | None:
    """The request's SigV4 signature; None when it is unsigned.

    Raises WireError (``IncompleteSignature``) when it carries a signature that is not a complete
    AWS4-HMAC-SHA256 one: such a request is neither anonymous nor verifiable.
    """
    v2 = sigv2.v2_fields(request)
    if v2 is not None:
        return Signature(v2.access_key, v2.date, "", "s3", (), v2.signature, v2.session_token, presigned=v2.presigned,
                         expires_at=v2.expires_at, algorithm=sigv2.ALGORITHM)
    auth = request.header("authorization")
    if auth is not None:
        if not auth.strip().startswith(_ALGORITHM + " "):
            raise _incomplete(f"Unsupported Authorization scheme: {auth.split(' ', 1)[0]!r} (labkit checks "
                              f"{_ALGORITHM} only).")
        parts = dict(_PART.findall(auth))
        missing = [f"Authorization header requires '{name}' parameter." for name in
                   ("Credential", "Signature", "SignedHeaders") if not parts.get(name)]
        if missing:
            raise _incomplete(" ".join(missing))
        access_key, day, region, service = _scope(parts["Credential"])
        return Signature(access_key, _timestamp(request), region, service, tuple(parts["SignedHeaders"].split(";")),
                         parts["Signature"].lower(), request.header("x-amz-security-token"), day)
    if "X-Amz-Algorithm=" not in request.query and "X-Amz-Signature=" not in request.query:
        return None
    query = dict(parse_qsl(request.query, keep_blank_values=True))
    if query.get("X-Amz-Algorithm") != _ALGORITHM:
        raise _incomplete(f"X-Amz-Algorithm only supports '{_ALGORITHM}'.")
    missing = [f"Query-string authentication requires the {name} parameter." for name in
               ("X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date") if not query.get(name)]
    if missing:
        raise _incomplete(" ".join(missing))
    access_key, day, region, service = _scope(query["X-Amz-Credential"])
    expires = int(query["X-Amz-Expires"]) if query.get("X-Amz-Expires", "").isdigit() else None
    return Signature(access_key, query["X-Amz-Date"], region, service, tuple(query["X-Amz-SignedHeaders"].split(";")),
                     query["X-Amz-Signature"].lower(), query.get("X-Amz-Security-Token"), day, presigned=True,
                     expires=expires, expires_at=_epoch(query["X-Amz-Date"]) + expires if expires is not None else None)


def _epoch(stamp: str) -> int:
    try:
        return int(datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc).timestamp())
    except ValueError:
        raise _incomplete(f"X-Amz-Date must be in the ISO8601 Long Format, not '{stamp}'.") from None


def _is_s3(signing_name: str) -> bool:
    # S3 and its variants (s3express, s3-object-lambda, s3-outposts) sign with S3's rules.
    return signing_name == "s3" or signing_name.startswith(("s3-", "s3express"))


def _canonical_uri(path: str, signing_name: str) -> str:
    # S3 signs the path exactly as sent (encoded once, no normalisation); every other service
    # signs the normalised path with each segment encoded once more (IAM User Guide: "Each path
    # segment must be URI-encoded twice (except for Amazon S3 which only gets URI-encoded once)").
    if _is_s3(signing_name):
        return path or "/"
    from botocore.utils import normalize_url_path

    return quote(normalize_url_path(path or "/"), safe="/~")


def _canonical_query(query: str, *, presigned: bool) -> str:
    # Every key and value URI-encoded (unreserved characters kept, space as %20), sorted by
    # encoded key then value; a presigned URL's X-Amz-Signature is not part of what it signs.
    pairs = []
    for part in query.split("&") if query else ():
        key, _, value = part.partition("=")
        if presigned and key == "X-Amz-Signature":
            continue
        pairs.append((quote(unquote(key), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _payload_hash(request: HttpRequest, signature: Signature) -> str | None:
    if signature.presigned:
        declared = dict(parse_qsl(request.query)).get("X-Amz-Content-Sha256")
        if declared:
            return declared
        # S3 presigned URLs sign no payload; other services' (SigV4QueryAuth) sign the body's hash.
        return "UNSIGNED-PAYLOAD" if _is_s3(signature.service) else hashlib.sha256(request.body).hexdigest()
    declared = request.header("x-amz-content-sha256")
    if declared is None:
        return hashlib.sha256(request.body).hexdigest()
    declared = declared.strip()
    # UNSIGNED-PAYLOAD and the STREAMING-* values (aws-chunked uploads) are signed as they are;
    # a hex digest must be the body's, or the body is not the one that was signed.
    if _HEX64.match(declared) and declared != hashlib.sha256(request.body).hexdigest():
        return None
    return declared


@lru_cache(maxsize=256)
def _signing_key(secret: str, day: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode("utf-8")
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def canonical_request(request: HttpRequest, signature: Signature) -> str | None:
    """The canonical request SigV4 signs for ``request``; None when a signed header is missing."""
    payload = _payload_hash(request, signature)
    if payload is None:
        return None
    lines = []
    for name in signature.signed_headers:
        value = request.header(name)
        if value is None:
            return None
        lines.append(f"{name.lower()}:{' '.join(value.split())}\n")
    return "\n".join([request.method.upper(), _canonical_uri(request.path, signature.service),
                      _canonical_query(request.query, presigned=signature.presigned), "".join(lines),
                      ";".join(signature.signed_headers), payload])


def verify(request: HttpRequest, signature: Signature, secret_key: str) -> bool:
    """Whether ``signature`` is the request's SigV4 signature under ``secret_key``.

    Only the signature is checked: whether the timestamp is recent and a presigned URL unexpired
    is for the caller to judge, against its own clock.
    """
    if signature.algorithm == sigv2.ALGORITHM:
        return sigv2.verify_v2(request, signature.signature, secret_key, presigned=signature.presigned)
    day = signature.date[:8]
    if signature.scope_date and signature.scope_date != day:
        return False
    if "host" not in signature.signed_headers:
        return False  # SigV4 signs the host at least: a signature must not travel to another endpoint
    canonical = canonical_request(request, signature)
    if canonical is None:
        return False
    scope = f"{day}/{signature.region}/{signature.service}/aws4_request"
    to_sign = "\n".join([_ALGORITHM, signature.date, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = _signing_key(secret_key, day, signature.region, signature.service)
    expected = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.signature)
