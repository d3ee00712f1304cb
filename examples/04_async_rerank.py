import asyncio
from together_rerank import AsyncTogether

async def rerank_documents():
    client = AsyncTogether()
    response = await client.rerank.create(
        model="Salesforce/Llama-Rank-V1",
        query="machine learning optimization",
        documents=[
            "Gradient descent is used to minimize loss functions.",
            "Tropical fish need warm water to survive.",
            "Adam optimizer adapts learning rates for each parameter.",
        ],
        top_n=2,
    )
    for result in response.results:
        print(f"Index: {result.index}, Score: {result.relevance_score:.4f}")

asyncio.run(rerank_documents())
