"""`together-rerank rerank --queries FILE`: many queries from JSON Lines, one result per line.

Every line is checked before anything is sent, and a bad one is named by file
and line. Answers are printed in input order as soon as each one and all
before it are done, so a pipe sees progress and an interrupted run keeps the
lines it finished.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._client import Together
from .._exceptions import APIConnectionError, InvalidArgumentError, TogetherError
from .._progress import progress_bar
from .._secrets import display_url
from .._validation import check_rerank_args
from ..types import RerankResponse
from ._common import EXIT_API_ERROR, EXIT_CONNECTION, EXIT_OK, CLIError, fail, text_lines
from ._options import request_options as request_fields

Outcome = RerankResponse | TogetherError


@dataclass(frozen=True)
class Job:
    """One input line: a query and its documents."""

    line: int
    query: str
    documents: list[Any]


def read_jobs(stream: Iterable[str], name: str) -> list[Job]:
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


def check_jobs(jobs: Sequence[Job], name: str, options: dict[str, Any]) -> None:
    """What `create` would refuse, before anything is sent: options alone, then each line."""
    try:
        check_rerank_args(query="x", documents=["x"], extra={}, **{**options, "rank_fields": None})
    except InvalidArgumentError as exc:
        raise CLIError(str(exc)) from None
    for job in jobs:
        try:
            check_rerank_args(query=job.query, documents=job.documents, extra={}, **options)
        except InvalidArgumentError as exc:
            # The parameter is the line's own (documents[0], not the call's documents[2][0]).
            raise CLIError(f"{name}:{job.line}: {exc}") from None


def _error_line(job: Job, exc: TogetherError) -> str:
    error = {"type": type(exc).__name__, "message": str(exc)}
    return json.dumps({"line": job.line, "error": error}, ensure_ascii=False)


@dataclass
class _Run:
    """Jobs on daemon worker threads; outcomes handed to the main thread, which prints them.

    Daemon threads, so that Ctrl-C ends the command at once: a request in
    flight is abandoned rather than waited for (the finished lines are
    already printed).
    """

    jobs: Sequence[Job]
    call: Callable[[Job], RerankResponse]
    # A worker that meets this stops every worker from starting another job.
    stop_on: type[BaseException]
    stop: threading.Event = field(default_factory=threading.Event)
    started: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _done: queue.SimpleQueue[tuple[int, Outcome | BaseException]] = field(
        default_factory=queue.SimpleQueue
    )

    def _take(self) -> int | None:
        with self._lock:
            if self.stop.is_set() or self.started == len(self.jobs):
                return None
            self.started += 1
            return self.started - 1

    def _work(self) -> None:
        while (i := self._take()) is not None:
            outcome: Outcome | BaseException
            try:
                outcome = self.call(self.jobs[i])
            except BaseException as exc:  # handed to the main thread, which raises it
                outcome = exc
            if isinstance(outcome, self.stop_on):
                self.stop.set()
            self._done.put((i, outcome))

    def outcomes(self, workers: int) -> Iterable[tuple[int, Outcome]]:
        """Each finished job's index and outcome, as they finish, until all started are done."""
        for _ in range(min(workers, len(self.jobs))):
            threading.Thread(target=self._work, daemon=True, name="together-rerank-cli").start()
        received = 0
        try:
            while True:
                with self._lock:
                    if received == self.started and (
                        self.stop.is_set() or self.started == len(self.jobs)
                    ):
                        return
                try:
                    # A bounded wait keeps Ctrl-C prompt.
                    i, outcome = self._done.get(timeout=0.5)
                except queue.Empty:
                    continue
                received += 1
                if not isinstance(outcome, TogetherError | RerankResponse):
                    raise outcome
                yield i, outcome
        finally:
            self.stop.set()


def request_options(
    args: argparse.Namespace, rank_fields: list[str] | None = None
) -> dict[str, Any]:
    """The arguments of every query's `create` call besides the query and its documents."""
    # The request fields' options are generated from the spec (`_options`).
    options = {"model": args.model, **request_fields(args)}
    if rank_fields is not None:  # the old calling convention, kept for callers of run_queries
        options["rank_fields"] = rank_fields
    return options


def run_queries(args: argparse.Namespace, rank_fields: list[str] | None = None) -> int:
    """Rerank every line of ``--queries``; print results in input order as they finish."""
    name = "<stdin>" if args.queries == "-" else args.queries
    jobs = read_jobs(text_lines(args.queries), name)
    if args.concurrency < 1:
        raise CLIError(f"--concurrency: must be at least 1, got {args.concurrency}")
    options = request_options(args, rank_fields)
    check_jobs(jobs, name, options)
    failed: list[Job] = []
    unreachable: APIConnectionError | None = None
    printed = 0
    with Together(
        base_url=args.base_url, max_documents_per_request=args.max_documents_per_request
    ) as client:

        def call(job: Job) -> RerankResponse:
            return client.rerank.create(query=job.query, documents=job.documents, **options)

        # The server is gone: start nothing more, finish what is in flight.
        run = _Run(jobs, call, stop_on=APIConnectionError)
        finished: dict[int, Outcome] = {}
        # A bar on a terminal's stderr, unless the answers themselves stream to that terminal.
        with progress_bar(len(jobs), False if sys.stdout.isatty() else None) as advance:
            for i, outcome in run.outcomes(args.concurrency):
                advance()
                if isinstance(outcome, APIConnectionError):
                    unreachable = unreachable or outcome
                finished[i] = outcome
                while printed in finished:
                    job, done = jobs[printed], finished.pop(printed)
                    if isinstance(done, TogetherError):
                        failed.append(job)
                        print(_error_line(job, done), flush=True)
                    else:
                        print(done.model_dump_json(exclude_unset=True), flush=True)
                    printed += 1
    if unreachable is not None:
        url = display_url(unreachable.request.url.copy_with(query=None))
        rest = (
            f"; input lines from {jobs[printed].line} on were not run"
            if printed < len(jobs)
            else ""
        )
        return fail(f"cannot reach {url}: {unreachable}{rest}", EXIT_CONNECTION)
    if failed:
        lines = ", ".join(str(job.line) for job in failed[:10]) + (
            " ..." if len(failed) > 10 else ""
        )
        return fail(
            f"{len(failed)} of {len(jobs)} queries failed (input lines {lines})", EXIT_API_ERROR
        )
    sys.stdout.flush()
    return EXIT_OK
