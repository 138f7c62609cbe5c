"""Amazon DynamoDB: tables and indexes, batch, transaction and PartiQL calls, fine-grained access keys."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from labkit.actions.mapping import Request, Rules, Value
from labkit.actions.model import Target
from labkit.actions.state import dynamodb_key_schema

__all__ = ["RULES"]


def _table(req: Request) -> Value:
    name = req.params.get("TableName")
    if isinstance(name, str) and name.startswith("arn:"):
        return name.split(":table/", 1)[-1].split("/", 1)[0]
    return name if isinstance(name, str) and name else None


def _scalar(value: Any) -> str | None:
    """An AttributeValue's value as text (``{"S": "u1"}`` -> ``u1``)."""
    if isinstance(value, Mapping) and len(value) == 1:
        (kind, inner), = value.items()
        if kind in ("S", "N") and isinstance(inner, str):
            return inner
    return None


def _names(expression: Any, aliases: Any) -> list[str]:
    """Attribute names a projection or update expression mentions (``#n`` aliases resolved)."""
    if not isinstance(expression, str):
        return []
    aliases = aliases if isinstance(aliases, Mapping) else {}
    found = []
    for token in re.findall(r"#?[A-Za-z_][\w]*", expression):
        if token.upper() in ("SET", "REMOVE", "ADD", "DELETE", "AND", "OR", "NOT", "IF_NOT_EXISTS", "LIST_APPEND"):
            continue
        name = aliases.get(token, token) if token.startswith("#") else token
        if name not in found:
            found.append(name)
    return found


def _leading_keys(req: Request, table: str, params: Mapping[str, Any]) -> tuple[str, ...] | None:
    """``dynamodb:LeadingKeys``: the partition key values the request touches. The key attribute's
    name comes from the lab's table (or from a Key of one attribute, which can only be it)."""
    schema = dynamodb_key_schema(table, req.account, req.region)
    if schema is not None:
        hash_key = schema[0]
    elif isinstance(params.get("Key"), Mapping) and len(params["Key"]) == 1:
        hash_key = next(iter(params["Key"]))  # a key of one attribute is the partition key
    else:
        return None
    values: list[str] = []
    for holder in ("Key", "Item"):
        found = _scalar((params.get(holder) or {}).get(hash_key)) if isinstance(params.get(holder), Mapping) else None
        if found is not None:
            values.append(found)
    for key in params.get("Keys") or []:
        found = _scalar(key.get(hash_key)) if isinstance(key, Mapping) else None
        if found is not None:
            values.append(found)
    condition = params.get("KeyConditionExpression")
    if isinstance(condition, str):
        aliases = params.get("ExpressionAttributeNames") or {}
        bound = params.get("ExpressionAttributeValues") or {}
        for name, placeholder in re.findall(r"(#?[\w.]+)\s*=\s*(:\w+)", condition):
            if aliases.get(name, name) == hash_key and _scalar(bound.get(placeholder)) is not None:
                values.append(_scalar(bound[placeholder]))  # type: ignore[arg-type]
    legacy = (params.get("KeyConditions") or {}).get(hash_key)
    if isinstance(legacy, Mapping) and legacy.get("ComparisonOperator") == "EQ":
        found = _scalar((legacy.get("AttributeValueList") or [None])[0])
        if found is not None:
            values.append(found)
    return tuple(dict.fromkeys(values)) or None


def _item_context(req: Request, table: str, params: Mapping[str, Any]) -> dict[str, Any]:
    aliases = params.get("ExpressionAttributeNames")
    attributes = list(params.get("AttributesToGet") or [])
    attributes += _names(params.get("ProjectionExpression"), aliases)
    attributes += _names(params.get("UpdateExpression"), aliases)
    for holder in ("Item", "AttributeUpdates"):
        if isinstance(params.get(holder), Mapping):
            attributes += list(params[holder])
    context: dict[str, Any] = {"dynamodb:LeadingKeys": _leading_keys(req, table, params)}
    if attributes:
        context["dynamodb:Attributes"] = tuple(dict.fromkeys(attributes))
    return context


