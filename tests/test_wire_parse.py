"""parse_request on requests as any client sends them: routes, services, regions, and the errors AWS answers."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest

from labkit.wire import HttpRequest, WireError, parse_request


def _request(method: str, path: str, query: str = "", body: bytes = b"", **headers: str) -> HttpRequest:
    headers = {k.replace("_", "-"): v for k, v in headers.items()}
    headers.setdefault("Host", "127.0.0.1:5000")
    return HttpRequest(method, path, query, headers, body)


# S3 as a client other than botocore sends it: no x-id, only the method, path, query and headers.
S3_ROUTES = [
    ("GET", "/b/k", "", {}, "GetObject"),
    ("HEAD", "/b/k", "", {}, "HeadObject"),
    ("GET", "/b/k", "acl", {}, "GetObjectAcl"),
    ("GET", "/b/k", "tagging", {}, "GetObjectTagging"),
    ("GET", "/b/k", "uploadId=u", {}, "ListParts"),
    ("GET", "/b/k", "attributes", {"x-amz-object-attributes": "ETag"}, "GetObjectAttributes"),
    ("PUT", "/b/k", "", {}, "PutObject"),
    ("PUT", "/b/k", "", {"x-amz-copy-source": "src/k"}, "CopyObject"),
    ("PUT", "/b/k", "partNumber=1&uploadId=u", {}, "UploadPart"),
    ("PUT", "/b/k", "partNumber=1&uploadId=u", {"x-amz-copy-source": "src/k"}, "UploadPartCopy"),
    ("POST", "/b/k", "uploads", {}, "CreateMultipartUpload"),
    ("POST", "/b/k", "uploadId=u", {}, "CompleteMultipartUpload"),
    ("DELETE", "/b/k", "uploadId=u", {}, "AbortMultipartUpload"),
    ("DELETE", "/b/k", "", {}, "DeleteObject"),
    ("POST", "/b", "delete", {}, "DeleteObjects"),
    ("GET", "/b", "", {}, "ListObjects"),
    ("GET", "/b/", "list-type=2&prefix=a", {}, "ListObjectsV2"),
    ("GET", "/b", "versions", {}, "ListObjectVersions"),
    ("GET", "/b", "uploads", {}, "ListMultipartUploads"),
    ("GET", "/", "", {}, "ListBuckets"),
    ("PUT", "/b", "", {}, "CreateBucket"),
    ("HEAD", "/b", "", {}, "HeadBucket"),
    ("GET", "/b", "policy", {}, "GetBucketPolicy"),
    ("GET", "/b", "location", {}, "GetBucketLocation"),
    ("GET", "/b", "analytics", {}, "ListBucketAnalyticsConfigurations"),
    ("GET", "/b", "analytics&id=a1", {}, "GetBucketAnalyticsConfiguration"),
    ("GET", "/b/dir/k.txt", "x-id=GetObject", {}, "GetObject"),  # the AWS SDK for JavaScript's hint
]


@pytest.mark.parametrize(("method", "path", "query", "headers", "operation"), S3_ROUTES,
                         ids=[f"{r[4]}-{r[0]}-{r[2] or 'plain'}" for r in S3_ROUTES])
def test_parse_request__tells_s3_operations_apart__by_method_path_query_and_headers(
        method: str, path: str, query: str, headers: dict[str, str], operation: str) -> None:
    request = HttpRequest(method, path, query, {"Host": "127.0.0.1:5000", **headers}, b"")
    assert parse_request(request).operation == operation


@pytest.mark.parametrize(("host", "bucket", "region"), [
    ("labkit-bucket.s3.amazonaws.com", "labkit-bucket", "us-east-1"),
    ("labkit-bucket.s3.eu-west-1.amazonaws.com", "labkit-bucket", "eu-west-1"),
    ("labkit-bucket.s3-eu-west-1.amazonaws.com", "labkit-bucket", "eu-west-1"),
    ("my.dotted.bucket.s3.dualstack.eu-west-2.amazonaws.com", "my.dotted.bucket", "eu-west-2"),
])
def test_parse_request__finds_a_virtual_hosted_bucket__and_its_region(host: str, bucket: str, region: str) -> None:
    parsed = parse_request(HttpRequest("GET", "/a%20b/c.txt", "", {"Host": host}, b""))
    assert (parsed.operation, parsed.params, parsed.region) == ("GetObject", {"Bucket": bucket, "Key": "a b/c.txt"}, region)


def test_parse_request__reads_path_style_s3__on_any_host() -> None:
    parsed = parse_request(_request("GET", "/labkit-bucket", "list-type=2&max-keys=5&prefix=a%2Fb"))
    assert parsed.params == {"Bucket": "labkit-bucket", "MaxKeys": 5, "Prefix": "a/b"}


@pytest.mark.parametrize(("request_", "service", "operation"), [
    (_request("POST", "/", body=b"Action=ListUsers&Version=2010-05-08", Host="iam.amazonaws.com"), "iam", "ListUsers"),
    (_request("POST", "/", body=b"Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=r&RoleSessionName=s"
              b"&WebIdentityToken=t", Host="sts.amazonaws.com"), "sts", "AssumeRoleWithWebIdentity"),
    # To a lab server's address: the query Action names the service.
    (_request("POST", "/", body=b"Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=r&RoleSessionName=s"
              b"&WebIdentityToken=t", Content_Type="application/x-www-form-urlencoded"), "sts", "AssumeRoleWithWebIdentity"),
    (_request("POST", "/", body=b"{}", X_Amz_Target="DynamoDB_20120810.ListTables"), "dynamodb", "ListTables"),
    (_request("POST", "/service/GraniteServiceVersion20100801/operation/ListMetrics", body=b"\xa0",
              smithy_protocol="rpc-v2-cbor", Content_Type="application/cbor"), "cloudwatch", "ListMetrics"),
    (_request("POST", "/", body=b"Action=DescribeRegions&Version=2016-11-15", Host="ec2.eu-west-1.amazonaws.com"),
     "ec2", "DescribeRegions"),
    (_request("GET", "/labkit-bucket/k"), "s3", "GetObject"),  # anything else: S3, as moto's server assumes
])
def test_parse_request__finds_the_service_of_an_unsigned_request(request_: HttpRequest, service: str,
                                                                 operation: str) -> None:
    parsed = parse_request(request_)
    assert (parsed.service, parsed.operation, parsed.signature) == (service, operation, None)


def test_parse_request__takes_the_region_of_an_unsigned_request_from_its_host() -> None:
    request = _request("POST", "/", body=b"{}", X_Amz_Target="DynamoDB_20120810.ListTables",
                       Host="dynamodb.ap-southeast-2.amazonaws.com")
    assert parse_request(request).region == "ap-southeast-2"


def test_parse_request__reads_an_ec2_query__with_its_indexed_lists() -> None:
    body = (b"Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-1&InstanceId.2=i-2"
            b"&Filter.1.Name=tag%3ATeam&Filter.1.Value.1=a+b&Filter.1.Value.2=c&MaxResults=10&DryRun=false")
    parsed = parse_request(_request("POST", "/", body=body, Host="ec2.amazonaws.com"))
    assert parsed.params == {"InstanceIds": ["i-1", "i-2"], "Filters": [{"Name": "tag:Team", "Values": ["a b", "c"]}],
                             "MaxResults": 10, "DryRun": False}


def test_parse_request__reads_a_query_map__with_entry_keys_and_values() -> None:
    body = (b"Action=SetTopicAttributes&Version=2010-03-31&TopicArn=t&AttributeName=Policy&AttributeValue=%7B%7D"
            b"&Attributes.entry.1.key=a")
    assert parse_request(_request("POST", "/", body=body, Host="sns.amazonaws.com")).params == {
        "TopicArn": "t", "AttributeName": "Policy", "AttributeValue": "{}"}
    tags = (b"Action=CreateTopic&Version=2010-03-31&Name=t&Attributes.entry.1.key=DisplayName"
            b"&Attributes.entry.1.value=Team+A&Attributes.entry.2.key=Policy&Attributes.entry.2.value=%7B%7D")
    assert parse_request(_request("POST", "/", body=tags, Host="sns.amazonaws.com")).params == {
        "Name": "t", "Attributes": {"DisplayName": "Team A", "Policy": "{}"}}


def test_parse_request__reads_a_rest_json_path__with_an_encoded_arn() -> None:
    request = _request("GET", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af",
                       "Qualifier=%24LATEST", Host="lambda.us-east-1.amazonaws.com")
    parsed = parse_request(request)
    assert (parsed.service, parsed.operation) == ("lambda", "GetFunction")
    assert parsed.params == {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:f", "Qualifier": "$LATEST"}


def test_parse_request__gives_copy_source_back_as_the_caller_wrote_it() -> None:
    # botocore URL-encodes the source's bucket and key (S3 requires it); labkit decodes them.
    client = botocore.session.get_session().create_client("s3", region_name="us-east-1", aws_access_key_id="A",
                                                          aws_secret_access_key="s")
    sent: list[Any] = []

    def capture(request: Any, **_: Any) -> None:
        sent.append(request)
        raise RuntimeError("captured")

    client.meta.events.register("before-send", capture)
    with pytest.raises(RuntimeError):
        client.copy_object(Bucket="dst", Key="k", CopySource={"Bucket": "src", "Key": "a b/ü.txt", "VersionId": "v+1"})
    prepared = sent[0]
    from urllib.parse import urlsplit

    parts = urlsplit(prepared.url)
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in prepared.headers.items()}
    parsed = parse_request(HttpRequest("PUT", parts.path, parts.query, {"Host": parts.netloc, **headers}, b""))
    assert parsed.operation == "CopyObject"
    assert parsed.params["CopySource"] == "src/a b/ü.txt?versionId=v+1"


# -- errors, as AWS answers them ------------------------------------------------------------------

ERRORS = [
    (_request("POST", "/", body=b"Action=ListUsrs&Version=2010-05-08", Host="iam.amazonaws.com"),
     "InvalidAction", "Could not find operation ListUsrs for version 2010-05-08", "iam", "query"),
    (_request("POST", "/", body=b"Version=2010-05-08", Host="iam.amazonaws.com"), "MissingAction", "Missing Action",
     "iam", "query"),
    (_request("POST", "/", body=b"Action=ListUsers&Version=2010-05-08&MaxItems=many", Host="iam.amazonaws.com"),
     "MalformedQueryString", None, "iam", "query"),
    (_request("POST", "/", body=b"{}", X_Amz_Target="DynamoDB_20120810.DropEverything"), "UnknownOperationException",
     "Unknown operation DropEverything", "dynamodb", "json"),
    (_request("POST", "/", body=b"{not json", X_Amz_Target="DynamoDB_20120810.ListTables"), "SerializationException",
     None, "dynamodb", "json"),
    (_request("POST", "/", body=b'{"Limit": "ten"}', X_Amz_Target="DynamoDB_20120810.ListTables"),
     "SerializationException", None, "dynamodb", "json"),
    (_request("POST", "/service/GraniteServiceVersion20100801/operation/ListMetrics", body=b"\xff\x00",
              smithy_protocol="rpc-v2-cbor"), "SerializationException", None, "cloudwatch", "smithy-rpc-v2-cbor"),
    (_request("PATCH", "/b/k"), "MethodNotAllowed", "The specified method is not allowed against this resource.",
     "s3", "rest-xml"),
    (_request("POST", "/b", "delete", body=b"<Delete><Object>"), "MalformedXML", None, "s3", "rest-xml"),
    (_request("GET", "/2015-03-31/nothing-here", Host="lambda.us-east-1.amazonaws.com",
              Authorization="AWS4-HMAC-SHA256 Credential=A/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, "
                            "Signature=00", X_Amz_Date="20260101T000000Z"),
     "UnknownOperationException", None, "lambda", "rest-json"),
    (_request("GET", "/", Authorization="AWS4-HMAC-SHA256 Credential=A/20260101/us-east-1/glacier/aws4_request, "
                                        "SignedHeaders=host, Signature=00", X_Amz_Date="20260101T000000Z"),
     "UnknownService", None, None, None),
]


ERRORS.append((_request("POST", "/", body=b"Action=ListUsers&Version=2010-05-08", Authorization="AWS4-HMAC-SHA256 x",
                        Content_Type="application/x-www-form-urlencoded"), "IncompleteSignature", None, "iam", "query"))


@pytest.mark.parametrize(("request_", "code", "message", "service", "protocol"), ERRORS, ids=[f"{e[1]}-{i}" for i, e in
                                                                                              enumerate(ERRORS)])
def test_parse_request__raises_wire_error__with_the_code_aws_answers(request_: HttpRequest, code: str,
                                                                     message: str | None, service: str | None,
                                                                     protocol: str | None) -> None:
    with pytest.raises(WireError) as raised:
        parse_request(request_)
    error = raised.value
    assert error.code == code and error.status in (400, 404, 405)
    if message is not None:
        assert error.message == message
    assert (error.service, error.protocol) == (service, protocol)
