"""Public request and response types."""

from .embeddings import EmbeddingData, EmbeddingsRequest, EmbeddingsResponse
from .rerank import RerankChoicesData, RerankRequest, RerankResponse, UsageData

__all__ = [
    "EmbeddingData",
    "EmbeddingsRequest",
    "EmbeddingsResponse",
    "RerankChoicesData",
    "RerankRequest",
    "RerankResponse",
    "UsageData",
]
