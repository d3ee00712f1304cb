"""Contains all the data models used in inputs/outputs"""

from .document_object import DocumentObject
from .embedding_data import EmbeddingData
from .embeddings_request import EmbeddingsRequest
from .embeddings_response import EmbeddingsResponse
from .error_detail import ErrorDetail
from .error_response import ErrorResponse
from .model_info import ModelInfo
from .rerank_document import RerankDocument
from .rerank_request import RerankRequest
from .rerank_response import RerankResponse
from .rerank_result import RerankResult
from .usage_data import UsageData

__all__ = (
    "DocumentObject",
    "EmbeddingData",
    "EmbeddingsRequest",
    "EmbeddingsResponse",
    "ErrorDetail",
    "ErrorResponse",
    "ModelInfo",
    "RerankDocument",
    "RerankRequest",
    "RerankResponse",
    "RerankResult",
    "UsageData",
)
