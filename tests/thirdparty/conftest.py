"""The real third-party servers the tests in this directory talk to, one instance per session.

- `infinity_root`: infinity-emb at the root layout (`/rerank`, its default);
- `infinity_v1`: the same server with `--url-prefix /v1`;
- `vllm_server`: vLLM 0.32 on CPU with the cross-encoder;
- `litellm_proxy`: the LiteLLM proxy routing `together_ai/` models to this
  project's `LocalServer`.

The model servers start together (their cold starts overlap) on first use.
Without their venvs (`make thirdparty`) the tests are skipped, or fail when
TOGETHER_RERANK_THIRDPARTY=require (`make pytest` sets it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from together_rerank.server import LocalServer, ServerConfig
from together_rerank.server.models import default_models

from ..contract.thirdparty import RERANK_MODEL as STAND_IN_RERANK_MODEL
from ..contract.thirdparty import third_party_server
from . import servers
from .servers import ServerProcess, ServerUnavailable

# Model names behind the LiteLLM proxy: Together's, as a user of the proxy would configure them.
PROXY_RERANK_MODEL = "Salesforce/Llama-Rank-V1"
PROXY_EMBEDDING_MODEL = "togethercomputer/m2-bert-80M-8k-retrieval"


@dataclass(frozen=True)
class Target:
    """A running third-party server as a user of this SDK sees it."""

    name: str
    base_url: str
    """What the user passes as `base_url` / TOGETHER_BASE_URL."""
    check_url: str
    """What the user passes to `together-rerank check`."""
    api_key: str | None
    rerank_model: str
    embedding_model: str
    object_documents: int | None
    """None when it ranks object documents, else the status it refuses them with."""
    embeddings: bool
    """Whether it serves `/embeddings` (a vLLM rerank deployment does not)."""
    exact_scores: bool
    """False for float32 models: a score may move in its last bits with the batch around it."""
    process: ServerProcess | None
    """None for a stand-in running in this process."""


def _unavailable(reason: str) -> None:
    if os.environ.get(servers.REQUIRE_ENV) == "require":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def _started(processes: list[ServerProcess]) -> None:
    """Launch every process, then wait for all: their cold starts overlap."""
    try:
        for process in processes:
            process.launch()
        for process in processes:
            process.wait_ready()
    except ServerUnavailable as exc:
        for process in processes:
            process.stop()
        _unavailable(str(exc))


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the servers' logs and configs go."""
    return tmp_path_factory.mktemp("thirdparty")


@pytest.fixture(scope="session")
def cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random cross-encoder beside MiniLM's tokenizer (`servers.build_cross_encoder`)."""
    return servers.build_cross_encoder(tmp_path_factory.mktemp("models") / "tiny-cross-encoder")


# Each server's measured cold start, printed in pytest's summary.
STARTUP_SECONDS: dict[str, float] = {}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line: how long each third-party server took to become ready."""
    if STARTUP_SECONDS:
        spent = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in STARTUP_SECONDS.items())
        terminalreporter.write_line(f"third-party servers ready after: {spent}")


VLLM_MODEL = "tiny-cross-encoder"


@pytest.fixture(scope="session")
def model_servers(
    cross_encoder: Path, log_dir: Path
) -> Iterator[dict[str, ServerProcess | ServerUnavailable]]:
    """infinity-emb at the root and under /v1 (MiniLM and the cross-encoder), and vLLM.

    All launched at once, so that their cold starts overlap; a server whose
    venv is missing or that does not start is recorded as its error.
    """
    models = [servers.minilm_dir(), cross_encoder]
    makers: dict[str, Callable[[], ServerProcess]] = {
        "infinity": lambda: servers.infinity("infinity-root", models, log_dir),
        "infinity-v1": lambda: servers.infinity("infinity-v1", models, log_dir, url_prefix="/v1"),
        "vllm": lambda: servers.vllm("vllm", cross_encoder, VLLM_MODEL, log_dir),
    }
    found: dict[str, ServerProcess | ServerUnavailable] = {}
    for name, make in makers.items():
        try:
            launched = make()
            launched.launch()
            found[name] = launched
        except ServerUnavailable as exc:
            found[name] = exc
    for name, entry in list(found.items()):
        if isinstance(entry, ServerProcess):
            try:
                entry.wait_ready()
                STARTUP_SECONDS[entry.name] = entry.started_in or 0.0
            except ServerUnavailable as exc:
                found[name] = exc
    try:
        yield found
    finally:
        for entry in found.values():
            if isinstance(entry, ServerProcess):
                entry.stop()


def _running(found: dict[str, ServerProcess | ServerUnavailable], name: str) -> ServerProcess:
    process = found[name]
    if isinstance(process, ServerUnavailable):
        _unavailable(str(process))
        raise process
    return process


def _infinity_target(
    name: str, process: ServerProcess, base_url: str, cross_encoder: Path
) -> Target:
    return Target(
        name=name,
        base_url=base_url,
        check_url=base_url,
        api_key=None,
        rerank_model=servers.model_id(cross_encoder),
        embedding_model=servers.model_id(servers.minilm_dir()),
        object_documents=422,
        embeddings=True,
        exact_scores=False,
        process=process,
    )


@pytest.fixture(scope="session")
def infinity_root(
    model_servers: dict[str, ServerProcess | ServerUnavailable], cross_encoder: Path
) -> Target:
    """infinity-emb at its default layout: `/rerank`, `/embeddings`, `/models` at the root."""
    process = _running(model_servers, "infinity")
    return _infinity_target("infinity", process, root_base_url(process.root_url), cross_encoder)


@pytest.fixture(scope="session")
def infinity_v1(
    model_servers: dict[str, ServerProcess | ServerUnavailable], cross_encoder: Path
) -> Target:
    """infinity-emb with `--url-prefix /v1`: reached by the SDK's default base-URL rule."""
    process = _running(model_servers, "infinity-v1")
    return _infinity_target("infinity-v1", process, process.root_url, cross_encoder)


