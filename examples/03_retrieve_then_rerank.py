from together_rerank import Together
import numpy as np

client = Together()

# Step 1: Embed query and corpus
query = "How does attention work in transformers?"
corpus = [
    "Attention mechanisms allow models to focus on relevant parts of the input.",
    "Transformers use self-attention to process sequences in parallel.",
    "Convolutional neural networks use filters for feature extraction.",
    "The attention mechanism computes weighted sums of value vectors.",
    "Recurrent neural networks process sequences one step at a time.",
]

# Embed everything
all_texts = [query] + corpus
embed_response = client.embeddings.create(
    input=all_texts,
    model="togethercomputer/m2-bert-80M-8k-retrieval",
)

vectors = [np.array(item.embedding) for item in embed_response.data]
query_vec = vectors[0]
doc_vecs = vectors[1:]

# Step 2: Retrieve top candidates by cosine similarity
similarities = [
    np.dot(query_vec, dv) / (np.linalg.norm(query_vec) * np.linalg.norm(dv))
    for dv in doc_vecs
]
top_indices = np.argsort(similarities)[::-1][:3]
candidates = [corpus[i] for i in top_indices]

# Step 3: Rerank candidates
rerank_response = client.rerank.create(
    model="Salesforce/Llama-Rank-V1",
    query=query,
    documents=candidates,
    top_n=2,
)

for result in rerank_response.results:
    print(f"Score: {result.relevance_score:.4f} -> {candidates[result.index]}")
