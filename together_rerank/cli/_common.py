"""What every subcommand shares: exit codes, their help text, one-line errors, reading input."""

from __future__ import annotations

import argparse
import codecs
import sys
from collections.abc import Iterator
from typing import BinaryIO

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_NO_KEY = 3
EXIT_CONNECTION = 4
EXIT_API_ERROR = 5
EXIT_CHECK_FAILED = 6
EXIT_SERVER_START = 7
EXIT_CHECK_SKIPPED = 8
EXIT_SPEC_CHANGED = 9
EXIT_INTERRUPTED = 130


class CLIError(Exception):
    """A failure to report as one line on stderr, with an exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def fail(message: str, code: int) -> int:
    """Print `message` as one line on stderr and return `code`."""
    print(f"together-rerank: error: {message}", file=sys.stderr)
    return code


def exit_codes(*codes: tuple[int, str]) -> str:
    """The epilog of a command's --help: each exit code it can return, and what it means."""
    lines = ["exit codes:"]
    lines += [f"  {code:<4} {meaning}" for code, meaning in codes]
    return "\n".join(lines)


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, except that the exit-code table keeps its lines."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("exit codes:"):
            return "\n".join(indent + line for line in text.splitlines())
        return super()._fill_text(text, width, indent)


def text_lines(path: str) -> Iterator[str]:
    """The lines of `path` (or stdin for '-'), decoded as UTF-8 with or without a BOM.

    Each line is decoded on its own, so that bytes that are not UTF-8 are
    reported with their line number (counting blank lines) rather than
    reaching the server as part of a query or document.
    """
    name = "<stdin>" if path == "-" else path
    if path == "-":
        yield from _decode(sys.stdin.buffer, name)
        return
    try:
        stream = open(path, "rb")  # noqa: SIM115  (closed below; opening errors are reported)
    except OSError as exc:
        raise CLIError(f"{path}: {exc.strerror or exc}") from None
    with stream:
        try:
            yield from _decode(stream, name)
        except OSError as exc:
            raise CLIError(f"{path}: {exc.strerror or exc}") from None


def _decode(stream: BinaryIO, name: str) -> Iterator[str]:
    for number, read in enumerate(stream, start=1):
        raw = read.removeprefix(codecs.BOM_UTF8) if number == 1 else read
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CLIError(
                f"{name}:{number}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at byte "
                f"{exc.start + 1} of the line)"
            ) from None
