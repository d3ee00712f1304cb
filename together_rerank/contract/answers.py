"""What a server answered, read without trusting it: the raw JSON and the results in it."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import httpx

from .report import shorten

__all__ = ["MISSING", "Answer", "Result", "read_results"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""The value of `Result.document` when the result has no `document` key."""


@dataclass(frozen=True)
class Answer:
    """One HTTP answer (or the lack of one): status, decoded JSON body, text."""

    status: int | None
    """None when no HTTP answer arrived (`error` says why)."""
    body: Any = None
    """The decoded JSON body; None when the body is not JSON."""
    text: str = ""
    content_type: str = ""
    error: str | None = None

    @classmethod
    def from_response(cls, response: httpx.Response) -> Answer:
        """Read an httpx response; a body that is not JSON keeps only its text."""
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        return cls(
            status=response.status_code,
            body=body,
            text=response.content.decode("utf-8", errors="replace"),
            content_type=response.headers.get("content-type", ""),
        )

    @classmethod
    def no_answer(cls, error: str) -> Answer:
        """A request that got no HTTP answer (connection refused, reset, timed out)."""
        return cls(status=None, error=error)

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return self.status is not None and 200 <= self.status < 300

    def describe(self) -> dict[str, Any]:
        """The answer as JSON evidence for a report (long values cut)."""
        if self.status is None:
            return {"error": self.error}
        data: dict[str, Any] = {"status": self.status}
        if self.content_type:
            data["content_type"] = self.content_type
        data["body"] = shorten(self.body) if self.body is not None else shorten(self.text)
        return data


@dataclass(frozen=True)
class Result:
    """One entry of a rerank answer's `results`, as the server sent it."""

    position: int
    index: int
    relevance_score: float
    document: Any = MISSING


def read_results(answer: Answer) -> list[Result] | str:
    """The results of a 2xx rerank answer, or why they cannot be read.

    Readable means: a JSON object whose `results` is a list of objects, each
    with an integer `index` and a finite number `relevance_score`. Whether the
    results are *right* is for the properties to judge.
    """
    if answer.status is None:
        return f"no answer: {answer.error}"
    if not answer.ok:
        return f"the server answered {answer.status} to a valid request"
    if not isinstance(answer.body, dict):
        return "the 2xx body is not a JSON object"
    raw = answer.body.get("results")
    if not isinstance(raw, list):
        return "the 2xx body has no `results` list"
    results = []
    for position, item in enumerate(raw):
        if not isinstance(item, dict):
            return f"results[{position}] is not an object"
        index, score = item.get("index"), item.get("relevance_score")
        if not isinstance(index, int) or isinstance(index, bool):
            return f"results[{position}].index is not an integer"
        if (
            not isinstance(score, int | float)
            or isinstance(score, bool)
            or not math.isfinite(score)
        ):
            return f"results[{position}].relevance_score is not a finite number"
        results.append(Result(position, index, float(score), item.get("document", MISSING)))
    return results
