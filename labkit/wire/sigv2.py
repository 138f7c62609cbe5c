"""S3's Signature Version 2 (``AWS key:signature``), which botocore still uses for presigned URLs by default.

``generate_presigned_url`` on an S3 client signs with SigV2 unless the client is configured with
``signature_version="s3v4"``. The rules are the Amazon S3 User Guide's "Signing and
authenticating REST requests" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html):
HMAC-SHA1 over the method, Content-MD5, Content-Type, the date (a presigned URL's Expires), the
``x-amz-`` headers and the resource (the path with its bucket, and the signed sub-resources).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timezone
from typing import NamedTuple
from urllib.parse import parse_qsl, unquote

from labkit.wire.http import HttpRequest
from labkit.wire.models import s3_bucket_from_host

__all__ = ["ALGORITHM", "V2", "v2_fields", "verify_v2"]

ALGORITHM = "AWS"

# The sub-resources that are part of what SigV2 signs (the list botocore's HmacV1Auth signs).
_SUBRESOURCES = frozenset({
    "accelerate", "acl", "cors", "defaultObjectAcl", "location", "logging", "partNumber", "policy",
    "requestPayment", "torrent", "versioning", "versionId", "versions", "website", "uploads", "uploadId",
    "response-content-type", "response-content-language", "response-expires", "response-cache-control",
    "response-content-disposition", "response-content-encoding", "delete", "lifecycle", "tagging", "restore",
    "storageClass", "notification", "replication", "analytics", "metrics", "inventory", "select",
    "select-type", "object-lock",
})


class V2(NamedTuple):
    """What a SigV2 Authorization header or presigned query says."""

    access_key: str
    signature: str  # base64
    date: str  # the request's date in SigV4's form (20260102T030405Z); "" for a presigned URL
    presigned: bool
    session_token: str | None
    expires_at: int | None  # a presigned URL's Expires, epoch seconds


def v2_fields(request: HttpRequest) -> V2 | None:
    """The request's SigV2 signature; None if it has none."""
    auth = request.header("authorization")
    if auth is not None and auth.startswith(ALGORITHM + " ") and ":" in auth:
        access_key, _, signature = auth[len(ALGORITHM) + 1:].strip().rpartition(":")
        date = _v4_date(request.header("x-amz-date") or request.header("date") or "")
        return V2(access_key, signature, date, False, request.header("x-amz-security-token"), None)
    if "AWSAccessKeyId=" in request.query and "Signature=" in request.query:
        query = dict(parse_qsl(request.query, keep_blank_values=True))
        expires = query.get("Expires", "")
        return V2(query.get("AWSAccessKeyId", ""), query.get("Signature", ""), "", True,
                  query.get("x-amz-security-token"), int(expires) if expires.isdigit() else None)
    return None


def _resource(request: HttpRequest) -> str:
    # The path always names the bucket, virtual-hosted or not.
    bucket = s3_bucket_from_host(request)
    path = f"/{bucket}{request.path}" if bucket else request.path or "/"
    signed = []
    for part in request.query.split("&") if request.query else ():
        key, eq, value = part.partition("=")
        if key in _SUBRESOURCES:
            signed.append((key, f"{key}={unquote(value)}" if eq else key))
    return path + ("?" + "&".join(text for _, text in sorted(signed)) if signed else "")


def string_to_sign(request: HttpRequest, *, presigned: bool) -> str:
    """SigV2's string to sign for ``request``."""
    headers = dict(request.lower_headers)
    if presigned:  # the signed headers travel in the query
        for key, value in parse_qsl(request.query, keep_blank_values=True):
            if key.lower().startswith("x-amz-") or key.lower() in ("content-md5", "content-type"):
                headers[key.lower()] = value
        date = dict(parse_qsl(request.query)).get("Expires", "")
    else:  # with an x-amz-date header, the Date line is empty
        date = "" if "x-amz-date" in headers else headers.get("date", "")
    amz = "".join(f"{k}:{' '.join(v.split())}\n" for k, v in sorted(headers.items()) if k.startswith("x-amz-"))
    return (f"{request.method.upper()}\n{headers.get('content-md5', '').strip()}\n"
            f"{headers.get('content-type', '').strip()}\n{date}\n{amz}{_resource(request)}")


def verify_v2(request: HttpRequest, signature: str, secret_key: str, *, presigned: bool) -> bool:
    """Whether ``signature`` (base64) is the request's SigV2 signature under ``secret_key``."""
    digest = hmac.new(secret_key.encode("utf-8"), string_to_sign(request, presigned=presigned).encode("utf-8"),
                      hashlib.sha1).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), signature.strip())


def _v4_date(date: str) -> str:
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(date).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    except (TypeError, ValueError):
        return ""
