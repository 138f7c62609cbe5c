"""ok_response and error_response read back through botocore's own parsers and clients, in every protocol.

Two layers. Every operation's output shape: a generated response body, written by ok_response in
the service's protocol, parsed by botocore's parser for that protocol, must come back whole. And
real clients answered in-process (a ``before-send`` hook that parses the request and answers with
ok_response or error_response, as a lab does) must return the body, or raise ClientError with the
code and message.
"""

from __future__ import annotations

import io
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse, HeadersDict
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.loaders import Loader
from botocore.parsers import create_parser
from botocore.response import StreamingBody

from labkit.wire import SERVICES, HttpRequest, ParsedCall, error_response, ok_response, parse_error, parse_request
from test_wire_roundtrip import WHEN, generate

# Operations whose response ok_response does not write for botocore's generic parser, and why.
NOT_GENERIC = {
    ("s3", "GetBucketLocation"): "its document is the bare <LocationConstraint>, read by a botocore handler "
                                 "(tested through a client below)",
    # A deprecated operation whose NotificationConfiguration structures have a member `Event` and
    # a flattened list `Events` of <Event> elements: XML cannot keep them apart.
    ("s3", "GetBucketNotification"): "Event and Events share the element name <Event>",
}


@lru_cache(maxsize=None)
def _model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def _event_stream(shape: Any) -> bool:
    return any(m.serialization.get("eventstream") for m in shape.members.values())


def _body_for(shape: Any, operation: str) -> dict[str, Any]:
    body = generate(shape, operation)
    for name, member in shape.members.items():
        if member.serialization.get("location") == "statusCode":
            body[name] = 202  # an HTTP status, not any integer
    return body  # type: ignore[no-any-return]


def _expected(shape: Any, value: Any, location: str | None = None) -> Any:
    kind = shape.type_name
    if kind == "structure" and not shape.is_document_type:
        return {k: _expected(shape.members[k], v, shape.members[k].serialization.get("location"))
                for k, v in value.items()}
    if kind == "list":
        return [_expected(shape.member, v) for v in value]
    if kind == "map":
        return {k: _expected(shape.value, v) for k, v in value.items()}
    if kind == "timestamp" and shape.serialization.get("timestampFormat", "rfc822" if location == "header" else "") == "rfc822":
        return value.replace(microsecond=0)  # RFC 822 dates have whole seconds
    return value


def _output_cases() -> list[Any]:
    cases = []
    for service in SERVICES:
        model = _model(service)
        protocols = [model.protocol] + (["json", "query"] if service == "cloudwatch" else [])
        for operation in model.operation_names:
            shape = model.operation_model(operation).output_shape
            if shape is None:
                continue
            marks = []
            if _event_stream(shape):
                marks = [pytest.mark.skip(reason="an event stream response: ok_response writes no event streams")]
            elif (service, operation) in NOT_GENERIC:
                marks = [pytest.mark.skip(reason=NOT_GENERIC[service, operation])]
            for protocol in protocols:
                cases.append(pytest.param(service, protocol, operation, id=f"{service}-{protocol}.{operation}", marks=marks))
    return cases


@pytest.mark.parametrize(("service", "protocol", "operation"), _output_cases())
def test_ok_response__reads_back_through_botocores_parser__for_every_operation(service: str, protocol: str,
                                                                                 operation: str) -> None:
    shape = _model(service).operation_model(operation).output_shape
    body = _body_for(shape, operation)
    response = ok_response(service, protocol, operation, body, request_id="req-123")
    operation_model = _model(service).operation_model(operation)
    # botocore's endpoint hands the parser a stream for a streaming payload (S3 GetObject's Body).
    streaming = operation_model.has_streaming_output
    wire_body = StreamingBody(io.BytesIO(response.body), len(response.body)) if streaming else response.body
    parsed = create_parser(protocol).parse({"status_code": response.status, "headers": HeadersDict(response.headers),
                                            "body": wire_body, "context": {}}, shape)
    if streaming:
        payload = shape.serialization["payload"]
        parsed[payload] = parsed[payload].read()
    metadata = parsed.pop("ResponseMetadata")
    assert parsed == _expected(shape, body)
    assert metadata.get("RequestId") == "req-123"


# -- through real clients, answered in-process ---------------------------------------------------


class _Raw:
    """The urllib3 response botocore reads a body from."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, *_: Any, **__: Any) -> Any:
        yield self._data

    def read(self, *_: Any, **__: Any) -> bytes:
        data, self._data = self._data, b""
        return data


class Fail(Exception):
    """What an answer raises to answer with an AWS error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


