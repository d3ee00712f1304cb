from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.embeddings_request import EmbeddingsRequest
from ...models.embeddings_response import EmbeddingsResponse
from ...models.error_response import ErrorResponse
from ...types import Response


def _get_kwargs(
    *,
    body: EmbeddingsRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/embeddings",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> EmbeddingsResponse | ErrorResponse | None:
    if response.status_code == 200:
        response_200 = EmbeddingsResponse.from_dict(response.json())

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
) -> Response[EmbeddingsResponse | ErrorResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: EmbeddingsRequest,
) -> Response[EmbeddingsResponse | ErrorResponse]:
    """Embed one text or a list of texts.

     Returns one vector for each input text, in input order.

    Args:
        body (EmbeddingsRequest): An embeddings request. Example: {'model':
            'togethercomputer/m2-bert-80M-8k-retrieval', 'input': ['How does attention work in
            transformers?']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EmbeddingsResponse | ErrorResponse]
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
    body: EmbeddingsRequest,
) -> EmbeddingsResponse | ErrorResponse | None:
    """Embed one text or a list of texts.

     Returns one vector for each input text, in input order.

    Args:
        body (EmbeddingsRequest): An embeddings request. Example: {'model':
            'togethercomputer/m2-bert-80M-8k-retrieval', 'input': ['How does attention work in
            transformers?']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EmbeddingsResponse | ErrorResponse
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: EmbeddingsRequest,
) -> Response[EmbeddingsResponse | ErrorResponse]:
    """Embed one text or a list of texts.

     Returns one vector for each input text, in input order.

    Args:
        body (EmbeddingsRequest): An embeddings request. Example: {'model':
            'togethercomputer/m2-bert-80M-8k-retrieval', 'input': ['How does attention work in
            transformers?']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EmbeddingsResponse | ErrorResponse]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: EmbeddingsRequest,
) -> EmbeddingsResponse | ErrorResponse | None:
    """Embed one text or a list of texts.

     Returns one vector for each input text, in input order.

    Args:
        body (EmbeddingsRequest): An embeddings request. Example: {'model':
            'togethercomputer/m2-bert-80M-8k-retrieval', 'input': ['How does attention work in
            transformers?']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EmbeddingsResponse | ErrorResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
