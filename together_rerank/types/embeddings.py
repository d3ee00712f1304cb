"""Public types of the embeddings endpoint.

The models are generated from openapi.yaml into `_models.py`; this module keeps
the seed's import path.
"""

from __future__ import annotations

from ._models import EmbeddingData, EmbeddingsRequest, EmbeddingsResponse

__all__ = ["EmbeddingData", "EmbeddingsRequest", "EmbeddingsResponse"]
