"""The tolerance policy: right rankings in another server's form are accepted, normalised, shown.

A deviation of form (a missing `usage` counter, `object` or `model`; a
bare-string document; a document not asked for) is normalised, recorded on
`response.deviations` and logged once per client and kind; `strict=True`
raises `APIResponseValidationError` naming it. What makes a ranking wrong
always raises (test_response_validation.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.contract.thirdparty import EMBEDDING_MODEL, RERANK_MODEL, third_party_server
from together_rerank import APIResponseValidationError, AsyncTogether, Together
from together_rerank.server import LocalServer

from .helpers import DOCS, MODEL, Caller, MockAPI


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TOGETHER_API_KEY", "TOGETHER_BASE_URL", "TOGETHER_LOG"):
        monkeypatch.delenv(name, raising=False)


def _rerank_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "object": "rerank",
        "model": MODEL,
        "results": [{"index": 1, "relevance_score": 0.9}, {"index": 0, "relevance_score": 0.2}],
        "usage": {"prompt_tokens": 7, "completion_tokens": 0, "total_tokens": 7},
    }
    body.update(fields)
    return {key: value for key, value in body.items() if value is not ...}


def _api(body: object) -> MockAPI:
    """A mock API answering `body` to the first two requests (a default client, then strict)."""
    return MockAPI(*(httpx.Response(200, json=body) for _ in range(2)))


def _kinds(response: Any) -> set[str]:
    return {deviation.kind for deviation in response.deviations}


# --- usage ----------------------------------------------------------------------------------

USAGE_CASES = [
    # (usage sent, usage returned, deviations)
    (
        {"prompt_tokens": 7, "total_tokens": 7},
        {"prompt_tokens": 7, "completion_tokens": 0, "total_tokens": 7},
        {"usage.completion_tokens: missing"},
    ),
    (
        {"prompt_tokens": 7, "completion_tokens": 2},
        {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9},
        {"usage.total_tokens: missing"},
    ),
    (
        {"total_tokens": 7},
        {"prompt_tokens": 7, "completion_tokens": 0, "total_tokens": 7},
        {"usage.completion_tokens: missing", "usage.prompt_tokens: missing"},
    ),
    (
        {"prompt_tokens": 7, "completion_tokens": None, "total_tokens": 7},
        {"prompt_tokens": 7, "completion_tokens": 0, "total_tokens": 7},
        {"usage.completion_tokens: null", "usage.completion_tokens: missing"},
    ),
    ({}, None, {"usage: holds no prompt_tokens or total_tokens"}),
]


@pytest.mark.parametrize(("sent", "returned", "kinds"), USAGE_CASES)
def test_a_usage_missing_counters_is_completed(
    mode: Caller, sent: dict[str, Any], returned: dict[str, int] | None, kinds: set[str]
) -> None:
    api = _api(_rerank_body(usage=sent))
    result = mode.rerank(api, model=MODEL, query="q", documents=DOCS)
    assert [r.index for r in result.results] == [1, 0]
    assert (None if result.usage is None else result.usage.model_dump()) == returned
    assert _kinds(result) == kinds


@pytest.mark.parametrize(("sent", "returned", "kinds"), USAGE_CASES)
def test_strict_mode_refuses_a_usage_missing_counters(
    mode: Caller, sent: dict[str, Any], returned: dict[str, int] | None, kinds: set[str]
) -> None:
    api = _api(_rerank_body(usage=sent))
    with pytest.raises(APIResponseValidationError, match="strict") as info:
        mode.rerank(api, client={"strict": True}, model=MODEL, query="q", documents=DOCS)
    for kind in kinds:
        assert kind.split(":")[0] in str(info.value)
    assert api.calls == 1  # not retried


@pytest.mark.parametrize(
    "usage",
    [
        {"prompt_tokens": "7", "total_tokens": 7},
        {"prompt_tokens": 7.5, "total_tokens": 7},
        {"prompt_tokens": True, "total_tokens": 7},
        "7 tokens",
        [7],
    ],
)
def test_a_usage_of_the_wrong_type_still_raises(mode: Caller, usage: object) -> None:
    api = _api(_rerank_body(usage=usage))
    with pytest.raises(APIResponseValidationError, match="usage"):
        mode.rerank(api, model=MODEL, query="q", documents=DOCS)


def test_absent_and_null_usage_and_id_are_the_specs_not_deviations(mode: Caller) -> None:
    for usage in (..., None):
        api = _api(_rerank_body(usage=usage))
        result = mode.rerank(api, client={"strict": True}, model=MODEL, query="q", documents=DOCS)
        assert result.usage is None
        assert result.deviations == ()


# --- object, model, documents -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "kinds"),
    [
        ({"object": ...}, {"object: missing"}),
        ({"object": None}, {"object: null"}),
        ({"model": ...}, {"model: missing"}),
        ({"object": ..., "model": ..., "usage": ...}, {"object: missing", "model: missing"}),
    ],
)
def test_object_or_model_absent_is_tolerated_and_recorded(
    mode: Caller, fields: dict[str, Any], kinds: set[str]
) -> None:
    api = _api(_rerank_body(**fields))
    result = mode.rerank(api, model=MODEL, query="q", documents=DOCS)
    assert [r.index for r in result.results] == [1, 0]
    assert _kinds(result) == kinds
    with pytest.raises(APIResponseValidationError) as info:
        mode.rerank(api, client={"strict": True}, model=MODEL, query="q", documents=DOCS)
    for kind in kinds:
        assert kind in str(info.value)


def _with_documents(document: object) -> dict[str, Any]:
    body = _rerank_body()
    for result in body["results"]:
        result["document"] = document if document is not ... else {"text": DOCS[result["index"]]}
    return body


def test_a_bare_string_document_becomes_an_object(mode: Caller) -> None:
    api = _api(_with_documents("the text"))
    result = mode.rerank(api, model=MODEL, query="q", documents=DOCS, return_documents=True)
    assert [r.document for r in result.results] == [{"text": "the text"}] * 2
    (deviation,) = result.deviations
    assert deviation.field == "results[].document"
    assert deviation.problem == "a bare string"
    assert deviation.count == 2
    assert "in 2 places" in str(deviation)
    with pytest.raises(APIResponseValidationError, match=r"results\[\]\.document: a bare string"):
        mode.rerank(
            api,
            client={"strict": True},
            model=MODEL,
            query="q",
            documents=DOCS,
            return_documents=True,
        )


@pytest.mark.parametrize("document", ["the text", ...], ids=["bare string", "object"])
def test_a_document_not_asked_for_is_dropped(mode: Caller, document: object) -> None:
    api = _api(_with_documents(document))
    result = mode.rerank(api, model=MODEL, query="q", documents=DOCS)
    assert [r.document for r in result.results] == [None, None]
    assert _kinds(result) == {"results[].document: sent though return_documents was not asked for"}
    with pytest.raises(APIResponseValidationError, match="return_documents"):
        mode.rerank(api, client={"strict": True}, model=MODEL, query="q", documents=DOCS)


def test_a_null_document_not_asked_for_is_no_deviation(mode: Caller) -> None:
    api = _api(_with_documents(None))
    result = mode.rerank(api, client={"strict": True}, model=MODEL, query="q", documents=DOCS)
    assert result.deviations == ()


def test_tolerance_never_rescues_a_wrong_ranking(mode: Caller) -> None:
    # Form deviations and a wrong ranking together: the ranking still raises.
    body = _rerank_body(object=..., usage={"prompt_tokens": 1})
    body["results"][0]["index"] = 5
    api = _api(body)
    with pytest.raises(APIResponseValidationError, match="index 5"):
        mode.rerank(api, model=MODEL, query="q", documents=DOCS)


def test_a_body_that_is_not_json_still_names_the_json_error(mode: Caller) -> None:
    api = MockAPI(httpx.Response(200, content=b'{"results": [}'))
    with pytest.raises(APIResponseValidationError, match="JSON"):
        mode.rerank(api, model=MODEL, query="q", documents=DOCS)


def test_a_client_alternating_between_forms_parses_each_body_on_its_own(mode: Caller) -> None:
    # After a body that needed normalising, the client parses the next one from
    # JSON first (a server that needs it once needs it every time); a body in the
    # spec's form, or a broken one, must still come out exactly as on a fresh client.
    bodies: list[Any] = [
        _rerank_body(usage={"prompt_tokens": 7, "total_tokens": 7}),
        _rerank_body(),
        _rerank_body(usage={"prompt_tokens": 7, "total_tokens": 7}),
        _rerank_body(results=[{"index": "1", "relevance_score": 0.5}], usage=...),
        _rerank_body(usage={"prompt_tokens": 7, "total_tokens": 7}),
        b'{"results": [',
    ]
    api = MockAPI(
        *(
            httpx.Response(200, content=b) if isinstance(b, bytes) else httpx.Response(200, json=b)
            for b in bodies
        )
    )
    outcomes: list[object] = []

    def run(client: Any) -> None:
        for _ in bodies:
            try:
                outcomes.append(client.rerank.create(model=MODEL, query="q", documents=DOCS))
            except APIResponseValidationError as exc:
                outcomes.append(str(exc))

    async def run_async(client: Any) -> None:
        for _ in bodies:
            try:
                outcomes.append(await client.rerank.create(model=MODEL, query="q", documents=DOCS))
            except APIResponseValidationError as exc:
                outcomes.append(str(exc))

    mode._run(api, {"max_retries": 0}, run, run_async)
    kinds = [_kinds(o) if not isinstance(o, str) else o for o in outcomes]
    assert kinds[0] == kinds[2] == {"usage.completion_tokens: missing"}
    assert kinds[1] == set()
    assert "results.0.index" in str(kinds[3])
    assert kinds[4] == {"usage.completion_tokens: missing"}
    assert "JSON" in str(kinds[5])


# --- embeddings -------------------------------------------------------------------------------


def test_embeddings_deviations_are_tolerated_and_recorded(mode: Caller) -> None:
    body = {
        "data": [{"embedding": [0.5, 0.5], "index": 0}],
        "usage": {"prompt_tokens": 3, "total_tokens": 3},
    }
    api = _api(body)
    result = mode.embeddings(api, model="m", input="a")
    assert result.data[0].embedding == [0.5, 0.5]
    assert result.usage is not None
    assert result.usage.completion_tokens == 0
    assert _kinds(result) == {
        "object: missing",
        "model: missing",
        "data[].object: missing",
        "usage.completion_tokens: missing",
    }
    with pytest.raises(APIResponseValidationError, match="data\\[\\]\\.object"):
        mode.embeddings(api, client={"strict": True}, model="m", input="a")


# --- settings, raw responses, logging ----------------------------------------------------------


def test_strict_is_a_setting_of_both_clients_and_with_options() -> None:
    assert Together(base_url="http://127.0.0.1:1").strict is False
    client = Together(base_url="http://127.0.0.1:1", strict=True)
    assert client.strict is True
    assert client.with_options(max_retries=1).strict is True
    assert client.with_options(strict=False).strict is False
    async_client = AsyncTogether(base_url="http://127.0.0.1:1")
    assert async_client.with_options(strict=True).strict is True
    with pytest.raises(TypeError, match="strict"):
        Together(base_url="http://127.0.0.1:1", strict="yes")  # type: ignore[arg-type]


def test_the_raw_response_shows_the_deviations(mode: Caller) -> None:
    api = _api(_rerank_body(object=...))
    raw = mode.rerank_raw(api, model=MODEL, query="q", documents=DOCS)
    assert [d.kind for d in raw.deviations] == ["object: missing"]
    assert raw.parse().deviations == raw.deviations
    assert b'"object"' not in raw.content  # the bytes stay as sent


def test_each_kind_is_logged_once_per_client(caplog: pytest.LogCaptureFixture) -> None:
    bodies = [_rerank_body(object=...), _rerank_body(object=...), _rerank_body(model=...)]
    api = MockAPI(*(httpx.Response(200, json=b) for b in bodies + bodies))
    caplog.set_level(logging.INFO, logger="together_rerank")
    for _ in range(2):  # two clients
        with api.client() as client:
            for _ in bodies:
                client.rerank.create(model=MODEL, query="q", documents=DOCS)
    lines = [r.getMessage() for r in caplog.records if "tolerated" in r.getMessage()]
    assert len(lines) == 4  # object and model, once for each client
    assert sum("object: missing" in line for line in lines) == 2
    assert all("strict=True" in line for line in lines)


def test_nothing_is_logged_when_logging_is_off(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="together_rerank")
    api = _api(_rerank_body(object=...))
    result = Caller(False).rerank(api, model=MODEL, query="q", documents=DOCS)
    assert _kinds(result) == {"object: missing"}
    assert not [r for r in caplog.records if "tolerated" in r.getMessage()]


# --- real servers' shapes over loopback HTTP ---------------------------------------------------

# What each server's rerank answer deviates in (facts.md), with and without documents.
EXPECTED = {
    "vllm": (
        {
            "object: missing",
            "usage.completion_tokens: missing",
            "results[].document: sent though return_documents was not asked for",
        },
        {"object: missing", "usage.completion_tokens: missing"},
    ),
    "infinity": (
        {"usage.completion_tokens: missing"},
        {"usage.completion_tokens: missing", "results[].document: a bare string"},
    ),
    "litellm": ({"object: missing", "model: missing"}, {"object: missing", "model: missing"}),
}


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def real_shape(request: pytest.FixtureRequest) -> Iterator[tuple[str, LocalServer]]:
    with third_party_server(request.param) as server:
        yield request.param, server


def _base_url(name: str, server: LocalServer) -> str:
    # infinity serves at the root: its endpoint URL says so (see the base-URL rule).
    return f"{server.root_url}/rerank" if name == "infinity" else server.root_url


DOCUMENTS = ["apples and pears", "the weather today", "pears are fruit", "apples"]


@pytest.mark.parametrize("return_documents", [False, True])
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_every_real_servers_shape_works_in_default_mode_and_raises_in_strict(
    real_shape: tuple[str, LocalServer], return_documents: bool, is_async: bool
) -> None:
    name, server = real_shape
    base_url = _base_url(name, server)
    arguments: dict[str, Any] = {
        "model": RERANK_MODEL,
        "query": "apples pears",
        "documents": DOCUMENTS,
        "top_n": 3,
        "return_documents": return_documents,
    }

    def call(**client: Any) -> Any:
        if not is_async:
            with Together(base_url=base_url, max_retries=0, **client) as sync_client:
                return sync_client.rerank.create(**arguments)

        async def go() -> Any:
            async with AsyncTogether(base_url=base_url, max_retries=0, **client) as async_client:
                return await async_client.rerank.create(**arguments)

        return asyncio.run(go())

    result = call()
    assert result.results[0].index == 0  # both query words
    assert len(result.results) == 3
    if return_documents:
        # vLLM's extra `multi_modal: null` is kept, as extra fields are.
        assert all(r.document is not None for r in result.results)
        assert [r.document["text"] for r in result.results] == [
            DOCUMENTS[r.index] for r in result.results
        ]
    else:
        assert all(r.document is None for r in result.results)
    assert _kinds(result) == EXPECTED[name][return_documents]
    if result.usage is not None:
        assert result.usage.completion_tokens == 0
        assert result.usage.total_tokens == result.usage.prompt_tokens > 0
    with pytest.raises(APIResponseValidationError, match="strict"):
        call(strict=True)


@pytest.mark.parametrize("name", ["infinity", "litellm"])
def test_real_servers_embeddings_work_in_default_mode(name: str) -> None:
    with third_party_server(name) as server:
        base_url = _base_url(name, server)
        with Together(base_url=base_url, max_retries=0) as client:
            result = client.embeddings.create(model=EMBEDDING_MODEL, input=["a b", "c"])
        assert [d.index for d in result.data] == [0, 1]
        assert result.usage is not None
        assert result.usage.total_tokens > 0
        expected = {"usage.completion_tokens: missing"} if name == "infinity" else set()
        assert _kinds(result) == expected
        # LiteLLM's OpenAI usage keeps its extra null details.
        if name == "litellm":
            assert result.usage.model_extra == {
                "completion_tokens_details": None,
                "prompt_tokens_details": None,
            }


def test_create_many_and_batching_follow_the_policy() -> None:
    with (
        third_party_server("vllm") as server,
        Together(base_url=server.root_url, max_retries=0) as client,
    ):
        many = client.rerank.create_many(
            model=RERANK_MODEL,
            queries=["apples", "pears"],
            documents=DOCUMENTS,
            max_documents_per_request=2,
        )
        for query, response in zip(["apples", "pears"], many, strict=True):
            assert not isinstance(response, Exception)
            assert "usage.completion_tokens: missing" in _kinds(response)
            assert response.usage is not None
            # The sum over both batches of what each reported (each counts the query).
            assert response.usage.total_tokens == 2 * len(query) + sum(map(len, DOCUMENTS))
            assert response.usage.completion_tokens == 0
        with pytest.raises(APIResponseValidationError, match="strict"):
            client.with_options(strict=True).rerank.create_many(
                model=RERANK_MODEL, queries=["apples"], documents=DOCUMENTS
            )


def test_a_merge_sums_billed_units_kept_as_an_extra_field() -> None:
    with (
        third_party_server("litellm") as server,
        Together(base_url=server.root_url, max_retries=0) as client,
    ):
        whole = client.rerank.create(model=RERANK_MODEL, query="apples", documents=DOCUMENTS)
        merged = client.rerank.create(
            model=RERANK_MODEL,
            query="apples",
            documents=DOCUMENTS,
            max_documents_per_request=1,
        )
    assert [r.index for r in merged.results] == [r.index for r in whole.results]
    assert _kinds(merged) == {"object: missing", "model: missing"}
    assert merged.model_extra is not None
    assert whole.model_extra is not None
    billed = merged.model_extra["meta"]["billed_units"]["total_tokens"]
    # Four batches each bill their query again: the sum of what every batch billed.
    assert billed == 4 * len("apples") + sum(map(len, DOCUMENTS))
    assert whole.model_extra["meta"]["billed_units"]["total_tokens"] == len("apples") + sum(
        map(len, DOCUMENTS)
    )
    json.dumps(merged.model_dump())  # still plain JSON


@pytest.mark.parametrize("name", ["vllm", "litellm"])
def test_the_framework_adapters_follow_the_policy(name: str) -> None:
    langchain = pytest.importorskip("together_rerank.integrations.langchain")
    llama_index = pytest.importorskip("together_rerank.integrations.llama_index")
    from langchain_core.documents import Document
    from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

    with (
        third_party_server(name) as server,
        Together(base_url=server.root_url, max_retries=0) as client,
    ):
        reranker = langchain.TogetherRerank(model=RERANK_MODEL, top_n=2, client=client)
        ranked = reranker.compress_documents([Document(d) for d in DOCUMENTS], "apples pears")
        assert ranked[0].page_content == DOCUMENTS[0]
        assert len(ranked) == 2
        processor = llama_index.TogetherRerank(model=RERANK_MODEL, top_n=2, client=client)
        nodes = [NodeWithScore(node=TextNode(text=d), score=0.0) for d in DOCUMENTS]
        best = processor.postprocess_nodes(nodes, QueryBundle("apples pears"))
        assert best[0].node.get_content() == DOCUMENTS[0]
        with pytest.raises(APIResponseValidationError, match="strict"):
            langchain.TogetherRerank(
                model=RERANK_MODEL, client=client.with_options(strict=True)
            ).compress_documents([Document(d) for d in DOCUMENTS], "apples")
