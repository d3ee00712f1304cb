"""`together-rerank rerank --queries FILE`: many queries from JSON Lines, one result per line."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any, TextIO

from .._client import Together
from .._exceptions import TogetherError
from ._common import EXIT_API_ERROR, EXIT_OK, CLIError, fail
from ._options import request_options


@dataclass(frozen=True)
class Job:
    """One input line: a query and its documents."""

    line: int
    query: str
    documents: list[Any]


def read_jobs(stream: TextIO, name: str) -> list[Job]:
    """Read ``{"query": ..., "documents": [...]}`` lines; every bad line is an error, naming it."""
    jobs: list[Job] = []
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise CLIError(f"{name}:{number}: not valid JSON ({exc.msg})") from None
        if not isinstance(value, dict) or set(value) - {"query", "documents"}:
            raise CLIError(
                f'{name}:{number}: each line must be {{"query": ..., "documents": [...]}} '
                "and nothing else"
            )
        query, documents = value.get("query"), value.get("documents")
        if not isinstance(query, str):
            raise CLIError(f"{name}:{number}: 'query' must be a string")
        if not isinstance(documents, list) or not documents:
            raise CLIError(f"{name}:{number}: 'documents' must be a non-empty list")
        jobs.append(Job(number, query, documents))
    if not jobs:
        raise CLIError(f"{name}: no queries (the file is empty)")
    return jobs


def _open(path: str) -> list[Job]:
    if path == "-":
        return read_jobs(sys.stdin, "<stdin>")
    try:
        with open(path, encoding="utf-8") as stream:
            return read_jobs(stream, path)
    except OSError as exc:
        raise CLIError(f"{path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CLIError(f"{path}: not UTF-8 text") from None


def _error_line(job: Job, exc: TogetherError) -> str:
    error = {"type": type(exc).__name__, "message": str(exc)}
    return json.dumps({"line": job.line, "error": error}, ensure_ascii=False)


def run_queries(args: argparse.Namespace, rank_fields: list[str] | None = None) -> int:
    """Rerank every line of ``--queries``; print results in input order; summarize failures."""
    jobs = _open(args.queries)
    options = request_options(args)
    if rank_fields is not None:  # the old calling convention, kept for callers of this function
        options["rank_fields"] = rank_fields
    with Together(
        base_url=args.base_url, max_documents_per_request=args.max_documents_per_request
    ) as client:
        results = client.rerank.create_many(
            model=args.model,
            queries=[job.query for job in jobs],
            documents=[job.documents for job in jobs],
            **options,
            max_concurrency=args.concurrency,
            return_exceptions=True,
        )
    failed: list[Job] = []
    for job, result in zip(jobs, results, strict=True):
        if isinstance(result, TogetherError):
            failed.append(job)
            print(_error_line(job, result))
        else:
            print(result.model_dump_json(exclude_unset=True))
    sys.stdout.flush()
    if failed:
        lines = ", ".join(str(job.line) for job in failed[:10]) + (
            " ..." if len(failed) > 10 else ""
        )
        return fail(
            f"{len(failed)} of {len(jobs)} queries failed (input lines {lines})", EXIT_API_ERROR
        )
    return EXIT_OK