class _CborCloudWatch(Loader):
    """botocore's models, but cloudwatch's lists CBOR alone: its client then speaks smithy-rpc-v2-cbor."""

    def load_service_model(self, service_name: str, type_name: str, api_version: str | None = None) -> Any:
        model = super().load_service_model(service_name, type_name, api_version)
        if (service_name, type_name) == ("cloudwatch", "service-2"):
            model = {**model, "metadata": {**model["metadata"], "protocols": ["smithy-rpc-v2-cbor"]}}
        return model


def answered(service: str, answer: Any, *, cbor: bool = False, **config: Any) -> Any:
    """A client whose requests a lab answers in-process: ``answer(ParsedCall)`` gives the body or raises Fail."""
    session = botocore.session.Session()
    if cbor:
        session.register_component("data_loader", _CborCloudWatch())
    client = session.create_client(
        service, region_name="us-east-1", aws_access_key_id="AKIDRESPONSES", aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}, **config))
    calls = []

    def send(request: Any, **_: Any) -> AWSResponse:
        parts = urlsplit(request.url)
        body = request.body or b""
        body = body.read() if hasattr(body, "read") else body.encode() if isinstance(body, str) else body
        headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        headers.setdefault("Host", parts.netloc)
        parsed = parse_request(HttpRequest(request.method, parts.path or "/", parts.query, headers, bytes(body)))
        calls.append(parsed)
        try:
            wire = ok_response(parsed.service, parsed.protocol, parsed.operation, answer(parsed), request_id="req-1")
        except Fail as fail:
            wire = error_response(parsed.service, parsed.protocol, status=fail.status, code=fail.code,
                                  message=fail.message, request_id="req-1")
        return AWSResponse(request.url, wire.status, wire.headers, _Raw(wire.body))

    client.meta.events.register("before-send", send)
    client.calls = calls  # type: ignore[attr-defined]
    return client


def _strip(result: dict[str, Any]) -> dict[str, Any]:
    result.pop("ResponseMetadata", None)
    return result


SIMULATION = {
    "EvaluationResults": [{
        "EvalActionName": "s3:GetObject", "EvalResourceName": "arn:aws:s3:::b/k", "EvalDecision": "explicitDeny",
        "MatchedStatements": [{"SourcePolicyId": "PolicyInputList.1", "SourcePolicyType": "IAM Policy",
                               "StartPosition": {"Line": 1, "Column": 41}, "EndPosition": {"Line": 1, "Column": 120}}],
        "MissingContextValues": ["aws:SourceIp"],
        "EvalDecisionDetails": {"IAM Policy": "explicitDeny"},
        "ResourceSpecificResults": [{"EvalResourceName": "arn:aws:s3:::b/k", "EvalResourceDecision": "explicitDeny",
                                     "MatchedStatements": [], "MissingContextValues": [],
                                     "EvalDecisionDetails": {"IAM Policy": "explicitDeny"}}],
    }],
    "IsTruncated": False,
}


def test_clients_read__iam_simulate_custom_policy() -> None:
    iam = answered("iam", lambda call: SIMULATION)
    result = iam.simulate_custom_policy(PolicyInputList=['{"Version": "2012-10-17"}'], ActionNames=["s3:GetObject"])
    assert _strip(result) == SIMULATION
    assert iam.calls[0].params == {"PolicyInputList": ['{"Version": "2012-10-17"}'], "ActionNames": ["s3:GetObject"]}


def test_clients_read__iam_access_key_last_used__and_the_credential_report_blob() -> None:
    used = {"UserName": "ana", "AccessKeyLastUsed": {"LastUsedDate": WHEN, "ServiceName": "s3", "Region": "us-east-1"}}
    report = {"Content": b"user,arn\nana,arn:aws:iam::123456789012:user/ana\n", "ReportFormat": "text/csv",
              "GeneratedTime": WHEN}
    iam = answered("iam", lambda call: used if call.operation == "GetAccessKeyLastUsed" else report)
    assert _strip(iam.get_access_key_last_used(AccessKeyId="AKIAIOSFODNN7EXAMPLE")) == used
    assert _strip(iam.get_credential_report()) == report


def test_clients_read__iam_policy_documents__as_boto3_returns_them() -> None:
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                        "Action": "sts:AssumeRole"}]}
    role = {"Role": {"Path": "/", "RoleName": "app", "RoleId": "AROAEXAMPLE", "Arn": "arn:aws:iam::123456789012:role/app",
                     "CreateDate": WHEN, "AssumeRolePolicyDocument": document}}
    iam = answered("iam", lambda call: role)
    assert _strip(iam.get_role(RoleName="app")) == role


