"""The warning the generated signatures give when a caller uses what the spec deprecates."""

from __future__ import annotations

import warnings

__all__ = ["warn_deprecated"]


def warn_deprecated(operation: str, prop: str | None) -> None:
    """Warn once per call site (the default filter's registry) that `prop` is deprecated."""
    what = f"the {operation} operation" if prop is None else f"{prop!r} of {operation}"
    # 3: this function, the generated create() method, then the caller's line.
    warnings.warn(f"{what} is deprecated by the API spec", DeprecationWarning, stacklevel=3)
