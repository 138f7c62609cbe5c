"""What botocore's client handlers do to parameters and responses, undone: per-service quirks, in one place.

The protocols are decoded and encoded generically; a few values are rewritten by handlers every
botocore client runs (``botocore/handlers.py``), so the wire carries something else than the
caller passed or boto3 returns. Where a rewrite can be inverted it is, here and only here.
Handlers that add parameters the caller may or may not have passed (S3 ``EncodingType=url`` on
listings, SSE-C key digests, idempotency tokens, EC2 CopySnapshot's presigned URL) cannot be
undone: those parameters read as the wire has them.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any
from urllib.parse import quote, unquote

__all__ = ["undo_client_handlers", "wire_body", "BARE_XML_ROOT"]

#: Responses whose XML document is one member's element itself (``<LocationConstraint>eu-west-1
#: </LocationConstraint>``): botocore's parse_get_bucket_location reads the root's text.
BARE_XML_ROOT = {("s3", "GetBucketLocation"): "LocationConstraint"}

_VERSION_ID_SUFFIX = re.compile(r"\?versionId=[^\s]+$")


def _copy_source(params: dict[str, Any]) -> None:
    # handle_copy_source_param: "bucket/key[?versionId=v]" sent with bucket and key URL-encoded
    # (as S3 requires of x-amz-copy-source); the version id suffix is left as it is.
    source = params.get("CopySource")
    if isinstance(source, str):
        suffix = _VERSION_ID_SUFFIX.search(source)
        head, tail = (source[: suffix.start()], source[suffix.start():]) if suffix else (source, "")
        params["CopySource"] = unquote(head) + tail


def _user_data(params: dict[str, Any]) -> None:
    # base64_encode_user_data: EC2 RunInstances' UserData is sent base64-encoded.
    data = params.get("UserData")
    if isinstance(data, str):
        try:
            params["UserData"] = base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            pass  # not what botocore sends: keep it as it came


_UNDO = {
    ("s3", "CopyObject"): _copy_source,
    ("s3", "UploadPartCopy"): _copy_source,
    ("ec2", "RunInstances"): _user_data,
}


def undo_client_handlers(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` as the caller passed them, where a botocore handler rewrote them (in place)."""
    undo = _UNDO.get((service, operation))
    if undo is not None:
        undo(params)
    return params


def _policy_documents(shape: Any, value: Any) -> Any:
    # json_decode_policies: IAM sends policy documents (shape policyDocumentType) as URL-encoded
    # JSON, which boto3 hands its caller as a dict; a dict given here goes back on the wire so.
    if shape.type_name == "string" and shape.name == "policyDocumentType" and isinstance(value, (dict, list)):
        return quote(json.dumps(value), safe="")
    if shape.type_name == "structure" and isinstance(value, dict) and not shape.is_document_type:
        return {k: _policy_documents(shape.members[k], v) if k in shape.members else v for k, v in value.items()}
    if shape.type_name == "list" and isinstance(value, list):
        return [_policy_documents(shape.member, item) for item in value]
    return value


def wire_body(service: str, shape: Any, body: dict[str, Any]) -> dict[str, Any]:
    """A response ``body`` shaped as boto3 returns it, as the service puts it on the wire (a new dict)."""
    if service == "iam" and shape is not None:
        return _policy_documents(shape, body)  # type: ignore[no-any-return]
    return body
