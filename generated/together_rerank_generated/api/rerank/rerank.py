from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_response import ErrorResponse
from ...models.rerank_request import RerankRequest
from ...models.rerank_response import RerankResponse
from ...types import Response


def _get_kwargs(
    *,
    body: RerankRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/rerank",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorResponse | RerankResponse | None:
    if response.status_code == 200:
        response_200 = RerankResponse.from_dict(response.json())

        return response_200

    if 400 <= response.status_code <= 499:
        response_4xx = ErrorResponse.from_dict(response.json())

        return response_4xx

    if 500 <= response.status_code <= 599:
        response_5xx = ErrorResponse.from_dict(response.json())

        return response_5xx

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorResponse | RerankResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: RerankRequest,
) -> Response[ErrorResponse | RerankResponse]:
    """Rerank documents against a query.

     Scores every document against the query and returns the documents'
    indices ordered by `relevance_score`, highest first. With `top_n`, only
    the first `top_n` results are returned.

    Args:
        body (RerankRequest): A rerank request. Fields that this document does not name are passed
            through to the server unchanged. `rank_fields` goes only with object
            documents, and each field it names must occur in some document (a
            rule JSON Schema cannot state; servers answer 400 otherwise).
             Example: {'model': 'Salesforce/Llama-Rank-V1', 'query': 'What is retrieval-augmented
            generation?', 'documents': ['The weather forecast predicts rain tomorrow.', 'RAG combines
            retrieval with generation for more accurate LLM responses.'], 'top_n': 1}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | RerankResponse]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: RerankRequest,
) -> ErrorResponse | RerankResponse | None:
    """Rerank documents against a query.

     Scores every document against the query and returns the documents'
    indices ordered by `relevance_score`, highest first. With `top_n`, only
    the first `top_n` results are returned.

    Args:
        body (RerankRequest): A rerank request. Fields that this document does not name are passed
            through to the server unchanged. `rank_fields` goes only with object
            documents, and each field it names must occur in some document (a
            rule JSON Schema cannot state; servers answer 400 otherwise).
             Example: {'model': 'Salesforce/Llama-Rank-V1', 'query': 'What is retrieval-augmented
            generation?', 'documents': ['The weather forecast predicts rain tomorrow.', 'RAG combines
            retrieval with generation for more accurate LLM responses.'], 'top_n': 1}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | RerankResponse
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: RerankRequest,
) -> Response[ErrorResponse | RerankResponse]:
    """Rerank documents against a query.

     Scores every document against the query and returns the documents'
    indices ordered by `relevance_score`, highest first. With `top_n`, only
    the first `top_n` results are returned.

    Args:
        body (RerankRequest): A rerank request. Fields that this document does not name are passed
            through to the server unchanged. `rank_fields` goes only with object
            documents, and each field it names must occur in some document (a
            rule JSON Schema cannot state; servers answer 400 otherwise).
             Example: {'model': 'Salesforce/Llama-Rank-V1', 'query': 'What is retrieval-augmented
            generation?', 'documents': ['The weather forecast predicts rain tomorrow.', 'RAG combines
            retrieval with generation for more accurate LLM responses.'], 'top_n': 1}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | RerankResponse]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: RerankRequest,
) -> ErrorResponse | RerankResponse | None:
    """Rerank documents against a query.

     Scores every document against the query and returns the documents'
    indices ordered by `relevance_score`, highest first. With `top_n`, only
    the first `top_n` results are returned.

    Args:
        body (RerankRequest): A rerank request. Fields that this document does not name are passed
            through to the server unchanged. `rank_fields` goes only with object
            documents, and each field it names must occur in some document (a
            rule JSON Schema cannot state; servers answer 400 otherwise).
             Example: {'model': 'Salesforce/Llama-Rank-V1', 'query': 'What is retrieval-augmented
            generation?', 'documents': ['The weather forecast predicts rain tomorrow.', 'RAG combines
            retrieval with generation for more accurate LLM responses.'], 'top_n': 1}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | RerankResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
