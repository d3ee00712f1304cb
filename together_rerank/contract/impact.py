"""What a contract failure means for users of this SDK: does their code raise, or not?

A FAIL is judged against the strict Together contract (openapi.yaml, and this
SDK's `strict=True`). Users run the SDK's default mode, which tolerates
deviations of form (`together_rerank._tolerance`). So each failure also says
which of these it is, by running the SDK's own parsers on the answer that
showed it:

- `Impact.RAISES`: default mode raises on it (or the server refuses a valid
  request): user code will raise.
- `Impact.TOLERATED`: default mode accepts it (normalised, or never sent by
  this SDK: it checks requests before sending); only the strict contract breaks.
- `Impact.UNNOTICED`: both modes accept the answer, yet it is wrong (the
  scores change between identical requests, a document asked for is missing):
  no client can tell from one answer.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import httpx

from .._exceptions import APIResponseValidationError
from .._tolerance import ResponsePolicy, parse_embeddings, parse_rerank
from .._validation import check_embeddings_response, check_rerank_response

__all__ = ["Impact", "judge_answer"]


class Impact(enum.StrEnum):
    """What a failed property means for code using this SDK in its default mode."""

    RAISES = "raises"
    """Default mode raises: calls like the failing one fail for users of this SDK."""
    TOLERATED = "tolerated"
    """Default mode accepts it; only the strict Together contract (strict=True) breaks."""
    UNNOTICED = "unnoticed"
    """Both modes accept the answer, which is nevertheless wrong."""

    @property
    def explanation(self) -> str:
        """One line for the report."""
        return _EXPLANATIONS[self]


_EXPLANATIONS = {
    Impact.RAISES: "breaks this SDK's default mode: such calls raise in your code",
    Impact.TOLERATED: (
        "tolerated by this SDK's default mode; only the strict Together contract "
        "(strict=True) rejects it"
    ),
    Impact.UNNOTICED: "no mode of this SDK can notice it: calls succeed with a wrong answer",
}

_DEFAULT = ResponsePolicy(strict=False)
_STRICT = ResponsePolicy(strict=True)


def judge_answer(endpoint: str, request: Any, status: int | None, content: bytes) -> Impact:
    """The impact of one answer to a valid `request` (its JSON body) on `endpoint`.

    `endpoint` is "rerank" or "embeddings"; `status` None means no answer.
    """
    if status is None or not 200 <= status < 300:
        return Impact.RAISES
    body: Mapping[str, Any] = request if isinstance(request, Mapping) else {}
    response = httpx.Response(
        status, content=content, request=httpx.Request("POST", f"http://check/{endpoint}")
    )
    raised = [_raises(endpoint, body, response, policy) for policy in (_DEFAULT, _STRICT)]
    if raised[0]:
        return Impact.RAISES
    return Impact.TOLERATED if raised[1] else Impact.UNNOTICED


def _raises(
    endpoint: str, body: Mapping[str, Any], response: httpx.Response, policy: ResponsePolicy
) -> bool:
    try:
        if endpoint == "embeddings":
            inputs = body.get("input")
            count = len(inputs) if isinstance(inputs, list) else 1
            embeddings = parse_embeddings(response.content, response, policy)
            assert embeddings is not None
            check_embeddings_response(embeddings, response, input_count=count)
            return False
        documents = body.get("documents")
        top_n = body.get("top_n")
        parsed = parse_rerank(
            response.content,
            response,
            policy,
            return_documents=body.get("return_documents") is True,
        )
        assert parsed is not None
        check_rerank_response(
            parsed,
            response,
            document_count=len(documents) if isinstance(documents, list) else 0,
            top_n=top_n if isinstance(top_n, int) and not isinstance(top_n, bool) else None,
        )
    except APIResponseValidationError:
        return True
    return False
