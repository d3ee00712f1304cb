"""What the semantic engines share: torch thread settings and a tokenizer's window cutting."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from typing import Any

from together_rerank.server.engines.windows import text_windows

THREADS_ENV = "TOGETHER_RERANK_SERVER_THREADS"
"""Threads one model computation may use (default: the CPUs this process may run on)."""

BATCH_SIZE = 32
"""Windows encoded per forward pass: large enough to amortise, small enough for short padding."""

_configured = False


def cpu_threads() -> int:
    """The thread count for model work: `THREADS_ENV`, else the CPUs this process may use."""
    value = os.environ.get(THREADS_ENV, "").strip()
    if value:
        return max(1, int(value))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def configure_torch(torch: Any) -> None:
    """Give torch one pool of `cpu_threads` for a forward pass, and no second pool across ops.

    Requests are computed one at a time per engine (its lock), so a pool as wide
    as the machine uses every core without oversubscribing them.
    """
    global _configured
    if _configured:
        return
    torch.set_num_threads(cpu_threads())
    # Fixed already if parallel work ran earlier in this process: harmless.
    with contextlib.suppress(RuntimeError):
        torch.set_num_interop_threads(1)
    _configured = True


def quiet_loading() -> None:
    """No progress bar on the server's stderr while weights load."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]


def windows(tokenizer: Any, texts: Sequence[str], size: int) -> tuple[list[str], list[int]]:
    """Cut texts into windows of at most `size` tokens; return them and their texts' indices."""
    encoded = tokenizer(
        list(texts), add_special_tokens=False, return_offsets_mapping=True, verbose=False
    )
    out: list[str] = []
    owners: list[int] = []
    for index, (text, offsets) in enumerate(zip(texts, encoded["offset_mapping"], strict=True)):
        for window in text_windows(text, offsets, size):
            out.append(window)
            owners.append(index)
    return out, owners


def count_tokens(tokenizer: Any, text: str) -> int:
    """The tokens the model reads for `text`, special tokens included, before any windowing."""
    return len(tokenizer(text, add_special_tokens=True, verbose=False)["input_ids"])
