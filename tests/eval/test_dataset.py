"""The evaluation set is data: JSON Lines loaded and checked record by record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eval.dataset import DEFAULT_PATH, DatasetError, load_cases
from eval.run import main

GOOD: dict[str, Any] = {
    "id": "mine-01",
    "group": "mine",
    "query": "how do tides work",
    "documents": [
        {"text": "Tides work by the moon's gravity.", "grade": 3},
        {"text": "x", "grade": 0},
    ],
}


def write(tmp_path: Path, *lines: str | dict[str, Any]) -> Path:
    path = tmp_path / "cases.jsonl"
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def test_the_shipped_set_loads_in_file_order_with_unique_ids() -> None:
    cases = load_cases(DEFAULT_PATH)
    assert len(cases) == 62
    assert len({case.id for case in cases}) == 62
    assert [case.group for case in cases[:1] + cases[25:26] + cases[50:51]] == [
        "paraphrase",
        "lexical-trap",
        "long-document",
    ]
    assert sum(len(case.documents) for case in cases) == 298
    assert all(0 <= grade <= 3 for case in cases for _, grade in case.documents)


def test_a_new_file_is_a_new_set_without_code(tmp_path: Path) -> None:
    second = {**GOOD, "id": "mine-02", "query": "what is a tide"}
    cases = load_cases(write(tmp_path, GOOD, "", "   ", second))
    assert [c.id for c in cases] == ["mine-01", "mine-02"]
    assert cases[0].documents == (("Tides work by the moon's gravity.", 3), ("x", 0))


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD).encode())
    assert [c.id for c in load_cases(path)] == ["mine-01"]


BAD_RECORDS: dict[str, tuple[str | dict[str, Any], str]] = {
    "grade out of range": (
        {**GOOD, "documents": [{"text": "a", "grade": 4}]},
        "documents[0].grade: Input should be less than or equal to 3",
    ),
    "grade not an integer": (
        {**GOOD, "documents": [{"text": "a", "grade": "3"}]},
        "documents[0].grade: Input should be a valid integer",
    ),
    "grade a boolean": (
        {**GOOD, "documents": [{"text": "a", "grade": True}]},
        "documents[0].grade: Input should be a valid integer",
    ),
    "blank text": (
        {**GOOD, "documents": [{"text": " ", "grade": 1}]},
        "documents[0].text: must not be blank",
    ),
    "no documents": ({**GOOD, "documents": []}, "documents: List should have at least 1 item"),
    "missing query": ({k: v for k, v in GOOD.items() if k != "query"}, "query: is required"),
    "unknown field": ({**GOOD, "qeury": "x"}, "qeury: is not a field of a case"),
    "misspelt document field": (
        {**GOOD, "documents": [{"txt": "a", "grade": 1}]},
        "documents[0].text: is required",
    ),
    "not JSON": ('{"id": "x",', "not valid JSON"),
    "not an object": ("[1, 2]", "a case must be a JSON object, got list"),
}


@pytest.mark.parametrize("name", BAD_RECORDS)
def test_a_bad_record_names_file_line_and_field(tmp_path: Path, name: str) -> None:
    record, message = BAD_RECORDS[name]
    path = write(tmp_path, GOOD, "", record)
    with pytest.raises(DatasetError) as caught:
        load_cases(path)
    assert str(caught.value).startswith(f"{path}:3: ")
    assert message in str(caught.value)


def test_a_duplicate_id_names_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD, {**GOOD, "query": "other"})
    with pytest.raises(DatasetError, match=r":2: id 'mine-01' is already used on line 1"):
        load_cases(path)


def test_invalid_utf8_and_empty_and_missing_files(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(json.dumps(GOOD).encode() + b"\n" + '{"query": "café"}'.encode("latin-1"))
    with pytest.raises(DatasetError, match=r"latin1\.jsonl:2: not valid UTF-8"):
        load_cases(path)
    with pytest.raises(DatasetError, match="no cases"):
        load_cases(write(tmp_path, ""))
    with pytest.raises(DatasetError, match="cannot read"):
        load_cases(tmp_path / "absent.jsonl")


def test_the_runner_reports_a_bad_file_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, {**GOOD, "documents": [{"text": "a", "grade": -1}]})
    assert main(["--engine", "term-overlap", "--cases", str(path)]) == 2
    assert f"eval: {path}:1: documents[0].grade" in capsys.readouterr().err


def test_the_runner_scores_another_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD)
    assert main(["--engine", "term-overlap", "--cases", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 queries, 2 graded candidates")
    assert "| term-overlap | mine | 1 | 1.000 | 1.000 |" in out