@pytest.fixture(scope="session")
def vllm_server(model_servers: dict[str, ServerProcess | ServerUnavailable]) -> Target:
    """vLLM 0.32 on CPU, serving the cross-encoder (`--runner pooling`); no embeddings."""
    process = _running(model_servers, "vllm")
    return Target(
        name="vllm",
        base_url=process.root_url,  # a bare host: the SDK posts to /v1/rerank
        check_url=process.root_url,
        api_key=None,
        rerank_model=VLLM_MODEL,
        embedding_model="",
        object_documents=400,
        embeddings=False,
        exact_scores=False,
        process=process,
    )


def root_base_url(root_url: str) -> str:
    """How a user addresses a server mounted at the root: its rerank URL (README, "Base URL")."""
    return root_url + "/rerank"


def _proxy_config(upstream: str) -> str:
    """LiteLLM's config: Together's model names, routed as `together_ai/` to `upstream`."""
    routes = []
    for name, mode in ((PROXY_RERANK_MODEL, "rerank"), (PROXY_EMBEDDING_MODEL, "embedding")):
        routes.append(
            f"  - model_name: {name}\n"
            "    litellm_params:\n"
            f"      model: together_ai/{name}\n"
            f"      api_base: {upstream}\n"
            "      api_key: unused-by-the-local-server\n"
            "    model_info:\n"
            f"      mode: {mode}\n"
        )
    return "model_list:\n" + "".join(routes) + "litellm_settings:\n  telemetry: false\n"


@pytest.fixture(scope="session")
def proxy_upstream() -> Iterator[LocalServer]:
    """This project's server behind the proxy; its rerank model is pointwise (`term-overlap`).

    Pointwise, so that an auto-batched ranking through the proxy must equal the
    unbatched one exactly.
    """
    models = {**default_models(), PROXY_RERANK_MODEL: "term-overlap"}
    with LocalServer(ServerConfig(models=models)) as server:
        yield server


@pytest.fixture(scope="session")
def litellm_proxy(proxy_upstream: LocalServer, log_dir: Path) -> Iterator[Target]:
    """The LiteLLM proxy in front of `proxy_upstream`, with a random master key."""
    try:
        process, key = servers.litellm("litellm", _proxy_config(proxy_upstream.base_url), log_dir)
    except ServerUnavailable as exc:
        _unavailable(str(exc))
        raise
    _started([process])
    STARTUP_SECONDS[process.name] = process.started_in or 0.0
    try:
        yield Target(
            name="litellm",
            base_url=process.root_url,
            check_url=process.root_url,
            api_key=key,
            rerank_model=PROXY_RERANK_MODEL,
            embedding_model=PROXY_EMBEDDING_MODEL,
            object_documents=None,
            embeddings=True,
            exact_scores=True,
            process=process,
        )
    finally:
        process.stop()


@pytest.fixture(scope="session")
def vllm_stand_in() -> Iterator[Target]:
    """vLLM 0.32's documented shapes on a stand-in (tests/contract/thirdparty.py), not vLLM.

    vLLM on CPU needs a 1.5-minute install with workarounds and a slow start,
    so `make test` holds the SDK to its measured answers instead.
    """
    with third_party_server("vllm") as server:
        yield Target(
            name="vllm-stand-in",
            base_url=server.root_url,  # vLLM serves /v1/rerank (and /rerank)
            check_url=server.root_url,
            api_key=None,
            rerank_model=STAND_IN_RERANK_MODEL,
            embedding_model="",
            object_documents=400,
            embeddings=False,
            exact_scores=True,
            process=None,
        )


REAL_SERVERS = {
    "infinity": "infinity_root",
    "infinity-v1": "infinity_v1",
    "litellm": "litellm_proxy",
    "vllm": "vllm_server",
}
ALL_SERVERS = {**REAL_SERVERS, "vllm-stand-in": "vllm_stand_in"}


@pytest.fixture(params=list(ALL_SERVERS))
def target(request: pytest.FixtureRequest) -> Target:
    """Each third-party server in turn, and the vLLM stand-in."""
    found: Target = request.getfixturevalue(ALL_SERVERS[request.param])
    return found


@pytest.fixture(params=["infinity", "infinity-v1"])
def infinity_target(request: pytest.FixtureRequest) -> Target:
    """infinity-emb in both layouts."""
    found: Target = request.getfixturevalue(ALL_SERVERS[request.param])
    return found


@pytest.fixture(params=list(REAL_SERVERS))
def real_target(request: pytest.FixtureRequest) -> Target:
    """Each real third-party server in turn."""
    found: Target = request.getfixturevalue(REAL_SERVERS[request.param])
    return found
