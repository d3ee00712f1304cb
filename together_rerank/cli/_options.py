"""The `rerank` command's options for optional request fields.

Generated from openapi.yaml by generator/facade.py (`make generate`): do not edit.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_request_options", "comma_list", "request_options"]


def comma_list(text: str) -> list[str]:
    """A comma-separated list; blanks around and between items dropped."""
    return [item.strip() for item in text.split(",") if item.strip()]


def add_request_options(parser: argparse.ArgumentParser) -> None:
    """Add an option for each optional request field of the spec."""
    parser.add_argument(
        "--top-n",
        "-n",
        dest="top_n",
        type=int,
        help=("Return only the `top_n` most relevant results."),
    )
    parser.add_argument(
        "--return-documents",
        dest="return_documents",
        action="store_true",
        help=("Whether each result carries its document."),
    )
    parser.add_argument(
        "--rank-fields",
        dest="rank_fields",
        type=comma_list,
        metavar="A,B",
        help=("For object documents only: the fields whose values are ranked."),
    )


def request_options(args: argparse.Namespace) -> dict[str, Any]:
    """The request fields of the parsed options, as create() keyword arguments."""
    return {
        "top_n": args.top_n,
        "return_documents": args.return_documents,
        "rank_fields": args.rank_fields,
    }