def test_clients_read__sts_assume_role__with_its_timestamps() -> None:
    expiry = datetime(2026, 1, 2, 4, 4, 5, tzinfo=timezone.utc)
    body = {"Credentials": {"AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "s/e+c", "SessionToken": "tok==",
                            "Expiration": expiry},
            "AssumedRoleUser": {"AssumedRoleId": "AROAEXAMPLE:me", "Arn": "arn:aws:sts::123456789012:assumed-role/app/me"},
            "PackedPolicySize": 6, "SourceIdentity": "ana"}
    sts = answered("sts", lambda call: body)
    result = _strip(sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/app", RoleSessionName="me"))
    assert result == body and result["Credentials"]["Expiration"].tzinfo is not None


def test_clients_read__cloudtrail_lookup_events() -> None:
    body = {"Events": [{"EventId": "e1", "EventName": "CreateUser", "ReadOnly": "false", "AccessKeyId": "AKIDADMIN",
                        "EventTime": WHEN, "EventSource": "iam.amazonaws.com", "Username": "admin",
                        "Resources": [{"ResourceType": "AWS::IAM::User", "ResourceName": "ana"}],
                        "CloudTrailEvent": '{"eventVersion": "1.08"}'}],
            "NextToken": "next"}
    trail = answered("cloudtrail", lambda call: body)
    result = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateUser"}],
                                 StartTime=WHEN)
    assert _strip(result) == body
    assert trail.calls[0].params["StartTime"] == WHEN


def test_clients_read__access_analyzer_validate_policy() -> None:
    body = {"findings": [{"findingDetails": "Fix the action.", "findingType": "ERROR", "issueCode": "INVALID_ACTION",
                          "learnMoreLink": "https://docs.aws.amazon.com/",
                          "locations": [{"path": [{"value": "Statement"}, {"index": 0}, {"value": "Action"}],
                                         "span": {"start": {"line": 1, "column": 2, "offset": 3},
                                                  "end": {"line": 1, "column": 9, "offset": 10}}}]}],
            "nextToken": "t"}
    analyzer = answered("accessanalyzer", lambda call: body)
    result = analyzer.validate_policy(policyDocument='{"Version": "2012-10-17"}', policyType="IDENTITY_POLICY",
                                      maxResults=5)
    assert _strip(result) == body
    assert analyzer.calls[0].params == {"policyDocument": '{"Version": "2012-10-17"}', "policyType": "IDENTITY_POLICY",
                                        "maxResults": 5}


def test_clients_read__s3_get_object__its_headers_and_streamed_body() -> None:
    body = {"Body": b"\x00data\xff", "ContentType": "application/octet-stream", "ContentLength": 6, "ETag": '"abc"',
            "LastModified": WHEN.replace(microsecond=0), "Metadata": {"team": "a"}, "VersionId": "v1"}
    s3 = answered("s3", lambda call: body)
    result = s3.get_object(Bucket="labkit-bucket", Key="k")
    assert result.pop("Body").read() == body["Body"]
    assert _strip(result) == {k: v for k, v in body.items() if k != "Body"}


def test_clients_read__s3_get_bucket_location() -> None:
    s3 = answered("s3", lambda call: {"LocationConstraint": "eu-west-1"})
    assert s3.get_bucket_location(Bucket="labkit-bucket")["LocationConstraint"] == "eu-west-1"


def test_clients_read__lambda_invoke__its_status_code_headers_and_payload() -> None:
    body = {"StatusCode": 200, "FunctionError": "Unhandled", "LogResult": "bG9n", "ExecutedVersion": "$LATEST",
            "Payload": b'{"errorMessage": "boom"}'}
    function = answered("lambda", lambda call: body)
    result = function.invoke(FunctionName="f", Payload=b"{}")
    assert result.pop("Payload").read() == body["Payload"]
    assert _strip(result) == {k: v for k, v in body.items() if k != "Payload"}


@pytest.mark.parametrize("cbor", [False, True], ids=["json", "cbor"])
def test_clients_read__cloudwatch__with_timestamps_and_floats(cbor: bool) -> None:
    # botocore's own client speaks json to cloudwatch (its resolved protocol); one whose model
    # lists CBOR alone speaks smithy-rpc-v2-cbor.
    body = {"MetricDataResults": [{"Id": "m1", "Label": "CPU", "Timestamps": [WHEN], "Values": [12.5],
                                   "StatusCode": "Complete"}], "Messages": []}
    cloudwatch = answered("cloudwatch", lambda call: body, cbor=cbor)
    result = cloudwatch.get_metric_data(MetricDataQueries=[{"Id": "m1", "Expression": "SELECT 1"}],
                                        StartTime=WHEN, EndTime=WHEN)
    assert _strip(result) == body
    assert cloudwatch.calls[0].protocol == ("smithy-rpc-v2-cbor" if cbor else "json")


