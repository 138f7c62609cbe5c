"""One seam: only the code that runs where the account lives touches moto."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "labkit"
# The account and what it runs on each request: these live with moto's backends, in the kernel
# (in-kernel mode) or in the lab server's process.
ACCOUNT_SIDE = {
    "host/account.py", "host/server.py", "mockaws.py", "seed.py", "identity.py", "organization.py", "clock.py",
    "trail.py", "actions/state.py", "actions/tags.py", "actions/resource_policies.py", "apis/sts.py", "apis/iam_usage.py",
    "apis/organizations.py",
}


def _moto_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "moto"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "moto":
            found.append(node.module or "")
    return found


def test_only_the_account_side__imports_moto():
    offenders = {}
    for path in PACKAGE.rglob("*.py"):
        name = path.relative_to(PACKAGE).as_posix()
        if name not in ACCOUNT_SIDE and _moto_imports(path):
            offenders[name] = _moto_imports(path)
    assert offenders == {}


def test_the_kernel_side__reaches_the_account_only_through_its_interface():
    # The Lab and what a learner's kernel runs (checks, widgets, pictures, the server's client)
    # hold no moto import and no second copy of the account's look-ups.
    for name in ("lab.py", "host/remote.py", "checks/__init__.py", "widgets/explorer.py", "plots.py", "account.py"):
        assert _moto_imports(PACKAGE / name) == [], name
    assert not (PACKAGE / "remote.py").exists() and not (PACKAGE / "server.py").exists()
