"""The lab's gate: decides each API call made in a Lab before moto serves it.

Administrator calls pass. Calls made with a user's own keys are decided by labkit's policy engine
against the policies IAM would consult, and refused with AWS's error code and message when the
engine says no. Unknown or inactive keys are refused as AWS refuses them.
"""

from __future__ import annotations

import uuid
from io import BytesIO
from typing import Any

from labkit.actions import FREE_ACTIONS, target_of
from labkit.identity import AccountState, Caller
from labkit.interceptor import ApiCall

__all__ = ["LabGate", "error_response", "ok_response", "denial_message"]

_JSON_PROTOCOLS = {"json", "rest-json"}


def _response(call: ApiCall, status: int, body: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    from botocore.awsrequest import AWSResponse

    request_id = str(uuid.uuid4())
    headers = {"x-amzn-requestid": request_id}
    http = AWSResponse(f"https://{call.service}.amazonaws.com/", status, headers, BytesIO(b""))
    meta = {"RequestId": request_id, "HTTPStatusCode": status, "HTTPHeaders": headers, "RetryAttempts": 0}
    return http, {**body, "ResponseMetadata": meta}


def error_response(call: ApiCall, status: int, code: str, message: str) -> tuple[Any, dict[str, Any]]:
    """A botocore (http, parsed) pair that makes the client raise ClientError as AWS's would."""
    return _response(call, status, {"Error": {"Code": code, "Message": message, "Type": "Sender"}})


def ok_response(call: ApiCall, body: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """A botocore (http, parsed) pair for a successful call that labkit answers itself."""
    return _response(call, 200, body)


def _denied_code(call: ApiCall) -> str:
    if call.protocol == "ec2":
        return "UnauthorizedOperation"
    return "AccessDeniedException" if call.protocol in _JSON_PROTOCOLS else "AccessDenied"


class LabGate:
    """Plugs into labkit.interceptor for one running Lab."""

    def __init__(self, account: AccountState) -> None:
        self.account = account

    def handle(self, call: ApiCall) -> tuple[Any, dict[str, Any]] | None:
        caller = self.account.caller(call.access_key)
        if caller is None:
            return error_response(call, 403, "InvalidClientTokenId", "The security token included in the request is invalid.")
        if caller.kind == "admin":
            if call.service == "sts" and call.operation == "GetCallerIdentity":
                # moto does not know the lab's administrator: answer as AWS does for the root user.
                return ok_response(call, {"UserId": caller.user_id, "Account": caller.account_id, "Arn": caller.arn})
            return None
        target = target_of(call, self.account.account_id, caller.arn)
        if target.action in FREE_ACTIONS:
            return None
        decision = self.decide(caller, target.action, target.resource)
        if decision.result == "allowed":
            return None
        return error_response(call, 403, _denied_code(call), denial_message(caller, target.action, target.resource, decision))

    def decide(self, caller: Caller, action: str, resource: str) -> Any:
        from labkit.policy import Request, evaluate

        boundary = self.account.permissions_boundary(caller)
        return evaluate(
            Request(action, resource, caller.arn),
            identity_policies=self.account.identity_policies(caller),
            permissions_boundaries=(boundary,) if boundary is not None else (),
        )


def denial_message(caller: Caller, action: str, resource: str, decision: Any) -> str:
    """AWS's wording for an access denied error, with the reason the engine found."""
    head = f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource}"
    layer = getattr(decision, "decided_by", None) or getattr(decision, "layer", None)
    if decision.result == "explicitDeny":
        where = {"boundary": "a permissions boundary", "scp": "a service control policy", "session": "a session policy",
                 "resource": "a resource-based policy"}.get(layer, "an identity-based policy")
        return f"{head} with an explicit deny in {where}"
    if layer == "boundary":
        return f"{head} because no permissions boundary allows the {action} action"
    return f"{head} because no identity-based policy allows the {action} action"