# One error per protocol, and the awsQueryCompatible ones: the client raises it whole.
ERRORS = [
    ("iam", "get_user", {"UserName": "nobody"}, 404, "NoSuchEntity", "The user with name nobody cannot be found."),
    ("sts", "get_caller_identity", {}, 403, "AccessDenied", "User: arn:aws:iam::1:user/a is not authorized"),
    ("sns", "list_topics", {}, 400, "InvalidParameter", "Invalid parameter: NextToken"),
    ("ec2", "describe_instances", {}, 400, "UnauthorizedOperation", "You are not authorized to perform this operation."),
    ("s3", "get_object", {"Bucket": "labkit-bucket", "Key": "k"}, 403, "AccessDenied", "Access Denied"),
    ("dynamodb", "describe_table", {"TableName": "t"}, 400, "ResourceNotFoundException", "Requested resource not found"),
    ("sqs", "get_queue_url", {"QueueName": "q"}, 400, "AWS.SimpleQueueService.NonExistentQueue", "The queue does not exist."),
    ("kms", "describe_key", {"KeyId": "k"}, 400, "NotFoundException", "Key 'k' does not exist"),
    ("lambda", "get_function", {"FunctionName": "f"}, 404, "ResourceNotFoundException", "Function not found: f"),
    ("accessanalyzer", "list_analyzers", {}, 403, "AccessDeniedException", "not authorized"),
    ("cloudwatch", "list_metrics", {}, 400, "InvalidParameterValue", "The parameter Namespace is invalid."),
    ("cloudwatch-cbor", "list_metrics", {}, 400, "InvalidParameterValue", "The parameter Namespace is invalid."),
]


@pytest.mark.parametrize(("service", "method", "params", "status", "code", "message"), ERRORS,
                         ids=[e[0] for e in ERRORS])
def test_error_response__raises_client_error__with_that_code_and_message(service: str, method: str, params: dict[str, Any],
                                                                          status: int, code: str, message: str) -> None:
    def fail(call: ParsedCall) -> Any:
        raise Fail(status, code, message)

    client = answered(service.removesuffix("-cbor"), fail, cbor=service.endswith("-cbor"))
    with pytest.raises(ClientError) as raised:
        getattr(client, method)(**params)
    error = raised.value.response["Error"]
    assert (error["Code"], error["Message"]) == (code, message)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_error_response__is_readable_by_parse_error__in_every_protocol() -> None:
    for service in SERVICES:
        protocols = [_model(service).protocol] + (["json", "query"] if service == "cloudwatch" else [])
        for protocol in protocols:
            wire = error_response(service, protocol, status=409, code="EntityAlreadyExists", message="a <b> & c",
                                  request_id="r")
            assert parse_error(service, protocol, wire.status, wire.headers, wire.body) == ("EntityAlreadyExists",
                                                                                            "a <b> & c"), protocol


def test_error_response__of_a_query_compatible_service__tells_old_clients_the_query_code() -> None:
    wire = error_response("sqs", "json", status=400, code="AWS.SimpleQueueService.NonExistentQueue", message="gone",
                          request_id="r")
    assert wire.header("x-amzn-query-error") == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    assert error_response("dynamodb", "json", status=400, code="X", message="m", request_id="r").header(
        "x-amzn-query-error") is None


def test_parse_error__is_none__for_a_successful_response() -> None:
    wire = ok_response("iam", "query", "ListUsers", {"Users": [], "IsTruncated": False}, request_id="r")
    assert parse_error("iam", "query", wire.status, wire.headers, wire.body) is None


def test_parse_error__reads_an_s3_error__sent_with_status_200() -> None:
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>Try again</Message></Error>'
    assert parse_error("s3", "rest-xml", 200, [], body) == ("InternalError", "Try again")
    assert parse_error("s3", "rest-xml", 200, [], b"<CopyObjectResult><ETag>e</ETag></CopyObjectResult>") is None


def test_error_response__of_a_server_fault__says_receiver() -> None:
    wire = error_response("sqs", "json", status=500, code="InternalError", message="m", request_id="r")
    assert wire.header("x-amzn-query-error") == "InternalError;Receiver"
    assert b"<Type>Receiver</Type>" in error_response("iam", "query", status=503, code="ServiceFailure", message="m",
                                                      request_id="r").body


def test_parse_error__reads_a_bodyless_s3_error__by_its_status() -> None:
    assert parse_error("s3", "rest-xml", 404, [("Content-Length", "0")], b"") == ("404", "Not Found")
