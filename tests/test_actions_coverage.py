"""labkit.actions over every operation of the services labkit covers: each maps, or is refused."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from labkit.actions import Unmapped, authorizations
from labkit.calls import ApiCall

SERVICES = ["iam", "sts", "s3", "ec2", "dynamodb", "lambda", "sqs", "sns", "kms", "logs", "cloudwatch", "organizations"]


def _example(shape: Any, depth: int = 0) -> Any:
    """A value of botocore ``shape`` with its required members filled in."""
    kind = shape.type_name
    if kind == "structure":
        return {name: _example(member, depth + 1) for name, member in shape.members.items()
                if name in shape.required_members and depth < 6}
    if kind == "list":
        return [_example(shape.member, depth + 1)]
    if kind == "map":
        return {}
    if kind == "string":
        return shape.enum[0] if shape.enum else "x1"
    return {"integer": 1, "long": 1, "float": 1.0, "double": 1.0, "boolean": True, "blob": b"x",
            "timestamp": datetime.datetime(2024, 1, 1)}.get(kind, "x1")


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation__maps_or_raises_unmapped_and_never_crashes(service: str) -> None:
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    for operation in model.operation_names:
        shape = model.operation_model(operation).input_shape
        call = ApiCall(service, operation, _example(shape) if shape else {}, "AKIDEXAMPLE", "us-east-1", "json")
        try:
            targets = authorizations(call, account_id="123456789012", region="us-east-1",
                                     caller_arn="arn:aws:iam::123456789012:user/alice")
        except Unmapped as err:
            assert (err.service, err.operation) == (service, operation)
            continue
        assert targets and all(t.action.count(":") == 1 and (t.resource == "*" or t.resource.startswith("arn:"))
                               for t in targets), operation
