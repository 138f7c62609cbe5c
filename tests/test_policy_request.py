"""Requests (labkit.policy.request): what the caller gives, what AWS fills in, what is refused."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from labkit.errors import InvalidInput
from labkit.policy import Request

USER = "arn:aws:iam::123456789012:user/alice"


def test_context__keys_are_case_insensitive_and_values_become_string_tuples():
    request = Request("s3:GetObject", "*", USER, context={"AWS:SourceIp": "203.0.113.9", "s3:max-keys": 10,
                                                          "aws:SecureTransport": True, "aws:TagKeys": ["a", "b"]})
    assert request.get("aws:sourceip") == ("203.0.113.9",)
    assert request.get("s3:max-keys") == ("10",)
    assert request.get("aws:securetransport") == ("true",)
    assert request.get("aws:tagkeys") == ("a", "b")
    assert request.get("aws:referer") is None


def test_context__datetimes_bytes_and_floats_are_converted():
    request = Request("s3:GetObject", "*", USER, context={"aws:CurrentTime": datetime(2020, 1, 1, tzinfo=timezone.utc),
                                                          "x:blob": b"\x00\x01", "x:ratio": 0.5})
    assert request.get("aws:currenttime") == ("2020-01-01T00:00:00Z",)
    assert request.get("x:blob") == ("AAE=",)
    assert request.get("x:ratio") == ("0.5",)


@pytest.mark.parametrize("context", [{"k:x": None}, {"k:x": {"a": 1}}, {1: "x"}, {"": "x"}, ["k:x"],
                                     {"k:x": float("inf")}, {"k:x": [object()]}])
def test_context__odd_values_are_invalid_input(context):
    with pytest.raises(InvalidInput) as caught:
        Request("s3:GetObject", "*", USER, context=context)
    assert caught.value.code == "InvalidInput"


@pytest.mark.parametrize("action", ["GetObject", "", None, 5, "s3:", ":GetObject"])
def test_action__must_name_service_and_action(action):
    with pytest.raises(InvalidInput):
        Request(action, "*", USER)


@pytest.mark.parametrize("resource", ["", None, 3])
def test_resource__must_be_a_non_empty_string(resource):
    with pytest.raises(InvalidInput):
        Request("s3:GetObject", resource, USER)


def test_time_keys__are_filled_once_per_request():
    request = Request("s3:GetObject", "*", USER)
    first = request.get("aws:currenttime")
    assert request.get("aws:currenttime") == first
    assert abs(int(request.get("aws:epochtime")[0]) - datetime.now(timezone.utc).timestamp()) < 5


def test_role_path__only_for_sessions():
    with pytest.raises(InvalidInput):
        Request("s3:GetObject", "*", USER, role_path="/x/")
    with pytest.raises(InvalidInput):
        Request("s3:GetObject", "*", "arn:aws:sts::123456789012:assumed-role/R/s", role_path="x")


def test_federated_by__only_for_federated_users():
    with pytest.raises(InvalidInput):
        Request("s3:GetObject", "*", USER, federated_by=USER)
    request = Request("s3:GetObject", "*", "arn:aws:sts::123456789012:federated-user/bob", federated_by=USER)
    assert request.federated_by == USER


def test_twelve_digit_principal__means_the_account_root_user():
    assert Request("s3:GetObject", "*", "123456789012").get("aws:principaltype") == ("Account",)


def test_no_principal__is_the_anonymous_caller_without_principal_arn():
    request = Request("s3:GetObject", "*", None)
    assert request.get("aws:principalarn") is None and request.resource_account is None


def test_repr__shows_what_was_given():
    text = repr(Request("s3:GetObject", "arn:aws:s3:::b/k", USER, context={"aws:SourceIp": "1.2.3.4"}))
    assert text.startswith("Request('s3:GetObject', 'arn:aws:s3:::b/k', ") and "aws:SourceIp" in text
