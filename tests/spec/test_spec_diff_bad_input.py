"""`together-rerank spec-diff` on documents it cannot compare: exit 2, one line, no traceback.

Every document here is built by the test from `BASE`, a small OpenAPI document
of its own (not today's spec).
"""

from __future__ import annotations

import codecs
import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from together_rerank.cli import main

BASE: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "servers": [{"url": "https://example.test/v1"}],
    "paths": {
        "/rerank": {
            "post": {
                "summary": "rerank",
                "parameters": [
                    {"name": "trace", "in": "header", "schema": {"type": "string"}},
                    {"$ref": "#/components/parameters/Limit"},
                ],
                "requestBody": {"$ref": "#/components/requestBodies/Rerank"},
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Answer"}}
                        },
                    },
                    "400": {"$ref": "#/components/responses/Error"},
                },
            }
        }
    },
    "components": {
        "parameters": {
            "Limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 9}}
        },
        "requestBodies": {
            "Rerank": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Request"}}
                },
            }
        },
        "responses": {
            "Error": {
                "description": "bad",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
        "schemas": {
            "Request": {
                "type": "object",
                "required": ["query"],
                "properties": {
                    "query": {"type": "string", "minLength": 1},
                    "top_n": {"type": "integer", "minimum": 1, "maximum": 100},
                    "mode": {"type": "string", "enum": ["a", "b"], "default": "a"},
                    "documents": {
                        "type": "array",
                        "items": {"oneOf": [{"type": "string"}, {"type": "object"}]},
                    },
                },
            },
            "Answer": {
                "type": "object",
                "required": ["results"],
                "properties": {
                    "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}},
                    "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                },
            },
            "Result": {
                "type": "object",
                "properties": {"index": {"type": "integer"}, "score": {"type": "number"}},
            },
        },
    },
}


def _write(path: Path, document: object) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return _write(tmp_path / "base.yaml", BASE)


def _spec_diff(
    capsys: pytest.CaptureFixture[str], old: Path | str, new: Path | str
) -> tuple[int, str, str]:
    code = main(["spec-diff", str(old), str(new)])
    out, err = capsys.readouterr()
    # What reaches a terminal must encode: a lone surrogate would fail only there.
    out.encode("utf-8")
    err.encode("utf-8")
    return code, out, err


def _assert_refused(code: int, err: str, path: Path | str, *phrases: str) -> None:
    assert code == 2, err
    assert err.startswith(f"together-rerank: error: {path}: "), err
    assert len(err.strip().splitlines()) == 1, err
    for phrase in phrases:
        assert phrase in err


@pytest.mark.parametrize("position", ["old", "new"])
def test_a_file_that_is_not_utf8_exits_2_naming_file_and_line(
    capsys: pytest.CaptureFixture[str], base: Path, tmp_path: Path, position: str
) -> None:
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"openapi: 3.1.0\ninfo:\n  title: caf\xe9\n")
    old, new = (latin, base) if position == "old" else (base, latin)
    code, _, err = _spec_diff(capsys, old, new)
    _assert_refused(code, err, latin, "not UTF-8 text (byte 0xe9 on line 3)")


