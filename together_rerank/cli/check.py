"""`together-rerank check URL`: does the server at URL speak the Together rerank API?"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .._exceptions import (
    APIConnectionError,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
)
from .._secrets import display_url
from ._common import (
    EXIT_API_ERROR,
    EXIT_CHECK_FAILED,
    EXIT_CHECK_SKIPPED,
    EXIT_CONNECTION,
    EXIT_OK,
    CLIError,
)
from .rerank import DEFAULT_MODEL

DEFAULT_MAX_EXAMPLES = 50
# Missing modules that mean "the check extra is not installed", not a bug.
_EXTRA_MODULES = frozenset({"schemathesis", "hypothesis", "hypothesis_jsonschema", "yaml"})


def add_check_command(commands: Any) -> None:
    """Register `check`."""
    parser = commands.add_parser(
        "check",
        help="check that a server speaks the Together rerank API (contract tests)",
        description=(
            "Send generated requests to the server at URL and check its answers against "
            "openapi.yaml (schemathesis) and against what a ranking means (through this SDK). "
            "Prints each property as PASS, FAIL or SKIP (not enough usable examples to "
            "check it), with the smallest failing request. Exit codes: 0 no property failed "
            "(a SKIP is reported as a warning), 6 one failed, 4 the server cannot be reached, "
            "5 it refuses the key, URL or model, 2 bad options, 8 with --fail-on-skip: none "
            "failed but some were skipped."
        ),
    )
    parser.add_argument(
        "url",
        metavar="URL",
        help=(
            "the server's base URL, as for the SDK: a bare host gets /v1; for a server "
            "mounted at the root, its rerank endpoint (http://127.0.0.1:7997/rerank)"
        ),
    )
    parser.add_argument("--api-key", help="the key to send (default: $TOGETHER_API_KEY)")
    parser.add_argument(
        "--model",
        "-m",
        help=(
            f"rerank model (default: {DEFAULT_MODEL} if GET /models lists it or nothing "
            "readable, else the first rerank model it lists)"
        ),
    )
    parser.add_argument(
        "--embedding-model",
        help="embedding model for POST /embeddings (default: the first GET /models lists)",
    )
    parser.add_argument(
        "--no-embeddings",
        dest="embeddings",
        action="store_const",
        const=False,
        default=None,
        help=(
            "leave POST /embeddings out (a rerank-only server; by default decided from "
            "GET /models, or a 404 to a probe)"
        ),
    )
    parser.add_argument(
        "--max-examples",
        type=int,
        default=DEFAULT_MAX_EXAMPLES,
        metavar="N",
        help=f"generated examples per property (default: {DEFAULT_MAX_EXAMPLES})",
    )
    parser.add_argument(
        "--seed", type=int, help="seed for a reproducible run (default: random, reported)"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="PROPERTY",
        help="check only this property (repeatable)",
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds per request (default: 30)"
    )
    parser.add_argument(
        "--fail-on-skip",
        action="store_true",
        help=f"exit {EXIT_CHECK_SKIPPED} when a property could not be checked (default: warn)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        from ..contract import PropertyResult, run_check
    except ImportError as exc:
        if exc.name not in _EXTRA_MODULES:
            raise
        raise CLIError(
            f"the checker needs its extra dependencies ({exc.name}): "
            "pip install 'together-rerank[check]'"
        ) from None

    def progress(result: PropertyResult) -> None:
        print(f"{result.status.value}  {result.name}", file=sys.stderr, flush=True)

    url = display_url(args.url)  # for messages: never the URL's password
    try:
        report = run_check(
            args.url,
            api_key=args.api_key,
            model=args.model,
            embedding_model=args.embedding_model,
            embeddings=args.embeddings,
            max_examples=args.max_examples,
            seed=args.seed,
            only=args.only,
            timeout=args.timeout,
            on_result=progress,
        )
    except APIConnectionError as exc:
        raise CLIError(f"cannot reach {url}: {exc}", EXIT_CONNECTION) from None
    except (AuthenticationError, PermissionDeniedError) as exc:
        raise CLIError(
            f"{url} refused the API key ({exc}); pass --api-key or set TOGETHER_API_KEY",
            EXIT_API_ERROR,
        ) from None
    except NotFoundError as exc:
        raise CLIError(
            f"{url}: a plain rerank request with model {args.model or DEFAULT_MODEL!r} "
            f"got 404 ({exc}); "
            "check the URL and --model",
            EXIT_API_ERROR,
        ) from None
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(report.format())
    if not report.conforms:
        return EXIT_CHECK_FAILED
    if report.skipped:
        names = ", ".join(report.skipped)
        print(
            f"together-rerank: warning: not checked (SKIP): {names}; raise --max-examples",
            file=sys.stderr,
        )
        if args.fail_on_skip:
            return EXIT_CHECK_SKIPPED
    return EXIT_OK