def _context(req: Request, action: str) -> dict[str, Any]:
    table = _table(req)
    return _item_context(req, table, req.params) if isinstance(table, str) else {}


RULES = {"dynamodb": Rules("dynamodb", variables={"TableName": _table}, context=_context)}
_rules = RULES["dynamodb"]


@_rules.handler("Query", "Scan")
def _read(req: Request) -> list[Target]:
    """A Query or Scan of an index is authorized on the index's ARN, else on the table's."""
    return req.targets(f"dynamodb:{req.operation}", only=["index" if req.params.get("IndexName") else "table"])


@_rules.handler("BatchGetItem", "BatchWriteItem")
def _batch(req: Request) -> list[Target]:
    """Batch calls are authorized once per table they touch, with that table's keys."""
    targets: list[Target] = []
    for table, request in (req.params.get("RequestItems") or {}).items():
        if req.operation == "BatchGetItem":
            params = request if isinstance(request, Mapping) else {}
        else:
            writes = [next(iter(w.values()), {}) for w in request or [] if isinstance(w, Mapping)]
            params = {"Keys": [w.get("Key") or w.get("Item") for w in writes]}
        targets += req.targets(f"dynamodb:{req.operation}", values={"TableName": table}, only=["table"],
                               context=_item_context(req, table, params))
    if not targets:
        raise req.unmapped("no RequestItems")
    return targets


_TRANSACT = {"Get": "GetItem", "Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
             "ConditionCheck": "ConditionCheckItem"}


@_rules.handler("TransactGetItems", "TransactWriteItems")
def _transact(req: Request) -> list[Target]:
    """A transaction needs the item action for each of its items (dynamodb:GetItem, PutItem,
    UpdateItem, DeleteItem, ConditionCheckItem), with ``dynamodb:EnclosingOperation`` set."""
    targets: list[Target] = []
    for item in req.params.get("TransactItems") or []:
        for kind, params in item.items():
            action = _TRANSACT.get(kind)
            if action is None or not isinstance(params, Mapping) or not params.get("TableName"):
                raise req.unmapped(f"transaction item {kind!r}")
            context = {**_item_context(req, params["TableName"], params), "dynamodb:EnclosingOperation": req.operation}
            targets += req.targets(f"dynamodb:{action}", values={"TableName": params["TableName"]}, only=["table"],
                                   context=context)
    if not targets:
        raise req.unmapped("no TransactItems")
    return targets


_PARTIQL = re.compile(
    r"""^\s*(?:(SELECT)\b.*?\bFROM|(INSERT)\s+INTO|(UPDATE)|(DELETE)\s+FROM)\s+"?([\w.-]+?)"?(?:\."?([\w.-]+?)"?)?(?:\s|$)""",
    re.IGNORECASE | re.DOTALL,
)


@_rules.handler("ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction")
def _partiql(req: Request) -> list[Target]:
    """PartiQL statements need dynamodb:PartiQLSelect, PartiQLInsert, PartiQLUpdate or
    PartiQLDelete on the table (or index) each statement names."""
    if req.operation == "ExecuteStatement":
        statements = [req.params.get("Statement")]
    else:
        key = "Statements" if req.operation == "BatchExecuteStatement" else "TransactStatements"
        statements = [s.get("Statement") for s in req.params.get(key) or [] if isinstance(s, Mapping)]
    targets: list[Target] = []
    for statement in statements:
        match = _PARTIQL.match(statement or "")
        if match is None:
            raise req.unmapped(f"cannot read the PartiQL statement {statement!r}")
        verb = next(g for g in match.groups()[:4] if g).capitalize()
        table, index = match.group(5), match.group(6)
        values = {"TableName": table, "IndexName": index}
        targets += req.targets(f"dynamodb:PartiQL{verb}", values=values, only=["index" if index else "table"])
    if not targets:
        raise req.unmapped("no statements")
    return targets