@pytest.mark.parametrize(
    ("edit", "where", "what"),
    [
        (lambda d: d.update(paths=5), "/paths", "must be an object or null, not a number (5)"),
        (
            lambda d: d["paths"]["/rerank"].update(post=7),
            "/paths/~1rerank/post",
            "must be an object, not a number (7)",
        ),
        (
            lambda d: d["components"]["schemas"]["Request"]["properties"]["query"].update(
                required=True
            ),
            # Found where the $ref leads, and said how it was reached.
            "/components/schemas/Request/properties/query/required",
            "must be a list or null, not a boolean (True)",
        ),
        (
            lambda d: d["components"]["schemas"]["Result"]["properties"]["index"].update(
                maximum="ten"
            ),
            "/components/schemas/Result/properties/index/maximum",
            "must be a number or a boolean, not a string ('ten')",
        ),
        (
            lambda d: d["components"]["schemas"]["Request"].update(properties=["query"]),
            "/components/schemas/Request/properties",
            "must be an object or null, not a list",
        ),
        (
            lambda d: d["paths"]["/rerank"]["post"].update(responses={"200": "ok"}),
            "/paths/~1rerank/post/responses/200",
            "must be an object, not a string ('ok')",
        ),
    ],
)
def test_a_part_of_the_wrong_type_exits_2_naming_where(  # noqa: PLR0917
    capsys: pytest.CaptureFixture[str],
    base: Path,
    tmp_path: Path,
    edit: Any,
    where: str,
    what: str,
) -> None:
    document = copy.deepcopy(BASE)
    edit(document)
    bad = _write(tmp_path / "bad.yaml", document)
    for old, new in ((base, bad), (bad, base)):
        code, out, err = _spec_diff(capsys, old, new)
        _assert_refused(code, err, bad, f"{where}", what)
        assert out == ""


def test_a_bad_schema_behind_a_ref_names_both_places(
    capsys: pytest.CaptureFixture[str], base: Path, tmp_path: Path
) -> None:
    document = copy.deepcopy(BASE)
    document["components"]["schemas"]["Result"]["properties"]["score"] = {
        "$ref": "#/components/schemas/Broken"
    }
    document["components"]["schemas"]["Broken"] = {"enum": "abc"}
    bad = _write(tmp_path / "bad.yaml", document)
    code, _, err = _spec_diff(capsys, base, bad)
    _assert_refused(
        code,
        err,
        bad,
        "/components/schemas/Broken/enum (reached through the $ref at "
        "/paths/~1rerank/post/responses/200/content/application~1json/schema): "
        "must be a list, not a string ('abc')",
    )


