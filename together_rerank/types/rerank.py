"""Public types of the rerank endpoint (the fields and defaults of the v1 SDK).

The models are generated from openapi.yaml into `_models.py`; this module keeps
the seed's import path.
"""

from __future__ import annotations

from ._models import RerankChoicesData, RerankRequest, RerankResponse, UsageData

__all__ = ["RerankChoicesData", "RerankRequest", "RerankResponse", "UsageData"]
