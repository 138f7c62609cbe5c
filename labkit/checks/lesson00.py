"""Checks for exercises/00_welcome: first calls against the lab account."""

from __future__ import annotations

from labkit.checks import CheckContext, Fail, check

NOTEBOOK = "00_welcome"


def _require_answer(ctx: CheckContext, what: str) -> object:
    if ctx.answer is None:
        raise Fail(f"No answer yet: set `answer` to {what}, then run this cell again.")
    return ctx.answer


@check("welcome.1", points=1, hint="iam.list_users() returns a dict; its 'Users' list has one entry per user.")
def count_users(ctx: CheckContext) -> None:
    """How many IAM users the company has."""
    answer = _require_answer(ctx, "the number of IAM users in the account")
    users = [u for page in ctx.client("iam").get_paginator("list_users").paginate() for u in page["Users"]]
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise Fail(f"`answer` should be a whole number, not {type(answer).__name__}.")
    if answer != len(users):
        raise Fail(f"{answer} is not the number of users in the account.")


@check("welcome.2", points=1, hint="s3.list_buckets()['Buckets'] holds one dict per bucket, with its 'Name'.")
def bucket_names(ctx: CheckContext) -> None:
    """The names of the company's S3 buckets."""
    answer = _require_answer(ctx, "a list of the bucket names")
    names = sorted(b["Name"] for b in ctx.client("s3").list_buckets()["Buckets"])
    if not isinstance(answer, (list, tuple, set)) or not all(isinstance(a, str) for a in answer):
        raise Fail("`answer` should be a list of bucket names (strings).")
    if sorted(answer) != names:
        missing = sorted(set(names) - set(answer))
        extra = sorted(set(answer) - set(names))
        detail = "; ".join(p for p in (f"missing {missing}" if missing else "", f"not buckets: {extra}" if extra else "") if p)
        raise Fail(f"That is not the list of buckets ({detail or 'duplicates?'}).")


@check("welcome.3", points=2, hint="s3.put_object(Bucket=..., Key=..., Body=b'...') uploads an object.")
def hello_object(ctx: CheckContext) -> None:
    """An object hello.txt in acme-sandbox saying Hello, IAM!"""
    s3 = ctx.client("s3")
    try:
        body = s3.get_object(Bucket="acme-sandbox", Key="hello.txt")["Body"].read()
    except s3.exceptions.NoSuchKey:
        raise Fail("There is no object hello.txt in the bucket acme-sandbox yet.") from None
    if body.decode("utf-8", "replace").strip() != "Hello, IAM!":
        raise Fail(f"hello.txt is there, but it says {body[:40]!r} instead of 'Hello, IAM!'.")
