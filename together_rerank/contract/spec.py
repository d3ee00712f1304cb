"""Where the checker finds openapi.yaml, and the copy of it the schema level generates from."""

from __future__ import annotations

import copy
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = ["SPEC_NAME", "load_spec", "schema_level_spec", "spec_path"]

SPEC_NAME = "openapi.yaml"


def spec_path() -> Path:
    """The wire contract the checker holds servers to.

    An installed wheel carries it inside the package (``together_rerank/openapi.yaml``);
    a source checkout or an editable install reads it from the repository root.
    """
    packaged = resources.files("together_rerank").joinpath(SPEC_NAME)
    if packaged.is_file():
        return Path(str(packaged))
    in_checkout = Path(__file__).resolve().parents[2] / SPEC_NAME
    if in_checkout.is_file():
        return in_checkout
    raise FileNotFoundError(
        f"{SPEC_NAME} is neither packaged in together_rerank nor at the repository root"
    )


@cache
def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def load_spec() -> dict[str, Any]:
    """A fresh copy of the parsed spec (callers may modify it)."""
    return copy.deepcopy(_load(spec_path()))


def schema_level_spec(*, rerank_model: str, embedding_model: str) -> dict[str, Any]:
    """The spec, narrowed to the requests a particular server can be expected to accept.

    * ``model`` is pinned to the models under test, examples included: the spec
      allows any name, but a server answers only for the models it serves.
    * ``rank_fields`` is left out of generated rerank requests: its meaning
      depends on the documents (object documents only, fields that exist), which
      the schema cannot express, so servers rightly differ on what they reject.
      The semantic level checks it with requests built to be meaningful.

    Everything else, including what makes a request invalid, is the spec's own.
    """
    spec = load_spec()
    schemas = spec["components"]["schemas"]
    for path, schema, model in (
        ("/rerank", "RerankRequest", rerank_model),
        ("/embeddings", "EmbeddingsRequest", embedding_model),
    ):
        properties = schemas[schema]["properties"]
        properties["model"] = {**properties["model"], "const": model, "example": model}
        _pin_model(schemas[schema], model)
        _pin_model(spec["paths"][path]["post"]["requestBody"], model)
    del schemas["RerankRequest"]["properties"]["rank_fields"]
    # The examples too: schemathesis sends them as they are, and a request with a
    # field the schema no longer describes is neither valid nor invalid to it.
    _drop_field(schemas["RerankRequest"], "rank_fields")
    _drop_field(spec["paths"]["/rerank"]["post"]["requestBody"], "rank_fields")
    return spec


def _drop_field(node: Any, field: str) -> None:
    """Remove `field` from every request example under `node`."""
    if isinstance(node, list):
        for item in node:
            _drop_field(item, field)
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "example" and isinstance(value, dict):
            value.pop(field, None)
        if key == "examples" and isinstance(value, dict):
            for named in value.values():
                if isinstance(named, dict) and isinstance(named.get("value"), dict):
                    named["value"].pop(field, None)
        _drop_field(value, field)


def _pin_model(node: Any, model: str) -> None:
    """Make every request example under `node` name `model`."""
    if isinstance(node, list):
        for item in node:
            _pin_model(item, model)
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "example" and isinstance(value, dict) and "model" in value:
            value["model"] = model
        if key == "examples" and isinstance(value, dict):
            for named in value.values():
                if isinstance(named, dict) and isinstance(named.get("value"), dict):
                    named["value"]["model"] = model
        _pin_model(value, model)
