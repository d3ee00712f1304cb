"""A typed Python SDK for the Together rerank API."""
