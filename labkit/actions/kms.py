"""AWS KMS: keys named by id, ARN or alias (authorized on the key), aliases, re-encryption, kms: keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from labkit.actions.mapping import Request, Rules, Value
from labkit.actions.model import Target
from labkit.actions.state import kms_key_id, kms_key_of_ciphertext

__all__ = ["RULES"]


def _key_id(req: Request, value: Any) -> str | None:
    """The key id a KeyId-style value names: a key id, a key ARN, an alias name or an alias ARN
    (AWS authorizes aliased calls on the key itself; an alias unknown to the lab gives ``*``)."""
    if not isinstance(value, str) or not value:
        return None
    if ":key/" in value:
        return value.split(":key/", 1)[1]
    if "alias/" in value:
        return kms_key_id("alias/" + value.split("alias/", 1)[1], req.account, req.region) or "*"
    return value


def _key(req: Request) -> Value:
    for param in ("KeyId", "TargetKeyId"):
        if param in req.params:
            return _key_id(req, req.params[param])
    if req.operation == "DeleteAlias":
        return _key_id(req, req.params.get("AliasName"))
    if req.operation == "Decrypt":  # the key is the one the ciphertext names
        return kms_key_of_ciphertext(req.params.get("CiphertextBlob")) or "*"
    return "*" if req.operation == "RetireGrant" else None  # a grant token names no key


def _alias(req: Request) -> Value:
    name = req.params.get("AliasName")
    return name.split("alias/", 1)[1] if isinstance(name, str) and "alias/" in name else None


_RENAMED = {
    # kms: condition key -> the request parameter it comes from, where the names differ
    "kms:KeyOrigin": "Origin",
    "kms:ScheduleKeyDeletionPendingWindowInDays": "PendingWindowInDays",
    "kms:DataKeyPairSpec": "KeyPairSpec",
    "kms:GrantOperations": "Operations",
}


def _context(req: Request, action: str) -> dict[str, Any]:
    params = req.params
    context: dict[str, Any] = {"kms:CallerAccount": req.caller.split(":")[4] if req.caller.count(":") >= 5 else req.account}
    key = params.get("KeyId")
    if isinstance(key, str) and "alias/" in key:
        context["kms:RequestAlias"] = "alias/" + key.split("alias/", 1)[1]
    for key_name, param in _RENAMED.items():
        value = params.get(param)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            context[key_name] = str(value)
        elif isinstance(value, list) and value:
            context[key_name] = tuple(str(v) for v in value)
    encryption = params.get("EncryptionContext")
    if isinstance(encryption, Mapping) and encryption:
        context.update((f"kms:EncryptionContext:{k}", str(v)) for k, v in encryption.items())
        context["kms:EncryptionContextKeys"] = tuple(encryption)
    constraints = params.get("Constraints")
    if isinstance(constraints, Mapping) and constraints:
        context["kms:GrantConstraintType"] = next(iter(constraints))
    return context


RULES = {"kms": Rules("kms", variables={"KeyId": _key, "Alias": _alias}, context=_context)}
_rules = RULES["kms"]


@_rules.handler("ReEncrypt")
def _re_encrypt(req: Request) -> list[Target]:
    """Re-encrypting needs kms:ReEncryptFrom on the source key and kms:ReEncryptTo on the
    destination key (KMS API Reference, ReEncrypt)."""
    source = _key_id(req, req.params.get("SourceKeyId")) or kms_key_of_ciphertext(req.params.get("CiphertextBlob"))
    destination = _key_id(req, req.params.get("DestinationKeyId"))
    if destination is None:
        raise req.unmapped("no DestinationKeyId")
    targets = req.targets("kms:ReEncryptFrom", values={"KeyId": source or "*"})
    return targets + req.targets("kms:ReEncryptTo", values={"KeyId": destination})


@_rules.handler("UpdateAlias")
def _update_alias(req: Request) -> list[Target]:
    """Moving an alias needs kms:UpdateAlias on the alias, the key it leaves and the key it joins."""
    old = _key_id(req, req.params.get("AliasName"))
    targets = req.targets("kms:UpdateAlias")
    if old is not None:
        targets += req.targets("kms:UpdateAlias", values={"KeyId": old}, only=["key"])
    return [t for i, t in enumerate(targets) if t not in targets[:i]]
