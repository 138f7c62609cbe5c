"""The lab's gate: decides each API call made in a Lab before moto serves it, as AWS would.

Administrator calls pass. Calls made with a user's or a session's own credentials are decided
by labkit's policy engine against every policy AWS would consult (identity-based policies,
permissions boundary, session policies, the resource's policy, the organization's SCPs and
RCPs), with the request context AWS fills in, and refused with AWS's error code and message.
Unknown, inactive and expired credentials are refused as AWS refuses them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from io import BytesIO
from typing import Any

from labkit.actions import FREE_ACTIONS, Target, Unmapped, authorizations
from labkit.apis import ApiError, handler_for
from labkit.context import request_context
from labkit.identity import Caller, Directory
from labkit.interceptor import ApiCall

__all__ = ["LabGate", "CallRecord", "error_response", "ok_response", "denial_message"]

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


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One API call made in a lab, as a trail records it."""

    time: datetime
    call: ApiCall
    caller: Caller | None
    action: str | None
    resource: str | None
    decision: str  # "allowed", "explicitDeny", "implicitDeny", or "unauthenticated"
    error_code: str | None
    error_message: str | None
    source_ip: str


class LabGate:
    """Plugs into labkit.interceptor for one running Lab."""

    def __init__(self, directory: Directory, lab: Any) -> None:
        self.directory = directory
        self.lab = lab
        #: Called with a CallRecord once each call's outcome is known.
        self.listeners: list[Callable[[CallRecord], None]] = []

    def now(self) -> datetime:
        clock = getattr(self.lab, "clock", None)
        return clock.now() if clock is not None else datetime.now(timezone.utc)

    def handle(self, call: ApiCall) -> tuple[Any, dict[str, Any]] | None:
        _route(None)
        found = self.directory.caller(call.access_key, now=self.now())
        if found is None:
            message = "The security token included in the request is invalid."
            return self._finish(call, None, None, "unauthenticated", error_response(call, 403, "InvalidClientTokenId", message))
        if found == "expired":
            message = "The security token included in the request is expired"
            return self._finish(call, None, None, "unauthenticated", error_response(call, 403, "ExpiredToken", message))
        caller: Caller = found  # type: ignore[assignment]
        if call.service == "sts" and call.operation == "GetCallerIdentity":
            # Needs no permission; answered from labkit's own view of the caller.
            body = {"UserId": caller.user_id, "Account": caller.account_id, "Arn": caller.arn}
            return self._finish(call, caller, None, "allowed", ok_response(call, body))
        target: Target | None = None
        if caller.kind == "admin":
            if call.service == "sts" and call.operation == "AssumeRole":
                message = "Roles may not be assumed by root accounts."
                return self._finish(call, caller, None, "explicitDeny", error_response(call, 403, "AccessDenied", message))
        else:
            try:
                targets = authorizations(call, account_id=caller.account_id, region=call.region, caller_arn=caller.arn)
            except Unmapped as err:
                return self._finish(call, caller, None, "implicitDeny", error_response(call, 403, _denied_code(call), str(err)))
            refusal = _session_limit(caller, targets)
            if refusal is not None:
                return self._finish(call, caller, None, "implicitDeny", error_response(call, 403, "AccessDenied", refusal))
            for target in targets:
                if target.action in FREE_ACTIONS:
                    continue
                decision = self.decide(caller, target, call)
                if decision.result != "allowed":
                    message = denial_message(caller, target.action, target.resource, decision)
                    return self._finish(call, caller, target, decision.result, error_response(call, 403, _denied_code(call), message))
        handler = handler_for(call.service, call.operation)
        if handler is not None:
            call.state["caller"] = caller
            try:
                response = ok_response(call, handler(call, self.lab))
            except ApiError as err:
                response = error_response(call, err.status, err.code, err.message)
            return self._finish(call, caller, target, "allowed", response)
        call.state["caller"], call.state["target"] = caller, target
        if target is not None and target.resource_account and target.resource_account != caller.account_id:
            # Cross-account access AWS allowed: the resource's account serves the call. moto
            # serves from the account of the signing key, unless MOTO_ACCOUNT_ID says otherwise.
            if target.resource_account in self.directory.account_ids:
                _route(target.resource_account)
        return None

    def complete(self, call: ApiCall, http: Any, parsed: dict[str, Any]) -> None:
        """After moto served a call: record its outcome."""
        _route(None)
        if self.listeners and "caller" in call.state:
            self._notify(call, call.state["caller"], call.state.get("target"), "allowed", parsed)

    def _finish(self, call: ApiCall, caller: Caller | None, target: Target | None, decision: str, response: Any) -> Any:
        if self.listeners:
            self._notify(call, caller, target, decision, response[1])
        return response

    def _notify(self, call: ApiCall, caller: Caller | None, target: Target | None, decision: str, parsed: dict[str, Any]) -> None:
        error = parsed.get("Error") or {}
        record = CallRecord(
            time=self.now(),
            call=call,
            caller=caller,
            action=target.action if target else None,
            resource=target.resource if target else None,
            decision=decision,
            error_code=error.get("Code"),
            error_message=error.get("Message"),
            source_ip=call.source_ip,
        )
        for listener in self.listeners:
            listener(record)

    def decide(self, caller: Caller, target: Target, call: ApiCall | None = None) -> Any:
        """The engine's decision for ``caller`` doing ``target``, with every policy AWS consults."""
        from labkit.policy import Request, evaluate

        directory = self.directory
        session = caller.session
        resource_account = target.resource_account or caller.account_id
        context = request_context(self, caller, target, call)
        boundary = directory.permissions_boundary(caller)
        organization = getattr(self.lab, "organization", None)
        scps = organization.scps(caller.account_id) if organization is not None else ()
        rcps = organization.rcps(resource_account) if organization is not None else ()
        region = call.region if call else "us-east-1"
        policy_text = directory.resource_policy(target.resource, account_id=resource_account, region=region, action=target.action)
        request = Request(
            target.action,
            target.resource,
            caller.arn,
            resource_account,
            context,
            role_path=session.role_path if session is not None else None,
            federated_by=session.federated_by if session is not None else None,
        )
        return evaluate(
            request,
            identity_policies=directory.identity_policies(caller),
            resource_policy=_resource_policy(policy_text),
            permissions_boundaries=(boundary,) if boundary is not None else (),
            scps=scps,
            rcps=rcps,
            session_policy=session.session_policies[0] if session is not None and session.session_policies else None,
            management_account=organization.management_account if organization is not None else None,
        )


