"""Public request and response types, generated from openapi.yaml (`_models.py`)."""

from ._models import *  # noqa: F403
from ._models import __all__ as __all__
