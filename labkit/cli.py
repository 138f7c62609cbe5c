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


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops grading as Ctrl-C does: kernels killed, results kept


def _grade(args: argparse.Namespace) -> int:
    import signal

    from labkit.grading.classroom import grade_class

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        report = grade_class(
            Path(args.submissions),
            Path(args.out),
            jobs=args.jobs,
            timeout=args.timeout,
            notebooks=args.notebook,
            release=Path(args.release) if args.release else None,
            progress=sys.stderr,
        )
    except KeyboardInterrupt:
        print(
            f"\nlabkit: interrupted. Students graded so far are kept in {Path(args.out) / '.results'}; "
            "run the same command again to grade the rest.",
            file=sys.stderr,
        )
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(report)
    return 0


def _check(args: argparse.Namespace) -> int:
    from labkit.checks import get_check
    from labkit.grading.grader import check_notebook

    result = check_notebook(Path(args.notebook), name=args.name, timeout=args.timeout, release=Path(args.release) if args.release else None)
    for verdict in result.verdicts:
        print(verdict)
        if not verdict.passed and get_check(verdict.check_id).hint:
            print(f"    Hint: {get_check(verdict.check_id).hint}")
    for note in result.notes:
        print(f"note: {note}")
    passed = sum(v.passed for v in result.verdicts)
    print(f"public checks passed: {passed}/{len(result.verdicts)} ({result.points}/{result.max_points} points)")
    # Exit status for scripts: 0 when every public check passed, 1 otherwise.
    return 0 if passed == len(result.verdicts) else 1


def _serve(args: argparse.Namespace) -> int:
    from labkit.host.serve import serve_lab

    return serve_lab(args.scenario, port=args.port, user=args.user)


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be a port number, 0 to 65535 (0: any free port)")
    return value


def _jobs(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labkit", description="labkit: an offline AWS IAM lab for Jupyter.")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="generate notebooks, solutions and exercises from sources/")
    build.add_argument("--root", default=".", help="the kit's top folder (default: here)")
    build.add_argument("--check", action="store_true", help="only report generated files that are out of date")
    build.add_argument("--record", action="store_true", help="also re-run lessons and solutions to record nbval's reference outputs")
    build.add_argument("--all", action="store_true", help="with --record: record every reference, not just stale ones")
    build.set_defaults(run=_build)
    grade = commands.add_parser("grade", help="grade a class: one folder per student, holding their exercise notebooks")
    grade.add_argument("submissions", help="folder with one folder per student (named by the student's id)")
    grade.add_argument("--out", required=True, help="folder for gradebook.csv/json, feedback/ and report.html")
    grade.add_argument("--jobs", type=_jobs, default=None, help="submissions graded at once (default: one per core)")
    grade.add_argument("--timeout", type=_positive, default=120.0, help="seconds each notebook's cells may run (default: 120)")
    grade.add_argument("--notebook", action="append", help="exercise to grade, e.g. 01_users_and_groups (repeatable; default: those submitted)")
    grade.add_argument("--release", help="the kit's released exercises folder (default: ./exercises)")
    grade.set_defaults(run=_grade)
    check = commands.add_parser("check", help="check your exercise notebook as the grader would (public checks only)")
    check.add_argument("notebook", help="your exercise notebook, e.g. exercises/01_users_and_groups.ipynb")
    check.add_argument("--name", help="the exercise it answers, when the file was renamed (e.g. 01_users_and_groups)")
    check.add_argument("--timeout", type=_positive, default=120.0, help="seconds the run may take (default: 120)")
    check.add_argument("--release", help="the kit's released exercises folder (default: ./exercises)")
    check.set_defaults(run=_check)
    serve = commands.add_parser("serve", help="run a lab account for a terminal: reach it with the AWS CLI or any AWS SDK")
    serve.add_argument("--port", type=_port, default=0, help="port on 127.0.0.1 (default: any free port)")
    serve.add_argument("--scenario", default="acme", help="built-in scenario name or scenario file (default: acme)")
    serve.add_argument("--user", help="also make an access key for this lab user and print it, ready to use")
    serve.set_defaults(run=_serve)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except LabkitError as err:
        print(f"labkit: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
