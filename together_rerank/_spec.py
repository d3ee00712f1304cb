"""What the facade and the server know of openapi.yaml, generated from it: do not edit.

Written by generator/spec_constants.py (`make generate`); `make check-generated`
fails when it is out of date. Plain literals, so importing it costs nothing.

* OPERATIONS: operationId -> (METHOD, path, request schema or None).
* REQUEST_FIELDS: request schema -> property -> (JSON types, required, limits);
  the limits are the property's minimum/maximum/minLength/maxLength/minItems/
  maxItems (an array branch's for a oneOf/anyOf of several types), and
  `items.minLength`-style keys for the array's items.
* SPEC_VERSION: info.version of openapi.yaml.
* DEPRECATED: request schema -> the properties the spec marks `deprecated`.
* PUBLIC_TYPES: the models of together_rerank/types/_models.py, exported lazily.
"""

from typing import Final

SPEC_VERSION: Final[str] = "1.0.0"

OPERATIONS: Final[dict[str, tuple[str, str, str | None]]] = {
    "rerank": ("POST", "/rerank", "RerankRequest"),
    "embeddings": ("POST", "/embeddings", "EmbeddingsRequest"),
    "listModels": ("GET", "/models", None),
}

REQUEST_FIELDS: Final[dict[str, dict[str, tuple[tuple[str, ...], bool, dict[str, float]]]]] = {
    "RerankRequest": {
        "model": (("string",), True, {"minLength": 1}),
        "query": (("string",), True, {}),
        "documents": (("array",), True, {"minItems": 1}),
        "top_n": (("integer",), False, {"minimum": 1}),
        "return_documents": (("boolean",), False, {}),
        "rank_fields": (("array",), False, {"minItems": 1}),
    },
    "EmbeddingsRequest": {
        "model": (("string",), True, {"minLength": 1}),
        "input": (("array", "string"), True, {"minItems": 1}),
    },
}

DEPRECATED: Final[dict[str, tuple[str, ...]]] = {"RerankRequest": (), "EmbeddingsRequest": ()}

PUBLIC_TYPES: Final[tuple[str, ...]] = (
    "RerankRequest",
    "RerankChoicesData",
    "UsageData",
    "RerankResponse",
    "EmbeddingsRequest",
    "EmbeddingData",
    "EmbeddingsResponse",
)
