"""Wire values as the types a botocore caller passes: the forms the round trips rarely meet."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

import botocore.session
import pytest
from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser

from labkit.wire.shapes import from_json, header_value, split_header_list, timestamp


def _member(service: str, operation: str, name: str, *, output: bool = False) -> Any:
    model = botocore.session.get_session().get_service_model(service).operation_model(operation)
    return (model.output_shape if output else model.input_shape).members[name]


def test_header_value__decodes_a_json_value_header__from_base64_json() -> None:
    # None of the lab's services has one; Amazon Lex's sessionAttributes is such a header.
    shape = _member("lex-runtime", "PostContent", "sessionAttributes")
    assert shape.serialization.get("jsonvalue")
    document = '{"team": "a", "n": 1}'
    assert header_value(shape, base64.b64encode(json.dumps(document).encode()).decode()) == document


def test_ok_response__writes_a_json_value_header__that_botocore_reads_back() -> None:
    from labkit.wire import ok_response

    output = botocore.session.get_session().get_service_model("lex-runtime").operation_model("PostContent").output_shape
    wire = ok_response("lex-runtime", "rest-json", "PostContent", {"sessionAttributes": {"team": "a"}, "audioStream": b""},
                       request_id="r")
    parsed = create_parser("rest-json").parse({"status_code": wire.status, "headers": HeadersDict(wire.headers),
                                               "body": wire.body}, output)
    assert parsed["sessionAttributes"] == {"team": "a"}


def test_split_header_list__keeps_quoted_commas() -> None:
    assert split_header_list('a, "b,c", "d\\"e"') == ["a", "b,c", 'd"e']


@pytest.mark.parametrize("text", ["2026-01-02T03:04:05Z", "2026-01-02T03:04:05.000Z", "Fri, 02 Jan 2026 03:04:05 GMT",
                                  "1767323045", "2026-01-02T04:04:05+01:00"])
def test_timestamp__reads_every_aws_wire_form__as_utc(text: str) -> None:
    moment = timestamp(text)
    assert moment == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc) and moment.tzinfo == timezone.utc


def test_from_json__drops_unmodelled_keys_and_nulls() -> None:
    shape = botocore.session.get_session().get_service_model("dynamodb").operation_model("ListTables").input_shape
    assert from_json(shape, {"Limit": 5, "ExclusiveStartTableName": None, "Sneaky": "x"}) == {"Limit": 5}


@pytest.mark.parametrize("value", [{"Limit": "5"}, {"Limit": True}, {"Limit": 5.5}, {"ExclusiveStartTableName": 3}])
def test_from_json__refuses_a_value_of_the_wrong_type(value: dict[str, Any]) -> None:
    shape = botocore.session.get_session().get_service_model("dynamodb").operation_model("ListTables").input_shape
    with pytest.raises(ValueError):
        from_json(shape, value)
