"""`rerank --format`: the user says how FILE is read; auto says what it assumed."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from together_rerank.cli._common import CLIError
from together_rerank.cli.rerank import read_documents
from together_rerank.server import LocalServer

from .test_cli import run_cli, server  # noqa: F401  (the module-scoped server fixture)

BRACES = "{braces} are fun\napple\n"


def test_text_format_reads_a_line_starting_with_a_brace_as_text() -> None:
    documents = read_documents(io.StringIO(BRACES), "f.txt", "text")
    assert documents.items == ["{braces} are fun", "apple"]
    assert documents.lines == [1, 2]


def test_jsonl_format_reads_objects_even_after_leading_blank_lines() -> None:
    documents = read_documents(io.StringIO('\n{"a": "x"}\n{"a": "y"}\n'), "f.jsonl", "jsonl")
    assert documents.items == [{"a": "x"}, {"a": "y"}]
    assert documents.lines == [2, 3]


def test_jsonl_format_refuses_plain_text_naming_the_format() -> None:
    with pytest.raises(CLIError, match=r"f\.txt:1: not valid JSON .*--format jsonl"):
        read_documents(io.StringIO("apple\n"), "f.txt", "jsonl")


def test_auto_format_says_it_assumed_json_lines_and_how_to_read_text() -> None:
    with pytest.raises(CLIError) as caught:
        read_documents(io.StringIO(BRACES), "f.txt")
    message = str(caught.value)
    assert message.startswith("f.txt:1: not valid JSON")
    assert "read as JSON Lines" in message
    assert "--format text" in message


def test_auto_format_is_the_default_and_still_detects_both(tmp_path: Path) -> None:
    assert read_documents(io.StringIO("apple\n{x}\n"), "f").items == ["apple", "{x}"]
    assert read_documents(io.StringIO('{"t": "a"}\n'), "f").items == [{"t": "a"}]


def test_the_issue_example_ranks_with_format_text(
    server: LocalServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    path = tmp_path / "braces.txt"
    path.write_text(BRACES, encoding="utf-8")
    refused = run_cli("rerank", "-q", "apple", str(path), base_url=server.base_url)
    assert refused.returncode == 2
    assert "--format text" in refused.stderr
    done = run_cli(
        "rerank", "-q", "apple", "--format", "text", "--json", str(path), base_url=server.base_url
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["results"][0]["index"] == 1


def test_an_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    done = run_cli("rerank", "-q", "x", "--format", "csv", str(tmp_path / "f"))
    assert done.returncode == 2
    assert "--format" in done.stderr
