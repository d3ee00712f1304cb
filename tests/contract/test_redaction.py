"""The check's report never shows the API key, even when the checked server echoes it back."""

from __future__ import annotations

import json

from starlette.types import Message, Receive, Scope, Send

from together_rerank.contract import PropertyResult, run_check
from together_rerank.server import LocalServer, create_app

KEY = "sk-contract-echo-5Yq8Lm2Pz7Rt"


class EchoingServer:
    """The real server, but every POST is refused with an error quoting its Authorization header."""

    def __init__(self) -> None:
        self.inner = create_app()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.inner(scope, receive, send)
            return
        while (await receive()).get("more_body"):
            pass
        headers = dict(scope["headers"])
        auth = headers.get(b"authorization", b"").decode("latin-1")
        body = json.dumps(
            {"error": {"message": f"key {auth} is not valid here", "type": "invalid_request_error"}}
        ).encode()
        start: Message = {
            "type": "http.response.start",
            "status": 400,
            "headers": [(b"content-type", b"application/json"), (b"x-echo", auth.encode())],
        }
        await send(start)
        await send({"type": "http.response.body", "body": body})


def test_an_echoed_key_is_redacted_from_every_part_of_the_report() -> None:
    """Failed before: the failing example printed the server's answer with the key in it."""
    streamed: list[PropertyResult] = []
    with LocalServer(app=EchoingServer()) as server:
        report = run_check(
            server.root_url,
            api_key=KEY,
            max_examples=3,
            seed=0,
            only=["positive_data_acceptance", "answers_valid_requests"],
            on_result=streamed.append,
        )
    assert set(report.failed) == {"positive_data_acceptance", "answers_valid_requests"}
    shown = report.format() + json.dumps(report.to_dict())
    shown += "".join(json.dumps(result.to_dict()) for result in streamed)
    assert KEY not in shown
    assert "<redacted>" in shown  # the echo was there to hide
