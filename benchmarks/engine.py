"""Policy decisions per second: labkit.policy.evaluate against moto's own IAM policy evaluator.

A deterministic workload (10 identity policies of 5 statements each, with action and resource
wildcards and conditions; 10,000 requests over a pool of actions, resources and contexts) is
decided by both engines in the same process. labkit gets compiled ``Policy`` objects and prebuilt
``Request`` objects; moto gets pre-parsed ``moto.iam.access_control.IAMPolicy`` objects and is
driven the way its ``IAMRequestBase.check_action_permitted`` drives them (any DENIED wins, else any
PERMITTED allows). The script prints each rate (best of several rounds; labkit's also with the
cost of building each Request) and, on its last line, the ratio. The two engines differ in what
they decide (moto treats a failed condition as a deny, ignores most operators and every
principal); the "allowed" shares printed are for information only.

    python benchmarks/engine.py [--requests N] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import random
import time

ACCOUNT = "123456789012"
SERVICES = {
    "s3": ["GetObject", "PutObject", "DeleteObject", "ListBucket", "GetBucketPolicy", "PutBucketTagging"],
    "ec2": ["DescribeInstances", "RunInstances", "StopInstances", "StartInstances", "DescribeVolumes"],
    "iam": ["CreateAccessKey", "ListAccessKeys", "GetUser", "CreateUser", "DeleteUser", "UpdateAccessKey"],
    "dynamodb": ["GetItem", "PutItem", "Query", "Scan", "DeleteItem"],
    "sqs": ["SendMessage", "ReceiveMessage", "DeleteMessage", "GetQueueUrl"],
    "kms": ["Decrypt", "Encrypt", "GenerateDataKey", "DescribeKey"],
}


def resource_for(rng: random.Random, service: str) -> str:
    n = rng.randrange(8)
    return {
        "s3": f"arn:aws:s3:::bucket-{n}/reports/{rng.randrange(50)}.csv",
        "ec2": f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-{n:017x}",
        "iam": f"arn:aws:iam::{ACCOUNT}:user/team{n % 3}/user-{n}",
        "dynamodb": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/table-{n}",
        "sqs": f"arn:aws:sqs:us-east-1:{ACCOUNT}:queue-{n}",
        "kms": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{n:08d}-aaaa-bbbb-cccc-dddddddddddd",
    }[service]


def statement(rng: random.Random, sid: int) -> dict:
    service = rng.choice(sorted(SERVICES))
    names = SERVICES[service]
    action = rng.choice([
        f"{service}:{rng.choice(names)}",
        f"{service}:{rng.choice(names)[:4]}*",
        f"{service}:*",
        [f"{service}:{a}" for a in rng.sample(names, 2)],
    ])
    n = rng.randrange(8)
    resource = rng.choice([
        "*",
        resource_for(rng, service).rsplit("/", 1)[0] + "/*" if service in ("s3", "iam") else resource_for(rng, service),
        resource_for(rng, service)[:-3] + "*",
        f"arn:aws:{service}:*:{ACCOUNT}:*" if service != "s3" else f"arn:aws:s3:::bucket-{n}*",
    ])
    body = {"Sid": f"S{sid}", "Effect": "Deny" if rng.random() < 0.15 else "Allow", "Action": action, "Resource": resource}
    roll = rng.random()
    if roll < 0.25:
        body["Condition"] = {"StringEquals": {"aws:RequestedRegion": rng.choice(["us-east-1", "eu-west-1"])}}
    elif roll < 0.45:
        body["Condition"] = {"StringEquals": {"aws:PrincipalTag/team": rng.choice(["red", "blue", "green"])}}
    return body


def workload(seed: int, requests: int) -> tuple[list[str], list[tuple[str, str, dict]]]:
    rng = random.Random(seed)
    policies = [json.dumps({"Version": "2012-10-17", "Statement": [statement(rng, 5 * p + s) for s in range(5)]})
                for p in range(10)]
    calls = []
    for _ in range(requests):
        service = rng.choice(sorted(SERVICES))
        context = {"aws:RequestedRegion": rng.choice(["us-east-1", "eu-west-1", "us-west-2"]),
                   "aws:PrincipalTag/team": rng.choice(["red", "blue", "green"])}
        calls.append((f"{service}:{rng.choice(SERVICES[service])}", resource_for(rng, service), context))
    return policies, calls


def time_labkit(policies: list[str], calls: list[tuple[str, str, dict]], rounds: int) -> tuple[float, float, float]:
    """(decisions/s with prebuilt Requests, share allowed, decisions/s building each Request too)."""
    from labkit.policy import Policy, Request, evaluate

    compiled = tuple(Policy.from_json(text, policy_id=f"bench-{i}", policy_type="user-managed")
                     for i, text in enumerate(policies))
    principal = f"arn:aws:iam::{ACCOUNT}:user/bench"
    requests = [Request(action, resource, principal, context=context) for action, resource, context in calls]
    best, allowed = float("inf"), 0
    for _ in range(rounds):
        start = time.perf_counter()
        results = [evaluate(r, identity_policies=compiled).allowed for r in requests]
        best = min(best, time.perf_counter() - start)
        allowed = sum(results)
    with_requests = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for action, resource, context in calls:
            evaluate(Request(action, resource, principal, context=context), identity_policies=compiled)
        with_requests = min(with_requests, time.perf_counter() - start)
    return len(requests) / best, allowed / len(requests), len(calls) / with_requests


def time_moto(policies: list[str], calls: list[tuple[str, str, dict]], rounds: int) -> tuple[float, float]:
    from moto.iam.access_control import IAMPolicy, PermissionResult

    parsed = [IAMPolicy(text) for text in policies]
    denied, permitted = PermissionResult.DENIED, PermissionResult.PERMITTED

    def decide(action: str, resource: str, context: dict) -> bool:
        allowed = False
        for policy in parsed:
            result = policy.is_action_permitted(action, resource, incoming_condition_values=context)
            if result == denied:
                return False
            if result == permitted:
                allowed = True
        return allowed

    best, allowed = float("inf"), 0
    for _ in range(rounds):
        start = time.perf_counter()
        results = [decide(*call) for call in calls]
        best = min(best, time.perf_counter() - start)
        allowed = sum(results)
    return len(calls) / best, allowed / len(calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    policies, calls = workload(args.seed, args.requests)
    labkit_rate, labkit_allowed, labkit_building = time_labkit(policies, calls, args.rounds)
    moto_rate, moto_allowed = time_moto(policies, calls, max(1, args.rounds // 2))
    print(f"workload: 10 policies x 5 statements, {len(calls):,} requests (seed {args.seed})")
    print(f"labkit.policy.evaluate: {labkit_rate:12,.0f} decisions/s  ({labkit_allowed:.1%} allowed)")
    print(f"  (building each Request too: {labkit_building:,.0f} decisions/s)")
    print(f"moto IAMPolicy:         {moto_rate:12,.0f} decisions/s  ({moto_allowed:.1%} allowed)")
    print(f"ratio labkit/moto: {labkit_rate / moto_rate:.1f}x")


if __name__ == "__main__":
    main()
