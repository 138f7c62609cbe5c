"""Enforcement overhead: a typical mix of calls made as a user (decided by labkit's policy engine)
against the same calls made as the lab administrator (not enforced), in the same run.

Rounds alternate between the two callers; the script prints the median time per mix for each and
the ratio user/admin (target: at most 1.25), with the account in the kernel and in a lab server
(both callers on the same transport).

    python benchmarks/enforce.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from labkit import Lab


def mix(iam: Any, s3: Any, sts: Any) -> None:
    iam.list_users()
    iam.get_user(UserName="alice")
    iam.list_groups_for_user(UserName="alice")
    iam.list_attached_group_policies(GroupName="developers")
    iam.get_group_policy(GroupName="developers", PolicyName="AppDataReadWrite")
    s3.list_buckets()
    s3.list_objects_v2(Bucket="acme-app-data", Prefix="config/")
    s3.get_object(Bucket="acme-app-data", Key="config/app.json")["Body"].read()
    s3.put_object(Bucket="acme-app-data", Key="bench/note.txt", Body=b"x")
    s3.head_object(Bucket="acme-app-data", Key="bench/note.txt")
    sts.get_caller_identity()


def measure(mode: str, rounds: int) -> tuple[float, float]:
    """Median ms per mix for the administrator and for carol, with the account in ``mode``."""
    with Lab(mode=mode) as lab:
        admin = lab.session()
        user = lab.session_as("carol")  # admins + developers: every call in the mix is allowed
        callers = {
            "admin": tuple(admin.client(s) for s in ("iam", "s3", "sts")),
            "user": tuple(user.client(s) for s in ("iam", "s3", "sts")),
        }
        for clients in callers.values():  # warm up: service models, policy compilation
            mix(*clients)
        times: dict[str, list[float]] = {"admin": [], "user": []}
        for _ in range(rounds):
            for name, clients in callers.items():
                start = time.perf_counter()
                mix(*clients)
                times[name].append(time.perf_counter() - start)
    return statistics.median(times["admin"]) * 1000, statistics.median(times["user"]) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    for mode in ("kernel", "server"):
        admin_ms, user_ms = measure(mode, args.rounds)
        print(f"[{mode}] administrator (not enforced): median {admin_ms:.1f} ms per mix of 11 calls over {args.rounds} rounds")
        print(f"[{mode}] user carol (enforced):        median {user_ms:.1f} ms per mix of 11 calls over {args.rounds} rounds")
        print(f"[{mode}] enforcement ratio user/admin: {user_ms / admin_ms:.2f} (target <= 1.25)")


if __name__ == "__main__":
    main()
