"""The `together-rerank` command: serve, rerank, check.

Exit codes are part of the interface, so scripts can tell failures apart:
0 success, 1 unexpected failure, 2 bad input or usage, 3 no API key,
4 server unreachable, 5 the server answered with an error, 6 a contract
check failed, 7 `serve` could not start (address in use, unknown host),
8 `check --fail-on-skip`: no property failed but some could not be checked.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    InvalidArgumentError,
    MissingAPIKeyError,
)
from ._common import EXIT_API_ERROR, EXIT_BAD_INPUT, EXIT_CONNECTION, EXIT_NO_KEY, CLIError, fail
from .check import add_check_command
from .rerank import add_rerank_command
from .serve import add_serve_command

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="together-rerank",
        description="Rerank documents with the Together API, or serve and check it locally.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_serve_command(commands)
    add_rerank_command(commands)
    add_check_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script exits with it)."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except CLIError as exc:
        return fail(str(exc), exc.exit_code)
    except MissingAPIKeyError as exc:
        return fail(
            f"{exc} For the local server: `together-rerank serve`, then "
            "TOGETHER_BASE_URL=http://127.0.0.1:8000/v1.",
            EXIT_NO_KEY,
        )
    except InvalidArgumentError as exc:
        return fail(str(exc), EXIT_BAD_INPUT)
    except APIConnectionError as exc:
        return fail(f"cannot reach {exc.request.url.copy_with(query=None)}: {exc}", EXIT_CONNECTION)
    except APIStatusError as exc:
        return fail(str(exc), EXIT_API_ERROR)
    except APIError as exc:
        return fail(str(exc), EXIT_API_ERROR)
    except KeyboardInterrupt:
        return 130
    return code


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
