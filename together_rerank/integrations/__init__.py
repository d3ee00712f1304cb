"""Adapters that put the Together rerank SDK inside other frameworks, one module each.

Each module imports its framework, so it needs that framework's extra
(`pip install 'together-rerank[langchain]'`, `[llama-index]`); importing
`together_rerank` itself imports none of them.

- `together_rerank.integrations.langchain.TogetherRerank`: a LangChain document compressor.
- `together_rerank.integrations.llama_index.TogetherRerank`: a LlamaIndex node postprocessor.
- `together_rerank.integrations.ray.TogetherReranker`: a Ray Data `map_batches` stage (`[ray]`).
"""
