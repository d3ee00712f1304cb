"""What the semantic engines share: torch thread settings and a tokenizer's window cutting."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from typing import Any

from together_rerank.server.engines.windows import text_windows

THREADS_ENV = "TOGETHER_RERANK_SERVER_THREADS"
"""Threads one model computation may use (default: the CPUs this process may run on)."""

Item = tuple[tuple[int, ...], tuple[int, ...]]
"""One model input: token ids and token type ids, special tokens included, unpadded."""

_configured = False


def cpu_threads() -> int:
    """The thread count for model work: `THREADS_ENV`, else the CPUs this process may use."""
    value = os.environ.get(THREADS_ENV, "").strip()
    if value:
        return max(1, int(value))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def configure_torch(torch: Any) -> None:
    """Give torch one pool of `cpu_threads` for a forward pass, and no second pool across ops.

    One thread (the scheduler's worker) runs every forward pass, so a pool as
    wide as the machine uses every core without oversubscribing them.
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
    if not texts:
        return [], []
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


def unique(texts: Sequence[str]) -> tuple[list[str], list[int]]:
    """The distinct texts in first-seen order, and each input's position among them.

    Identical texts of a request become one item, so they get exactly the same
    score or vector whatever else shares their pass.
    """
    positions: dict[str, int] = {}
    where = [positions.setdefault(text, len(positions)) for text in texts]
    return list(positions), where


def encode(
    tokenizer: Any, max_length: int, first: Sequence[str], second: Sequence[str] | None = None
) -> list[Item]:
    """Token ids and type ids of texts (or text pairs), special tokens included, unpadded.

    Cut at `max_length` tokens like the model's own tokenization; windows fit already.
    """
    if not first:
        return []
    encoded = tokenizer(
        list(first),
        list(second) if second is not None else None,
        add_special_tokens=True,
        truncation=True,
        max_length=max_length,
        verbose=False,
    )
    types = encoded.get("token_type_ids")
    return [
        (tuple(ids), tuple(types[i]) if types is not None else (0,) * len(ids))
        for i, ids in enumerate(encoded["input_ids"])
    ]


def features(torch: Any, items: Sequence[Item], pad_id: int) -> dict[str, Any]:
    """One padded batch of `items` as the model's input tensors."""
    longest = max(len(ids) for ids, _ in items)
    ids = [list(i) + [pad_id] * (longest - len(i)) for i, _ in items]
    types = [list(t) + [0] * (longest - len(t)) for _, t in items]
    mask = [[1] * len(i) + [0] * (longest - len(i)) for i, _ in items]
    return {
        "input_ids": torch.tensor(ids, dtype=torch.long),
        "token_type_ids": torch.tensor(types, dtype=torch.long),
        "attention_mask": torch.tensor(mask, dtype=torch.long),
    }
