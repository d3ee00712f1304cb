"""`together-rerank rerank`: rank the lines of a file against a query, through the SDK."""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .._client import Together
from ..types import RerankResponse
from ._common import (
    EXIT_API_ERROR,
    EXIT_BAD_INPUT,
    EXIT_CONNECTION,
    EXIT_INTERRUPTED,
    EXIT_NO_KEY,
    EXIT_OK,
    CLIError,
    HelpFormatter,
    exit_codes,
    text_lines,
)
from ._options import add_request_options, request_options
from .rerank_many import run_queries

DEFAULT_MODEL = "Salesforce/Llama-Rank-V1"
FORMATS = ("auto", "text", "jsonl")


def add_rerank_command(commands: Any) -> None:
    """Register `rerank`."""
    parser = commands.add_parser(
        "rerank",
        help="rank the documents of a file by relevance to a query",
        description=(
            "Rank documents read from FILE (or '-' for stdin): plain text, one document per "
            "line, or JSON Lines, one object per line. With --format auto (the default) the "
            "file is JSON Lines when its first non-blank line starts with '{'. Uses "
            "TOGETHER_API_KEY and TOGETHER_BASE_URL like the SDK."
        ),
        formatter_class=HelpFormatter,
        epilog=exit_codes(
            (EXIT_OK, "success"),
            (EXIT_BAD_INPUT, "bad input or options (the message names the file and line)"),
            (EXIT_NO_KEY, "no API key for the hosted API (TOGETHER_API_KEY)"),
            (EXIT_CONNECTION, "the server cannot be reached (--queries: the run stops there)"),
            (EXIT_API_ERROR, "the server answered with an error (--queries: for some query)"),
            (EXIT_INTERRUPTED, "interrupted (--queries: the lines finished before are printed)"),
        ),
    )
    parser.add_argument(
        "file", metavar="FILE", nargs="?", help="documents: a text or JSON Lines file, or -"
    )
    parser.add_argument("--query", "-q", help="the search query (with FILE)")
    parser.add_argument(
        "--queries",
        metavar="QUERIES",
        help='many queries instead: JSON Lines {"query": ..., "documents": [...]} (or -); '
        "prints one JSON result per line, in input order",
    )
    parser.add_argument(
        "--concurrency", type=int, default=8, help="queries in flight at once (default: 8)"
    )
    parser.add_argument(
        "--max-documents-per-request",
        type=int,
        metavar="N",
        help="send more than N documents as batches of N, merged (exact for pointwise models)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="auto",
        help="how FILE is read: text (one document per line), jsonl (one object per line) "
        "or auto (jsonl if the first non-blank line starts with '{'; the default)",
    )
    parser.add_argument("--model", "-m", default=DEFAULT_MODEL, help=f"default: {DEFAULT_MODEL}")
    add_request_options(parser)  # generated from the spec's optional request fields
    parser.add_argument("--json", action="store_true", help="print the raw JSON response")
    parser.add_argument("--base-url", help="API base URL (default: $TOGETHER_BASE_URL)")
    parser.set_defaults(run=_run)


@dataclass(frozen=True)
class Documents:
    """Documents read from a file, with the line each came from."""

    items: list[str] | list[dict[str, Any]]
    lines: list[int]


def read_documents(stream: Iterable[str], name: str, fmt: str = "auto") -> Documents:
    """Read plain-text or JSON Lines documents (`fmt`: auto, text, jsonl); blank lines are not."""
    numbered = [(i, line.rstrip("\r\n")) for i, line in enumerate(stream, start=1)]
    numbered = [(i, line) for i, line in numbered if line.strip()]
    if not numbered:
        raise CLIError(f"{name}: no documents (the file is empty)")
    if fmt == "auto":
        fmt = "jsonl" if numbered[0][1].lstrip().startswith("{") else "text"
        # Say why the file was read as JSON Lines: the user may have meant text.
        assumed = (
            "read as JSON Lines because its first line starts with '{'; "
            "pass --format text for plain text"
        )
    else:
        assumed = "read as JSON Lines (--format jsonl)"
    if fmt == "text":
        return Documents(items=[line for _, line in numbered], lines=[i for i, _ in numbered])
    objects: list[dict[str, Any]] = []
    for i, line in numbered:
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CLIError(f"{name}:{i}: not valid JSON ({exc.msg}); {assumed}") from None
        if not isinstance(value, dict):
            raise CLIError(f"{name}:{i}: a JSON Lines document must be an object; {assumed}")
        objects.append(value)
    return Documents(items=objects, lines=[i for i, _ in numbered])


def _run(args: argparse.Namespace) -> int:
    if args.queries is not None:
        if args.file is not None or args.query is not None:
            raise CLIError("--queries reads queries and documents itself: give no FILE or --query")
        return run_queries(args)
    if args.file is None or args.query is None:
        raise CLIError("give FILE and --query, or --queries FILE")
    documents = _load(args.file, args.format)
    with Together(
        base_url=args.base_url, max_documents_per_request=args.max_documents_per_request
    ) as client:
        response = client.rerank.create(
            model=args.model,
            query=args.query,
            documents=documents.items,
            **request_options(args),
        )
    if args.json:
        print(response.model_dump_json(indent=2, exclude_unset=True))
    else:
        print(format_table(response, documents))
    return EXIT_OK


def _load(path: str, fmt: str = "auto") -> Documents:
    return read_documents(text_lines(path), "<stdin>" if path == "-" else path, fmt)


def format_table(response: RerankResponse, documents: Documents) -> str:
    """A ranked table: rank, score, source line, and the document (cut to the terminal width)."""
    width = shutil.get_terminal_size((100, 20)).columns
    rows = [f"{'rank':>4}  {'score':>8}  {'line':>5}  document"]
    for rank, result in enumerate(response.results, start=1):
        item = documents.items[result.index]
        text = item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)
        prefix = f"{rank:>4}  {result.relevance_score:>8.4f}  {documents.lines[result.index]:>5}  "
        room = max(width - len(prefix), 20)
        if len(text) > room:
            text = text[: room - 3] + "..."
        rows.append(prefix + text)
    return "\n".join(rows)
