"""`together-rerank serve`: the local Together-compatible server, in the foreground."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_SERVER_START,
    CLIError,
    HelpFormatter,
    exit_codes,
)


def add_serve_command(commands: Any) -> None:
    """Register `serve`."""
    parser = commands.add_parser(
        "serve",
        help="run the local Together-compatible rerank server",
        description=(
            "Serve POST /v1/rerank, POST /v1/embeddings, GET /v1/models and GET /health "
            "with local engines: all-MiniLM-L6-v2 when the semantic extra is installed, "
            "else lexical ones (BM25, hashed n-grams); never any network. "
            f"Exits {EXIT_SERVER_START} when it cannot listen (address in use, unknown host)."
        ),
        formatter_class=HelpFormatter,
        epilog=exit_codes(
            (EXIT_OK, "stopped with Ctrl-C"),
            (EXIT_BAD_INPUT, "bad options, or the server's extra dependencies are missing"),
            (EXIT_SERVER_START, "could not listen (address in use, unknown host)"),
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind (default: 8000)")
    parser.add_argument(
        "--api-key",
        help="require 'Authorization: Bearer KEY' (default: $TOGETHER_RERANK_SERVER_API_KEY, "
        "else no auth)",
    )
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME=ENGINE",
        help="also serve NAME with ENGINE (bm25, term-overlap, hashed-ngrams, minilm or "
        "cross-encoder:PATH); repeatable",
    )
    parser.add_argument(
        "--max-documents",
        type=int,
        default=None,
        metavar="N",
        help="answer 400 (param 'documents') to a rerank request with more than N documents "
        "(default: 10000)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="N processes accepting on the one port (default: 1); lexical engines only "
        "(bm25, term-overlap, hashed-ngrams): with a model engine, for example the default "
        "minilm, it exits 2 (set TOGETHER_RERANK_SERVER_ENGINES=lexical or name lexical "
        "--model engines)",
    )
    _add_scheduler_options(parser)
    parser.set_defaults(run=_run)


# (option, ServerConfig field, help); the defaults are ServerConfig's.
_TOKEN_OPTIONS = (
    (
        "--max-request-tokens",
        "max_request_tokens",
        "answer 400 (param 'documents' or 'input') to a request that needs more than N model "
        "tokens (default: 500000)",
    ),
    (
        "--max-batch-tokens",
        "max_batch_tokens",
        "model engines: at most N padded tokens per forward pass, shared by concurrent "
        "requests (default: 1024)",
    ),
    (
        "--max-queue-tokens",
        "max_queue_tokens",
        "model engines: answer 429 with Retry-After while more than N model tokens wait "
        "(default: 1000000)",
    ),
)


def _add_scheduler_options(parser: argparse.ArgumentParser) -> None:
    for option, _, text in _TOKEN_OPTIONS:
        parser.add_argument(option, type=int, default=None, metavar="N", help=text)
    parser.add_argument(
        "--max-batch-wait-ms",
        type=float,
        default=None,
        metavar="MS",
        help="model engines: a forward pass waits at most MS milliseconds for requests still "
        "being tokenized (default: 2)",
    )


def _scheduler_limits(args: argparse.Namespace) -> dict[str, Any]:
    limits: dict[str, Any] = {}
    for option, field, _ in _TOKEN_OPTIONS:
        value = getattr(args, field)
        if value is not None:
            if value < 1:
                raise CLIError(f"{option}: must be at least 1, got {value}")
            limits[field] = value
    wait = args.max_batch_wait_ms
    if wait is not None:
        if not 0 <= wait <= 60_000:
            raise CLIError(f"--max-batch-wait-ms: must be between 0 and 60000, got {wait:g}")
        limits["max_batch_wait"] = wait / 1000
    return limits


def _run(args: argparse.Namespace) -> int:
    try:
        from ..server import (
            ModelSpecError,
            ServerConfig,
            ServerStartError,
            api_key_from_env,
            default_models,
            parse_model_specs,
            serve,
        )
        from ..server.runner import engines_without_workers
    except ImportError as exc:
        raise CLIError(
            f"the server needs its extra dependencies ({exc.name}): "
            "pip install 'together-rerank[server]'"
        ) from None
    try:
        models = {**default_models(), **parse_model_specs(args.model)}
    except ModelSpecError as exc:
        raise CLIError(f"--model: {exc}") from None
    if not 0 <= args.port <= 65535:
        raise CLIError(f"--port: {args.port} is not a port number")
    api_key = args.api_key if args.api_key is not None else api_key_from_env()
    if api_key == "":
        raise CLIError("--api-key: must not be empty (omit it to serve without a key)")
    limits = _scheduler_limits(args)
    if args.max_documents is not None:
        if args.max_documents < 1:
            raise CLIError(f"--max-documents: must be at least 1, got {args.max_documents}")
        limits["max_documents"] = args.max_documents
    if args.workers < 1:
        raise CLIError(f"--workers: must be at least 1, got {args.workers}")
    refused = engines_without_workers(models) if args.workers > 1 else []
    if refused:
        raise CLIError(
            f"--workers: several processes serve only the lexical engines, not "
            f"{', '.join(refused)} (one process batches a model's requests; "
            "for lexical defaults set TOGETHER_RERANK_SERVER_ENGINES=lexical)"
        )
    config = ServerConfig(models=models, api_key=api_key, **limits)
    try:
        serve(host=args.host, port=args.port, config=config, workers=args.workers)
    except ServerStartError as exc:
        raise CLIError(str(exc), EXIT_SERVER_START) from None
    return EXIT_OK
