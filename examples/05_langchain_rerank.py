"""LangChain: rerank what a retriever found, inside a retriever and as a step of an LCEL chain.

Runs offline: LangChain's in-memory vector store with its deterministic fake
embeddings stands in for a real store (swap in your own), and `TogetherRerank()`
reads TOGETHER_API_KEY / TOGETHER_BASE_URL like `Together()` does.
"""

import asyncio

from langchain_classic.retrievers import ContextualCompressionRetriever
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.runnables import RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore

from together_rerank.integrations.langchain import TogetherRerank

documents = [
    Document("Bake the loaf at 220 degrees for thirty minutes.", metadata={"title": "Baking"}),
    Document(
        "Retrieval-augmented generation grounds LLM answers in retrieved documents.",
        metadata={"title": "RAG"},
    ),
    Document("The quarterly report shows revenue growth.", metadata={"title": "Finance"}),
    Document(
        "A reranker reorders retrieved documents by relevance before generation.",
        metadata={"title": "Reranking in RAG"},
    ),
]
store = InMemoryVectorStore(DeterministicFakeEmbedding(size=64))
store.add_documents(documents)
base_retriever = store.as_retriever(search_kwargs={"k": 4})

reranker = TogetherRerank(model="Salesforce/Llama-Rank-V1", top_n=2)
retriever = ContextualCompressionRetriever(base_compressor=reranker, base_retriever=base_retriever)

query = "How does retrieval-augmented generation use a reranker?"
print("ContextualCompressionRetriever:")
for doc in retriever.invoke(query):
    print(f"  Score: {doc.metadata['relevance_score']:.4f} -> {doc.metadata['title']}")

# Rank on a metadata field as well as the text, asynchronously (AsyncTogether, no thread).
by_title = TogetherRerank(top_n=1, rank_fields=["title", "page_content"])
[best] = asyncio.run(by_title.acompress_documents(documents, "reranking"))
print(f"By title and text (async): {best.metadata['title']}")

# A step of an LCEL chain: it takes {"documents": ..., "query": ...}.
chain = {"documents": base_retriever, "query": RunnablePassthrough()} | reranker
print("LCEL chain:", [doc.metadata["title"] for doc in chain.invoke(query)])
