from together_rerank import Together

client = Together()

query = "deep learning frameworks"
documents = [
    {"title": "PyTorch Guide", "body": "PyTorch is an open-source deep learning framework."},
    {"title": "Cooking Recipes", "body": "Learn to make delicious pasta at home."},
    {"title": "TensorFlow Tutorial", "body": "TensorFlow provides tools for building neural networks."},
]

response = client.rerank.create(
    model="Salesforce/Llama-Rank-V1",
    query=query,
    documents=documents,
    rank_fields=["title", "body"],
    return_documents=True,
    top_n=2,
)

for result in response.results:
    print(f"Score: {result.relevance_score:.4f}")
    print(f"  Document: {result.document}")
