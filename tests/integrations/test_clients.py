"""The clients an adapter makes for itself: what a program using them sees on stderr.

Each case runs in a fresh interpreter with warnings as errors, because what it checks
happens where a test cannot catch it: at the end of `asyncio.run`, when the event loop
shuts down and finalizes async generators (asyncio reports a failure there on stderr).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from .conftest import Served

# Each program prints one line per call: the ids it got back, best first.
PROGRAMS = {
    "langchain": """
        from langchain_core.documents import Document
        from together_rerank.integrations.langchain import TogetherRerank

        documents = [Document("bread and yeast", id="bread"), Document("attention heads", id="att")]

        async def call(reranker):
            return [d.id for d in await reranker.acompress_documents(documents, "attention")]
    """,
    "llama_index": """
        from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
        from together_rerank.integrations.llama_index import TogetherRerank

        nodes = [
            NodeWithScore(node=TextNode(id_="bread", text="bread and yeast")),
            NodeWithScore(node=TextNode(id_="att", text="attention heads")),
        ]

        async def call(reranker):
            ranked = await reranker.apostprocess_nodes(nodes, QueryBundle("attention"))
            return [n.node.node_id for n in ranked]
    """,
}

MAKERS = {
    # No client: the adapter makes its async client from base_url.
    "base_url": "TogetherRerank(top_n=1, base_url=BASE_URL)",
    # Only a sync client: the async one is made from its settings.
    "sync client": "TogetherRerank(top_n=1, client=Together(base_url=BASE_URL))",
}

RUN = """
    import asyncio, sys
    from together_rerank import Together

    BASE_URL = sys.argv[1]
    reranker = {maker}
    # Twice: one adapter used from two event loops, each shut down by asyncio.run.
    print(asyncio.run(call(reranker)))
    print(asyncio.run(call(reranker)))
"""


@pytest.mark.parametrize("maker", sorted(MAKERS))
@pytest.mark.parametrize("framework", sorted(PROGRAMS))
def test_asyncio_run_ends_silently_with_a_client_the_adapter_made(
    served: Served, framework: str, maker: str
) -> None:
    program = textwrap.dedent(PROGRAMS[framework]) + textwrap.dedent(
        RUN.format(maker=MAKERS[maker])
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", program, served.base_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stderr == ""
    assert done.returncode == 0
    assert done.stdout.splitlines() == ["['att']", "['att']"]
    assert len(served.rerank_bodies) == 2
