"""Overlapping token windows, for documents longer than a model reads at once.

A model with a window of W tokens never sees what lies past it, so a long
document is cut into windows of at most W tokens, each overlapping the one
before by a quarter, and the engines score every window and keep the best
(the approach of Cohere's rerank-v4 and LightRAG). Nothing is dropped: the
last window ends at the document's last token.
"""

from __future__ import annotations

from collections.abc import Sequence

OVERLAP = 0.25
"""Fraction of a window that the next window repeats."""


def spans(length: int, size: int) -> list[tuple[int, int]]:
    """Token ranges ``[start, end)`` covering ``range(length)`` in windows of at most `size`."""
    if size < 1:
        raise ValueError("window size must be at least 1")
    if length <= size:
        return [(0, length)]
    stride = max(1, size - int(size * OVERLAP))
    starts = [*range(0, length - size, stride), length - size]
    return [(start, start + size) for start in starts]


def text_windows(text: str, offsets: Sequence[tuple[int, int]], size: int) -> list[str]:
    """Cut `text` into windows of at most `size` tokens, given each token's character offsets."""
    if len(offsets) <= size:
        return [text]
    return [
        text[offsets[start][0] : offsets[end - 1][1]] for start, end in spans(len(offsets), size)
    ]
