"""The API's operations, grouped as on the client (`client.rerank`, `client.embeddings`)."""

from .embeddings import AsyncEmbeddings, Embeddings
from .rerank import AsyncRerank, Rerank

__all__ = ["AsyncEmbeddings", "AsyncRerank", "Embeddings", "Rerank"]
