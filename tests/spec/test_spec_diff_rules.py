"""Every spec-diff rule, each shown by a minimal pair of specs: the rule fires, at the right place.

A case edits a copy of one small base document (one operation, one request and
one response schema using every construct the rules look at) into the new
document, or the old one where the rule is about something taken away.
"""

from __future__ import annotations

import copy
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from together_rerank.specdiff import RULES, Severity, diff_specs
from together_rerank.specdiff.pyapi import python_api_changes

Spec = dict[str, Any]


def base() -> Spec:
    error = {"description": "bad", "content": {"application/json": {"schema": {"type": "object"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://example.test/v1"}],
        "paths": {
            "/things": {
                "post": {
                    "operationId": "things",
                    "parameters": [],
                    "requestBody": {
                        "required": False,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Req"}}
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Resp"}
                                }
                            },
                        },
                        "400": error,
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "Req": {
                    "type": "object",
                    "description": "A request.",
                    "required": ["a"],
                    "properties": {
                        "a": {"type": "string", "pattern": "^x", "minLength": 1, "maxLength": 10},
                        "n": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
                        "e": {"type": "string", "enum": ["x", "y"]},
                        "l": {
                            "type": "array",
                            "items": {"type": "string"},
                            "minItems": 1,
                            "maxItems": 5,
                        },
                        "o": {"type": ["string", "null"]},
                        "v": {"oneOf": [{"type": "string"}, {"type": "boolean"}]},
                    },
                },
                "Resp": {
                    "type": "object",
                    "required": ["id", "score"],
                    "properties": {
                        "id": {"type": "string"},
                        "score": {"type": "number", "minimum": 0, "maximum": 1},
                        "kind": {"type": "string", "enum": ["a", "b"]},
                        "note": {"type": "boolean"},
                        "maybe": {"type": ["integer", "null"]},
                        "v": {"oneOf": [{"type": "string"}, {"type": "array"}]},
                    },
                },
            }
        },
    }


def _op(spec: Spec) -> Spec:
    op: Spec = spec["paths"]["/things"]["post"]
    return op


def _req(spec: Spec) -> Spec:
    req: Spec = spec["components"]["schemas"]["Req"]
    return req


def _resp(spec: Spec) -> Spec:
    resp: Spec = spec["components"]["schemas"]["Resp"]
    return resp


def _param(required: bool) -> Spec:
    return {"in": "query", "name": "q", "required": required, "schema": {"type": "string"}}


REQ = "/components/schemas/Req"
RESP = "/components/schemas/Resp"
OP = "/paths/~1things/post"

# rule -> (which document the edit makes: "new" or "old", the edit, the pointer reported)
Edit = Callable[[Spec], object]
CASES: dict[str, tuple[str, Edit, str]] = {
    "path-removed": ("new", lambda s: s["paths"].pop("/things"), "/paths/~1things"),
    "operation-removed": (
        "old",
        lambda s: s["paths"]["/things"].update(get=copy.deepcopy(_op(s))),
        "/paths/~1things/get",
    ),
    "operation-added": (
        "new",
        lambda s: s["paths"]["/things"].update(get=copy.deepcopy(_op(s))),
        "/paths/~1things/get",
    ),
    "path-added": (
        "new",
        lambda s: s["paths"].update({"/v2/things": _op(s)}),
        "/paths/~1v2~1things",
    ),
    "server-url-changed": (
        "new",
        lambda s: s["servers"][0].update(url="https://example.test"),
        "/servers/0/url",
    ),
    "security-changed": ("new", lambda s: s.update(security=[{"key": []}]), "/security"),
    "request-parameter-required-added": (
        "new",
        lambda s: _op(s)["parameters"].append(_param(True)),
        f"{OP}/parameters/query:q",
    ),
    "request-parameter-optional-added": (
        "new",
        lambda s: _op(s)["parameters"].append(_param(False)),
        f"{OP}/parameters/query:q",
    ),
    "request-parameter-removed": (
        "old",
        lambda s: _op(s)["parameters"].append(_param(False)),
        f"{OP}/parameters/query:q",
    ),
    "request-parameter-made-required": (
        "new",
        lambda s: _op(s)["parameters"].append(_param(True)),
        f"{OP}/parameters/query:q",
    ),
    "request-body-made-required": (
        "new",
        lambda s: _op(s)["requestBody"].update(required=True),
        f"{OP}/requestBody/required",
    ),
    "request-media-type-removed": (
        "old",
        lambda s: _op(s)["requestBody"]["content"].update({"text/plain": {}}),
        f"{OP}/requestBody/content/text~1plain",
    ),
    "request-property-required-added": (
        "new",
        lambda s: (
            _req(s)["properties"].update(b={"type": "string"}),
            _req(s)["required"].append("b"),
        ),
        f"{REQ}/properties/b",
    ),
    "request-property-optional-added": (
        "new",
        lambda s: _req(s)["properties"].update(b={"type": "string"}),
        f"{REQ}/properties/b",
    ),
    "request-property-removed": (
        "new",
        lambda s: _req(s)["properties"].pop("e"),
        f"{REQ}/properties/e",
    ),
    "request-property-made-required": (
        "new",
        lambda s: _req(s)["required"].append("n"),
        f"{REQ}/properties/n",
    ),
    "request-property-made-optional": (
        "new",
        lambda s: _req(s)["required"].remove("a"),
        f"{REQ}/properties/a",
    ),
    "request-type-changed": (
        "new",
        lambda s: _req(s)["properties"]["n"].update(type="string"),
        f"{REQ}/properties/n/type",
    ),
    "request-type-widened": (
        "new",
        lambda s: _req(s)["properties"]["n"].update(type=["integer", "string"]),
        f"{REQ}/properties/n/type",
    ),
    "request-made-non-nullable": (
        "new",
        lambda s: _req(s)["properties"]["o"].update(type="string"),
        f"{REQ}/properties/o/type",
    ),
    "request-made-nullable": (
        "new",
        lambda s: _req(s)["properties"]["a"].update(type=["string", "null"]),
        f"{REQ}/properties/a/type",
    ),
    "request-enum-value-removed": (
        "new",
        lambda s: _req(s)["properties"]["e"].update(enum=["x"]),
        f"{REQ}/properties/e/enum",
    ),
    "request-enum-value-added": (
        "new",
        lambda s: _req(s)["properties"]["e"]["enum"].append("z"),
        f"{REQ}/properties/e/enum",
    ),
    # Stricter than oasdiff, which has no rule for a lowered request maxItems.
    "request-max-lowered": (
        "new",
        lambda s: _req(s)["properties"]["l"].update(maxItems=3),
        f"{REQ}/properties/l/maxItems",
    ),
    "request-max-added": (
        "new",
        lambda s: _req(s)["properties"]["e"].update(maxLength=3),
        f"{REQ}/properties/e/maxLength",
    ),
    "request-max-raised": (
        "new",
        lambda s: _req(s)["properties"]["n"].update(maximum=20),
        f"{REQ}/properties/n/maximum",
    ),
    "request-min-raised": (
        "new",
        lambda s: _req(s)["properties"]["a"].update(minLength=2),
        f"{REQ}/properties/a/minLength",
    ),
    "request-min-added": (
        "new",
        lambda s: _req(s)["properties"]["e"].update(minLength=1),
        f"{REQ}/properties/e/minLength",
    ),
    "request-min-lowered": (
        "new",
        lambda s: _req(s)["properties"]["n"].update(minimum=0),
        f"{REQ}/properties/n/minimum",
    ),
    "request-pattern-added": (
        "new",
        lambda s: _req(s)["properties"]["e"].update(pattern="^x"),
        f"{REQ}/properties/e/pattern",
    ),
    "request-pattern-changed": (
        "new",
        lambda s: _req(s)["properties"]["a"].update(pattern="^y"),
        f"{REQ}/properties/a/pattern",
    ),
    "request-pattern-removed": (
        "new",
        lambda s: _req(s)["properties"]["a"].pop("pattern"),
        f"{REQ}/properties/a/pattern",
    ),
    "request-additional-properties-closed": (
        "new",
        lambda s: _req(s).update(additionalProperties=False),
        f"{REQ}/additionalProperties",
    ),
    "request-default-changed": (
        "new",
        lambda s: _req(s)["properties"]["n"].update(default=2),
        f"{REQ}/properties/n/default",
    ),
    "request-variant-removed": (
        "new",
        lambda s: _req(s)["properties"]["v"]["oneOf"].pop(),
        f"{REQ}/properties/v/oneOf",
    ),
    "request-variant-added": (
        "new",
        lambda s: _req(s)["properties"]["v"]["oneOf"].append({"type": "integer"}),
        f"{REQ}/properties/v/oneOf",
    ),
    "response-success-status-removed": (
        "new",
        lambda s: _op(s)["responses"].pop("200"),
        f"{OP}/responses/200",
    ),
    "response-error-status-removed": (
        "new",
        lambda s: _op(s)["responses"].pop("400"),
        f"{OP}/responses/400",
    ),
    "response-status-added": (
        "new",
        lambda s: _op(s)["responses"].update({"404": _op(s)["responses"]["400"]}),
        f"{OP}/responses/404",
    ),
    "response-media-type-removed": (
        "old",
        lambda s: _op(s)["responses"]["200"]["content"].update({"text/plain": {}}),
        f"{OP}/responses/200/content/text~1plain",
    ),
    "response-property-required-removed": (
        "new",
        lambda s: (_resp(s)["properties"].pop("id"), _resp(s)["required"].remove("id")),
        f"{RESP}/properties/id",
    ),
    "response-property-renamed": (
        "new",
        lambda s: (
            _resp(s)["properties"].update(relevance=_resp(s)["properties"].pop("score")),
            _resp(s).update(required=["id", "relevance"]),
        ),
        f"{RESP}/properties/score",
    ),
    "response-property-optional-removed": (
        "new",
        lambda s: _resp(s)["properties"].pop("note"),
        f"{RESP}/properties/note",
    ),
    "response-property-added": (
        "new",
        lambda s: _resp(s)["properties"].update(extra={"type": "string"}),
        f"{RESP}/properties/extra",
    ),
    "response-property-made-optional": (
        "new",
        lambda s: _resp(s)["required"].remove("score"),
        f"{RESP}/properties/score",
    ),
    "response-property-made-required": (
        "new",
        lambda s: _resp(s)["required"].append("note"),
        f"{RESP}/properties/note",
    ),
    "response-made-nullable": (
        "new",
        lambda s: _resp(s)["properties"]["note"].update(type=["boolean", "null"]),
        f"{RESP}/properties/note/type",
    ),
    "response-made-non-nullable": (
        "new",
        lambda s: _resp(s)["properties"]["maybe"].update(type="integer"),
        f"{RESP}/properties/maybe/type",
    ),
    "response-type-changed": (
        "new",
        lambda s: _resp(s)["properties"]["score"].update(type="string"),
        f"{RESP}/properties/score/type",
    ),
    "response-type-narrowed": (
        "new",
        lambda s: _resp(s)["properties"]["score"].update(type="integer"),
        f"{RESP}/properties/score/type",
    ),
    "response-enum-value-added": (
        "new",
        lambda s: _resp(s)["properties"]["kind"]["enum"].append("c"),
        f"{RESP}/properties/kind/enum",
    ),
    "response-enum-value-removed": (
        "new",
        lambda s: _resp(s)["properties"]["kind"].update(enum=["a"]),
        f"{RESP}/properties/kind/enum",
    ),
    "response-range-widened": (
        "new",
        lambda s: _resp(s)["properties"]["score"].update(maximum=2),
        f"{RESP}/properties/score/maximum",
    ),
    "response-range-narrowed": (
        "new",
        lambda s: _resp(s)["properties"]["score"].update(maximum=0.5),
        f"{RESP}/properties/score/maximum",
    ),
    "response-variant-added": (
        "new",
        lambda s: _resp(s)["properties"]["v"]["oneOf"].append({"type": "boolean"}),
        f"{RESP}/properties/v/oneOf",
    ),
    "response-variant-removed": (
        "new",
        lambda s: _resp(s)["properties"]["v"]["oneOf"].pop(),
        f"{RESP}/properties/v/oneOf",
    ),
    "description-changed": (
        "new",
        lambda s: _req(s).update(description="Another request."),
        f"{REQ}/description",
    ),
    "example-changed": ("new", lambda s: _req(s).update(example={"a": "x"}), f"{REQ}/example"),
    # Deprecations: still accepted or sent, going away.
    "operation-deprecated": ("new", lambda s: _op(s).update(deprecated=True), f"{OP}/deprecated"),
    "request-parameter-deprecated": (
        "new",
        lambda s: _op(s)["parameters"].append({**_param(False), "deprecated": True}),
        f"{OP}/parameters/query:q",
    ),
    "request-property-deprecated": (
        "new",
        lambda s: _req(s)["properties"]["n"].update(deprecated=True),
        f"{REQ}/properties/n",
    ),
    "response-property-deprecated": (
        "new",
        lambda s: _resp(s)["properties"]["note"].update(deprecated=True),
        f"{RESP}/properties/note",
    ),
    "response-property-renamed-with-alias": (
        "new",
        lambda s: (
            _resp(s)["properties"].update(
                relevance={"type": "number", "x-deprecated-alias": "score"}
            ),
            _resp(s)["properties"].pop("score"),
            _resp(s).update(required=["id", "relevance"]),
        ),
        f"{RESP}/properties/score",
    ),
}
# Made-required and deprecated need an optional parameter in the old document to start from.
OLD_SETUP: dict[str, Edit] = {
    "request-parameter-made-required": lambda s: _op(s)["parameters"].append(_param(False)),
    "request-parameter-deprecated": lambda s: _op(s)["parameters"].append(_param(False)),
}


def test_the_base_document_has_no_changes_against_itself() -> None:
    assert diff_specs(base(), base()) == []


def test_every_rule_has_a_case() -> None:
    # python-api-breaking reads git, not specs: its own test is below.
    assert set(CASES) | {"python-api-breaking"} == set(RULES)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule(rule: str) -> None:
    side, edit, where = CASES[rule]
    old, new = base(), base()
    if rule in OLD_SETUP:
        OLD_SETUP[rule](old)
    edit(new if side == "new" else old)
    changes = diff_specs(old, new)
    fired = {(change.rule, change.pointer) for change in changes}
    assert (rule, where) in fired, f"{rule} at {where} not in {sorted(fired)}"
    change = next(c for c in changes if c.rule == rule)
    assert change.severity is RULES[rule].severity
    assert change.why == RULES[rule].why
    # The report leads with the worst change.
    assert changes[0].severity.rank == max(c.severity.rank for c in changes)


def test_a_component_used_in_requests_and_responses_is_judged_both_ways() -> None:
    old, new = base(), base()
    for spec in (old, new):
        _op(spec)["responses"]["200"]["content"]["application/json"]["schema"] = {
            "$ref": "#/components/schemas/Req"
        }
    _req(new)["properties"]["e"]["enum"].append("z")
    rules = {change.rule for change in diff_specs(old, new)}
    assert {"request-enum-value-added", "response-enum-value-added"} <= rules


def test_severities_are_ordered() -> None:
    assert Severity.INFO.rank < Severity.WARNING.rank < Severity.BREAKING.rank


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        timeout=60,
    )


def test_rule_python_api_breaking(tmp_path: Path) -> None:
    """griffe's view: a public parameter removed since the git ref is a breaking change."""
    package = tmp_path / "together_rerank"
    package.mkdir()
    module = package / "__init__.py"
    module.write_text("def create(model: str, top_n: int | None = None) -> None: ...\n", "utf-8")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "v1")
    assert python_api_changes("HEAD", repo=tmp_path) == []
    module.write_text("def create(model: str) -> None: ...\n", "utf-8")
    changes = python_api_changes("HEAD", repo=tmp_path)
    assert [(c.rule, c.pointer) for c in changes] == [
        ("python-api-breaking", "together_rerank.create")
    ]
    assert "top_n" in changes[0].detail
    assert changes[0].severity is Severity.BREAKING
