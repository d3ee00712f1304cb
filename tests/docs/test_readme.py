"""Every code block of README.md runs as written, so the README cannot drift from the code.

Sybil (https://sybil.readthedocs.io) parses the README: ```python blocks run in order in
one namespace, as a reader pastes them into one session; ```sh blocks run in bash in a
scratch directory; a block that must not run (a server in the foreground, `make test`
itself, a transcript) carries Sybil's own marker with its reason just above it:

    <!-- skip: next "why it is not run" -->

A ```console block is a transcript (prompts and output) and cannot run: unmarked, it
fails, naming that marker. What the blocks leave undefined comes from `STAND_INS` below,
and `TOGETHER_BASE_URL` points the SDK at the embedded `LocalServer` (lexical engines).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import unittest
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sybil import Document, Example, Sybil
from sybil.evaluators.skip import Skipper
from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser, SkipParser

from together_rerank import Together
from together_rerank.server import LocalServer, ServerConfig
from together_rerank.server.models import ENGINES_ENV, default_models

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SHELL_TIMEOUT = 60.0
MARK_IT = '(a block that must not run: mark it <!-- skip: next "reason" --> above it)'


def run_shell(example: Example) -> str | None:
    """A ```sh block, in bash with -e and pipefail, in the scratch directory, the venv on PATH.

    In a session of its own, so that a block that does not end (a server) is ended whole.
    """
    with subprocess.Popen(
        ["bash", "-e", "-o", "pipefail", "-c", example.parsed],
        cwd=example.namespace["__scratch__"],
        env=example.namespace["__environ__"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    ) as shell:
        try:
            output, _ = shell.communicate(timeout=SHELL_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(shell.pid, signal.SIGKILL)
            output, _ = shell.communicate()
            return f"still running after {SHELL_TIMEOUT} s\n{output}\n{MARK_IT}"
    if shell.returncode != 0:
        return f"exit {shell.returncode}\n{output}\n{MARK_IT}"
    return None


def refuse_transcript(example: Example) -> str:
    return (
        "a ```console block is a transcript and cannot run: mark it "
        '<!-- skip: next "reason" --> or make it a ```sh block'
    )


SYBIL = Sybil(
    parsers=[
        PythonCodeBlockParser(),
        CodeBlockParser(language="sh", evaluator=run_shell),
        CodeBlockParser(language="console", evaluator=refuse_transcript),
        SkipParser(),
    ],
)


def is_code(example: Example) -> bool:
    return not isinstance(example.region.evaluator, Skipper)


# Parsed at collection for the test ids (README.md:LINE); each run parses afresh.
BLOCKS = [(i, e.line) for i, e in enumerate(SYBIL.parse(README)) if is_code(e)]


def stand_ins() -> dict[str, Any]:
    """What the README's blocks use without defining it, as a reader would have it."""
    from langchain_core.documents import Document as LangChainDocument
    from langchain_core.embeddings import DeterministicFakeEmbedding
    from langchain_core.vectorstores import InMemoryVectorStore
    from llama_index.core import VectorStoreIndex
    from llama_index.core.embeddings import MockEmbedding
    from llama_index.core.schema import TextNode

    texts = [
        "Retrieval-augmented generation (RAG) grounds answers in retrieved documents.",
        "A reranker reorders retrieved documents by relevance.",
        "Bake the loaf at 220 degrees for thirty minutes.",
        "The quarterly report shows revenue growth.",
    ]
    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=32))
    store.add_documents([LangChainDocument(text) for text in texts])
    nodes = [TextNode(id_=f"node-{i}", text=text) for i, text in enumerate(texts)]
    return {
        # The LangChain block: any retriever.
        "base_retriever": store.as_retriever(search_kwargs={"k": len(texts)}),
        # The LlamaIndex block: any index (its LLM: MockLLM, set in `readme` below).
        "index": VectorStoreIndex(nodes=nodes, embed_model=MockEmbedding(embed_dim=32)),
        # The scale blocks: a query, document lists and queries.
        "q": "What is RAG?",
        "ten_thousand": [f"document {i}: {texts[i % len(texts)]}" for i in range(10_000)],
        "queries": ["What is RAG?", "What does a reranker do?", "How long to bake bread?"],
        "shared_list": texts,
    }