def _session_limit(caller: Caller, targets: list[Target]) -> str | None:
    """What GetSessionToken credentials may not do, whatever the policies say.

    id_credentials_temp_request.md: they "cannot call IAM API operations unless MFA information is
    included with the request", nor "AWS STS API operations except AssumeRole or GetCallerIdentity".
    """
    if caller.kind != "user-session" or caller.session is None:
        return None
    for target in targets:
        service = target.action.split(":", 1)[0].lower()
        if service == "iam" and caller.session.mfa_time is None:
            return (f"User: {caller.arn} is not authorized to perform: {target.action} on resource: {target.resource}: "
                    "credentials from GetSessionToken cannot call IAM unless MFA was presented when they were issued")
        if service == "sts" and target.action.lower() not in ("sts:assumerole", "sts:getcalleridentity"):
            return (f"User: {caller.arn} is not authorized to perform: {target.action} on resource: {target.resource}: "
                    "credentials from GetSessionToken can only call AssumeRole and GetCallerIdentity in STS")
    return None


def _route(account_id: str | None) -> None:
    if account_id is None:
        os.environ.pop("MOTO_ACCOUNT_ID", None)
    else:
        os.environ["MOTO_ACCOUNT_ID"] = account_id


def _resource_policy(text: str | None) -> Any:
    if not text:
        return None
    from labkit.errors import MalformedPolicyDocument
    from labkit.identity import compiled

    try:
        return compiled(text, "resource policy", "resource")
    except MalformedPolicyDocument:
        # AWS refuses such a policy when it is put; moto may have stored it. It grants nothing.
        return None


_EXPLICIT = {
    "identity": "an identity-based policy",
    "resource": "a resource-based policy",
    "boundary": "a permissions boundary",
    "scp": "a service control policy",
    "rcp": "a resource control policy",
    "session": "a session policy",
}
_IMPLICIT = {
    "identity": "identity-based policy",
    "resource": "resource-based policy",
    "boundary": "permissions boundary",
    "scp": "service control policy",
    "rcp": "resource control policy",
    "session": "session policy",
}


def denial_message(caller: Caller, action: str, resource: str, decision: Any) -> str:
    """AWS's wording for an access denied error, naming the kind of policy that refused."""
    head = f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource}"
    layer = getattr(decision, "decided_by", None) or "identity"
    if decision.result == "explicitDeny":
        return f"{head} with an explicit deny in {_EXPLICIT.get(layer, _EXPLICIT['identity'])}"
    return f"{head} because no {_IMPLICIT.get(layer, _IMPLICIT['identity'])} allows the {action} action"
