"""What every subcommand shares: exit codes and one-line errors."""

from __future__ import annotations

import sys

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_NO_KEY = 3
EXIT_CONNECTION = 4
EXIT_API_ERROR = 5
EXIT_CHECK_FAILED = 6
EXIT_SERVER_START = 7
EXIT_CHECK_SKIPPED = 8


class CLIError(Exception):
    """A failure to report as one line on stderr, with an exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def fail(message: str, code: int) -> int:
    """Print `message` as one line on stderr and return `code`."""
    print(f"together-rerank: error: {message}", file=sys.stderr)
    return code
