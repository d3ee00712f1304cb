"""The `together-rerank` command: serve, rerank, check, spec-diff.

Exit codes are part of the interface, so scripts can tell failures apart:
0 success, 1 unexpected failure, 2 bad input or usage, 3 no API key,
4 server unreachable, 5 the server answered with an error, 6 a contract
check failed, 7 `serve` could not start (address in use, unknown host),
8 `check --fail-on-skip`: no property failed but some could not be checked,
9 `spec-diff` found a change at or above --fail-on, 130 interrupted (Ctrl-C),
141 the reader of stdout went away (as if killed by SIGPIPE). Each command's
--help lists its own.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    InvalidArgumentError,
    MissingAPIKeyError,
)
from .._secrets import display_url
from .._version import __version__
from ._common import (
    EXIT_API_ERROR,
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    EXIT_CHECK_SKIPPED,
    EXIT_CONNECTION,
    EXIT_INTERRUPTED,
    EXIT_NO_KEY,
    EXIT_OK,
    EXIT_SERVER_START,
    EXIT_SPEC_CHANGED,
    CLIError,
    HelpFormatter,
    exit_codes,
    fail,
)
from .check import add_check_command
from .rerank import add_rerank_command
from .serve import add_serve_command
from .spec_diff import add_spec_diff_command

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="together-rerank",
        description="Rerank documents with the Together API, or serve and check it locally.",
        formatter_class=HelpFormatter,
        epilog=exit_codes(
            (EXIT_OK, "success"),
            (1, "an unexpected failure (a bug: please report it)"),
            (EXIT_BAD_INPUT, "bad input or usage"),
            (EXIT_NO_KEY, "no API key"),
            (EXIT_CONNECTION, "the server cannot be reached"),
            (EXIT_API_ERROR, "the server answered with an error"),
            (EXIT_CHECK_FAILED, "check: a contract property failed"),
            (EXIT_SERVER_START, "serve: could not start (address in use, unknown host)"),
            (EXIT_CHECK_SKIPPED, "check --fail-on-skip: a property could not be checked"),
            (EXIT_SPEC_CHANGED, "spec-diff: a change at or above --fail-on"),
            (EXIT_INTERRUPTED, "interrupted (Ctrl-C)"),
        )
        + "\n\n'together-rerank COMMAND --help' lists each command's own.",
    )
    # The installed package's version, as the code running now says it.
    parser.add_argument("--version", action="version", version=f"together-rerank {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_serve_command(commands)
    add_rerank_command(commands)
    add_check_command(commands)
    add_spec_diff_command(commands)
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
        url = display_url(exc.request.url.copy_with(query=None))
        return fail(f"cannot reach {url}: {exc}", EXIT_CONNECTION)
    except APIStatusError as exc:
        return fail(str(exc), EXIT_API_ERROR)
    except APIError as exc:
        return fail(str(exc), EXIT_API_ERROR)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): exit as a process killed by SIGPIPE does.
        _silence_stdout()
        return 128 + 13
    return code


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout has no file descriptor (captured in tests)
        pass


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
