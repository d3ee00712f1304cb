"""`together-rerank spec-diff OLD NEW`: what changed between two OpenAPI documents, how badly."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_SPEC_CHANGED,
    CLIError,
    HelpFormatter,
    exit_codes,
)

__all__ = ["EXIT_SPEC_CHANGED", "add_spec_diff_command"]


def add_spec_diff_command(commands: Any) -> None:
    """Register `spec-diff`."""
    parser = commands.add_parser(
        "spec-diff",
        help="classify the changes between two OpenAPI documents (breaking, warning, info)",
        description=(
            "Compare two OpenAPI 3.1 documents and list every change with its severity for SDK "
            "users, its JSON pointer and why. OLD and NEW are paths or git:REF:PATH "
            "(git:HEAD:openapi.yaml)."
        ),
        formatter_class=HelpFormatter,
        epilog=exit_codes(
            (EXIT_OK, "no change at or above --fail-on"),
            (EXIT_SPEC_CHANGED, "some change is at or above --fail-on"),
            (EXIT_BAD_INPUT, "a document cannot be read, or is not an OpenAPI document"),
        ),
    )
    parser.add_argument("old", metavar="OLD", help="the old document: a path or git:REF:PATH")
    parser.add_argument("new", metavar="NEW", help="the new document: a path or git:REF:PATH")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--fail-on",
        choices=("breaking", "warning", "info"),
        default="breaking",
        help="the least severe change that makes the exit code non-zero (default: breaking)",
    )
    parser.add_argument(
        "--python-api",
        metavar="REF",
        help="also compare the public Python API of together_rerank at git REF with the "
        "working tree (griffe check)",
    )
    parser.set_defaults(run=run_spec_diff)


def run_spec_diff(args: argparse.Namespace) -> int:
    from ..specdiff import (
        Severity,
        SpecLoadError,
        diff_specs,
        fails,
        format_json,
        format_text,
        load_document,
    )

    try:
        old, new = load_document(args.old), load_document(args.new)
    except SpecLoadError as exc:
        raise CLIError(str(exc)) from None
    try:
        changes = diff_specs(old, new)
    except RecursionError:
        raise CLIError(f"{args.old}, {args.new}: nested too deeply to compare") from None
    if args.python_api:
        from ..specdiff.pyapi import python_api_changes

        try:
            changes = [*changes, *python_api_changes(args.python_api)]
        except (SpecLoadError, OSError, RuntimeError) as exc:
            # griffe says so with OSError (not a git repository) or RuntimeError (no such ref).
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise CLIError(f"--python-api {args.python_api}: {reason}") from None
    render = format_json if args.json else format_text
    sys.stdout.write(render(changes, old=args.old, new=args.new))
    return EXIT_SPEC_CHANGED if fails(changes, Severity(args.fail_on)) else EXIT_OK
