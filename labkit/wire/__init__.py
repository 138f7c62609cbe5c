"""AWS requests and responses as they cross the wire, seen from the server: SigV4, decoding, encoding.

Where the lab account lives, raw HTTP arrives from any client (boto3 in another process, the AWS
CLI, boto3 in-process through a transport hook). :func:`signature_of` and :func:`verify` check its
SigV4 signature; :func:`parse_request` turns it back into the call its caller made (service,
operation, parameters as a boto3 caller passes them); :func:`ok_response` and
:func:`error_response` answer in the protocol the request used; :func:`parse_error` reads an
error response (one moto wrote, say). Everything is generic over botocore's service models.
"""

from labkit.wire.errors import WireError
from labkit.wire.http import HttpRequest, HttpResponse
from labkit.wire.models import SERVICES
from labkit.wire.parse import ParsedCall, parse_request
from labkit.wire.serialize import error_response, ok_response, parse_error
from labkit.wire.sigv4 import Signature, signature_of, verify

__all__ = [
    "SERVICES",
    "HttpRequest",
    "HttpResponse",
    "ParsedCall",
    "Signature",
    "WireError",
    "error_response",
    "ok_response",
    "parse_error",
    "parse_request",
    "signature_of",
    "verify",
]
