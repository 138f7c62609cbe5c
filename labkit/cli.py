"""The ``labkit`` command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from labkit.errors import LabkitError

__all__ = ["main"]


def _build(args: argparse.Namespace) -> int:
    from labkit.authoring import build, stale
    from labkit.recording import record, stale_references

    root = Path(args.root).resolve()
    if args.check:
        out_of_date = stale(root) + stale_references(root)
        for path in out_of_date:
            print(f"out of date: {path.relative_to(root)}")
        if out_of_date:
            print("Run `labkit build --record` (or `make notebooks`) to regenerate them.")
            return 1
        print("All generated notebooks are up to date.")
        return 0
    for path in build(root):
        print(f"wrote {path.relative_to(root)}")
    if args.record:
        for path in record(root, only_stale=not args.all):
            print(f"recorded {path.relative_to(root)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labkit", description="labkit: an offline AWS IAM lab for Jupyter.")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="generate notebooks, solutions and exercises from sources/")
    build.add_argument("--root", default=".", help="the kit's top folder (default: here)")
    build.add_argument("--check", action="store_true", help="only report generated files that are out of date")
    build.add_argument("--record", action="store_true", help="also re-run lessons and solutions to record nbval's reference outputs")
    build.add_argument("--all", action="store_true", help="with --record: record every reference, not just stale ones")
    build.set_defaults(run=_build)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except LabkitError as err:
        print(f"labkit: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