class Readme:
    """The README parsed afresh, run block by block in order (earlier blocks first, so
    one block can be run alone with -k)."""

    def __init__(self, base_url: str, namespace: dict[str, Any]) -> None:
        self.base_url = base_url
        self.document: Document = SYBIL.parse(README)
        self.document.namespace.update(namespace)
        self.examples = list(self.document)
        self.next = 0
        self.clients: dict[int, Together] = {}

    def run_through(self, index: int) -> None:
        __tracebackhide__ = True
        while self.next < index:
            example, self.next = self.examples[self.next], self.next + 1
            with contextlib.suppress(Exception):  # reported by that block's own test
                example.evaluate()
            self._close_clients(keep=self.document.namespace.values())
        self.next = index + 1
        try:
            self.examples[index].evaluate()
        except unittest.SkipTest as marked:
            pytest.skip(str(marked))
        finally:
            self._close_clients(keep=self.document.namespace.values())

    def _close_clients(self, keep: Iterable[object]) -> None:
        # A block that rebinds `client` drops the last one unclosed, as a reader's session
        # would; closed here, its sockets raise no ResourceWarning (warnings are errors).
        for value in self.document.namespace.values():
            # A client the block made and handed over (an adapter's client=...) counts too.
            for held in (value, getattr(value, "client", None)):
                if isinstance(held, Together):
                    self.clients[id(held)] = held
        kept = {id(v) for value in keep for v in (value, getattr(value, "client", None))}
        for key, client in list(self.clients.items()):
            if key not in kept:
                client.close()
                del self.clients[key]

    def close(self) -> None:
        self._close_clients(keep=())
        if "ray" in sys.modules:
            import ray

            # The Ray block started a local cluster: later tests start their own.
            if ray.is_initialized():
                ray.shutdown()


@pytest.fixture(scope="module")
def readme(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Readme]:
    from llama_index.core import Settings
    from llama_index.core.llms import MockLLM

    scratch = tmp_path_factory.mktemp("readme")
    config = ServerConfig(models=default_models({ENGINES_ENV: "lexical"}))
    llm = Settings._llm
    with LocalServer(config) as server, pytest.MonkeyPatch.context() as patch:
        # TOGETHER_*: per test (the suite's hermetic_env clears them), and for ```sh blocks.
        patch.setenv("TOGETHER_BASE_URL", server.base_url)
        patch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        # Blocks that write files (a cache directory) write them here.
        patch.chdir(scratch)
        Settings.llm = MockLLM()
        environ = {
            name: value
            for name, value in os.environ.items()
            if name not in ("TOGETHER_API_KEY", "TOGETHER_LOG")
        }
        namespace = {**stand_ins(), "__scratch__": scratch, "__environ__": environ}
        readme = Readme(server.base_url, namespace)
        try:
            yield readme
        finally:
            readme.close()
            Settings._llm = llm


# Ray's own deprecation, inside ray.data (tests/integrations/test_ray.py filters it too),
# and its note that the README's one-row dataset cannot keep concurrency=2 actors busy.
@pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")
@pytest.mark.filterwarnings("ignore:The minimum number of concurrent actors:UserWarning")
@pytest.mark.parametrize("index", [i for i, _ in BLOCKS], ids=[f"README.md:{n}" for _, n in BLOCKS])
def test_the_block_runs_as_written(
    readme: Readme, index: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOGETHER_BASE_URL", readme.base_url)
    readme.run_through(index)


def test_the_harness_fails_a_broken_block_and_skips_only_a_marked_one(
    tmp_path: Path,
) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```python\nx = 1\n```\n\n"
        "```python\nassert x == 2\n```\n\n"
        "```sh\nexit 3\n```\n\n"
        "```console\n$ echo hi\nhi\n```\n\n"
        '<!-- skip: next "not this one" -->\n```sh\nexit 4\n```\n',
        encoding="utf-8",
    )
    document = SYBIL.parse(page)
    document.namespace.update({"__scratch__": tmp_path, "__environ__": dict(os.environ)})
    outcomes: list[str] = []
    for example in document:
        try:
            example.evaluate()
        except unittest.SkipTest as skipped:
            outcomes.append(f"skipped: {skipped}")
        except AssertionError as failed:
            last = (str(failed).strip().splitlines() or ["AssertionError"])[-1]
            outcomes.append(f"failed: {last[:40]}")
        else:
            outcomes.append("ran" if is_code(example) else "marker")
    assert outcomes == [
        "ran",
        "failed: AssertionError",
        "failed: (a block that must not run: mark it <!--",
        "failed: a ```console block is a transcript and c",
        "marker",
        "skipped: not this one",
    ]
