"""`make demo`'s runner: every example against the embedded server gives semantic rankings."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_every_example_with_semantic_rankings() -> None:
    # As a user runs it: without the suite's switch to the lexical engines.
    env = {k: v for k, v in os.environ.items() if k != "TOGETHER_RERANK_SERVER_ENGINES"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "run_all.py")],
        capture_output=True,
        text=True,
        check=False,
        timeout=400,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "(engines: minilm)" in done.stdout
    sections = dict(re.findall(r"=== (\S+)\n(.*?)(?=\n=== |\Z)", done.stdout, flags=re.S))
    # Every example ran (a later one added to examples/ is picked up by run_all.py too).
    assert set(sections) == {p.name for p in (ROOT / "examples").glob("[0-9][0-9]_*.py")}
    assert len(sections) >= 6

    # Example 1: the two retrieval-augmented-generation documents rank first.
    indices = re.findall(r"Index: (\d+)", sections["01_string_documents.py"])
    assert set(indices[:2]) == {"1", "3"}

    # Example 2: PyTorch first, then TensorFlow (which BM25 never found), not the recipes.
    documents = re.findall(r"Document: (.*)", sections["02_structured_documents.py"])
    assert "PyTorch Guide" in documents[0]
    assert "TensorFlow Tutorial" in documents[1]

    # Example 3: retrieval then rerank keeps attention documents on top.
    reranked = re.findall(r"-> (.*)", sections["03_retrieve_then_rerank.py"])
    assert len(reranked) == 2
    assert all("attention" in line.lower() for line in reranked)

    # Example 4 (async): both optimisation documents lead (BM25 gave gradient descent 0).
    assert set(re.findall(r"Index: (\d+)", sections["04_async_rerank.py"])[:2]) == {"0", "2"}

    # Example 5 (LangChain): the two RAG documents, in the retriever and the LCEL chain alike.
    langchain = sections["05_langchain_rerank.py"]
    # (minilm puts "Reranking in RAG" first; BM25 put "RAG" first: both are the RAG documents.)
    retrieved = re.findall(r"-> (.*)", langchain)
    assert sorted(retrieved) == ["RAG", "Reranking in RAG"]
    assert "By title and text (async): Reranking in RAG" in langchain
    assert f"LCEL chain: {retrieved}" in langchain

    # Example 6 (LlamaIndex): the attention nodes for the attention query, baking for baking.
    llama_index = sections["06_llama_index_rerank.py"]
    assert set(re.findall(r"^Score: \S+ -> (\w+)", llama_index, flags=re.M)) == {
        "transformers",
        "attention",
    }
    assert re.findall(r"Async score: \S+ -> (\w+)", llama_index)[0] == "baking"
