"""The hand-written base classes of the generated models (`_models.py`) and their helpers."""

from __future__ import annotations

import warnings
from typing import Any

from pydantic import BaseModel, ConfigDict, PrivateAttr

from .._tolerance import Deviation

__all__ = ["RequestModel", "ResponseModel", "deprecated_alias"]


class RequestModel(BaseModel):
    """A request body; fields the spec does not name are passed through to the server."""

    model_config = ConfigDict(extra="allow")


class ResponseModel(BaseModel):
    """A response object; fields the spec does not name (a newer server) are kept."""

    model_config = ConfigDict(extra="allow")
    # What the SDK tolerated in the body (see `_tolerance`); private, so never dumped.
    _deviations: tuple[Deviation, ...] = PrivateAttr(default=())

    @property
    def deviations(self) -> tuple[Deviation, ...]:
        """How the server's body differed from the spec in form, and what the SDK made of it."""
        return self._deviations


def deprecated_alias(old: str, new: str) -> Any:
    """A read-only attribute `old` that warns and returns field `new` (x-deprecated-alias)."""

    def get(self: BaseModel) -> Any:
        warnings.warn(
            f"{type(self).__name__}.{old} is deprecated by the API spec, renamed to {new!r}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(self, new)

    return property(get, doc=f"Deprecated: the API renamed it to `{new}`.")
