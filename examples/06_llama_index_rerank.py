"""LlamaIndex: rerank a query engine's retrieved nodes before they reach the LLM.

Runs offline: LlamaIndex's MockEmbedding and MockLLM stand in for real models
(swap in your own), and `TogetherRerank()` reads TOGETHER_API_KEY /
TOGETHER_BASE_URL like `Together()` does.
"""

import asyncio

from llama_index.core import VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.schema import TextNode

from together_rerank.integrations.llama_index import TogetherRerank

nodes = [
    TextNode(id_="baking", text="Bake the loaf at 220 degrees for thirty minutes."),
    TextNode(id_="attention", text="Self-attention lets every token attend to every other token."),
    TextNode(id_="finance", text="The quarterly report shows revenue growth."),
    TextNode(id_="transformers", text="Transformers stack attention layers with feed-forward ones."),
]
index = VectorStoreIndex(nodes=nodes, embed_model=MockEmbedding(embed_dim=64))
query_engine = index.as_query_engine(
    llm=MockLLM(),
    similarity_top_k=4,
    node_postprocessors=[TogetherRerank(model="Salesforce/Llama-Rank-V1", top_n=2)],
)

response = query_engine.query("How does attention work in transformers?")
for source in response.source_nodes:
    print(f"Score: {source.score:.4f} -> {source.node.node_id}")

# The async query engine awaits AsyncTogether natively.
response = asyncio.run(query_engine.aquery("What does a baker do with a loaf?"))
for source in response.source_nodes:
    print(f"Async score: {source.score:.4f} -> {source.node.node_id}")
