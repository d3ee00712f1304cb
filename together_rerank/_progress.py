"""A progress bar for bulk calls: tqdm on stderr, shown by default only on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["progress_bar"]


def _nothing() -> None:
    return None


def wants_progress(progress: bool | None) -> bool:
    """`progress` as asked: None means "if stderr is a terminal"."""
    if progress is None:
        isatty = getattr(sys.stderr, "isatty", None)
        return bool(isatty and isatty())
    return progress


@contextmanager
def progress_bar(total: int, progress: bool | None) -> Iterator[Callable[[], None]]:
    """Yield a function to call once per finished item; a no-op when no bar is shown."""
    if not wants_progress(progress):
        yield _nothing
        return
    from tqdm import tqdm  # on first use: programs that never show a bar never import it

    with tqdm(total=total, file=sys.stderr, unit="query", dynamic_ncols=True) as bar:

        def advance() -> None:
            bar.update(1)

        yield advance