@pytest.mark.parametrize(
    ("text", "phrases"),
    [
        (
            "openapi: 3.1.0\npaths: &p {/a: {get: *p}}\n",
            ["a YAML alias makes the document contain"],
        ),
        ("openapi: 3.1.0\ninfo: {title: !!binary aGk=}\n", ["/info/title: a YAML bytes value"]),
        ("openapi: 3.1.0\ninfo: {title: !!set {a}}\n", ["/info/title: a YAML set value"]),
        ("openapi: 3.1.0\npaths: {/a: {on: {}}}\n", ["key True is not a string", "yes/no/on/off"]),
        ("openapi: 3.1.0\ninfo: {'200': a, 200: b}\n", ["/info: the key '200' appears twice"]),
        ('openapi: 3.1.0\ninfo: {title: "\\ud800"}\n', ["/info/title: a string that is not"]),
        ("openapi: 3.1.0\npaths: [\n", ["not valid YAML: while parsing a flow node: expected"]),
        ("- openapi\n", ["not an OpenAPI document"]),
        ("", ["not an OpenAPI document"]),
    ],
)
def test_yaml_that_json_cannot_hold_exits_2(
    capsys: pytest.CaptureFixture[str], base: Path, tmp_path: Path, text: str, phrases: list[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    code, _, err = _spec_diff(capsys, base, bad)
    _assert_refused(code, err, bad, *phrases)


def test_nesting_too_deep_for_the_parser_exits_2(
    capsys: pytest.CaptureFixture[str], base: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "deep.yaml"
    bad.write_text("openapi: 3.1.0\ninfo: " + "[" * 100_000 + "]" * 100_000 + "\n", "utf-8")
    code, _, err = _spec_diff(capsys, base, bad)
    _assert_refused(code, err, bad)


def test_a_bom_dates_and_unquoted_status_codes_are_read_as_json_would(
    capsys: pytest.CaptureFixture[str], base: Path, tmp_path: Path
) -> None:
    text = yaml.safe_dump(BASE, sort_keys=False).replace("'200':", "200:").replace("'400':", "400:")
    assert "\n        200:" in text
    same = tmp_path / "same.yaml"
    same.write_bytes(codecs.BOM_UTF8 + text.encode())
    code, out, err = _spec_diff(capsys, base, same)
    assert (code, err) == (0, ""), err
    assert "no changes" in out
    # A date stays the text it was written as (JSON has no dates): version 1 -> 2024-01-01.
    dated = _write(tmp_path / "dated.yaml", BASE)
    dated.write_text(dated.read_text("utf-8").replace("version: '1'", "version: 2024-01-01"))
    assert main(["spec-diff", str(base), str(dated), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["changes"] == []


def test_a_git_source_that_is_not_utf8_exits_2(
    capsys: pytest.CaptureFixture[str], base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "spec.yaml").write_bytes(b"openapi: 3.1.0\ninfo: {title: \xff}\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True, timeout=60)
    subprocess.run([*git, "add", "spec.yaml"], cwd=repo, check=True, timeout=60)
    subprocess.run([*git, "commit", "-qm", "x"], cwd=repo, check=True, timeout=60)
    monkeypatch.chdir(repo)
    code, _, err = _spec_diff(capsys, "git:HEAD:spec.yaml", base)
    _assert_refused(code, err, "git:HEAD:spec.yaml", "not UTF-8 text (byte 0xff on line 2)")


def test_python_api_with_no_such_ref_exits_2(
    capsys: pytest.CaptureFixture[str], base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # not a git repository
    code = main(["spec-diff", str(base), str(base), "--python-api", "HEAD"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("together-rerank: error: --python-api HEAD: ")


# --- any value in any position -----------------------------------------------------------


def _pointers(node: object, at: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [at]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _pointers(value, (*at, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _pointers(value, (*at, i))
    return found


POINTERS = _pointers(BASE)
# Values as YAML writes them, including what JSON has no word for.
RAW_YAML = [
    "2020-01-01",
    "yes",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "{on: 1}",
    "{2: x, '2': y}",
    "&x [*x]",
    '"\\ud800"',
    ".nan",
    "-.inf",
    "~",
    "{$ref: '#/components/schemas'}",
    "{$ref: '#/paths'}",
    "{$ref: '#'}",
]
PLACEHOLDER = "PLACEHOLDER-3f1c"
keys = st.text(max_size=8) | st.sampled_from(["$ref", "type", "properties", "required", "items"])
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from([f"#/{'/'.join(map(str, p))}" for p in POINTERS]).map(lambda r: {"$ref": r})
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=8,
)


def _replace(document: Any, at: tuple[str | int, ...], value: object, insert: str | None) -> Any:
    if not at and insert is None:
        return value
    parent = document
    for token in at[:-1] if insert is None else at:
        parent = parent[token]
    if insert is None:
        parent[at[-1]] = value
    elif isinstance(parent, dict):
        parent[insert] = value
    elif isinstance(parent, list):
        parent.append(value)
    return document


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    at=st.sampled_from(POINTERS),
    value=values | st.sampled_from(RAW_YAML).map(lambda raw: ("raw", raw)),
    insert=st.none() | keys,
    changed_is_new=st.booleans(),
)
def test_any_value_in_any_position_gives_a_report_or_exit_2(  # noqa: PLR0917
    capsys: pytest.CaptureFixture[str],
    base: Path,
    tmp_path: Path,
    at: tuple[str | int, ...],
    value: object,
    insert: str | None,
    changed_is_new: bool,
) -> None:
    raw = value[1] if isinstance(value, tuple) else None
    document = _replace(copy.deepcopy(BASE), at, PLACEHOLDER if raw else value, insert)
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    if raw is not None:
        text = text.replace(PLACEHOLDER, raw)
    changed = tmp_path / "changed.yaml"
    changed.write_text(text, encoding="utf-8")
    old, new = (base, changed) if changed_is_new else (changed, base)
    code, out, err = _spec_diff(capsys, old, new)  # never raises
    if code == 2:
        _assert_refused(code, err, changed)
        assert out == ""
    else:
        assert code in (0, 9), err
        assert err == ""
        assert out.strip()
