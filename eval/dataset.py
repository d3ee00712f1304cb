"""The graded evaluation set: loading and validating its JSON Lines files.

The cases themselves are data, in ``eval/cases.jsonl`` (one case a line), so
the set grows without touching code. Each line is a JSON object::

    {"id": "paraphrase-01", "group": "paraphrase", "query": "...",
     "documents": [{"text": "...", "grade": 3}, ...]}

Grades: 3 answers the query, 2 is clearly relevant, 1 is on the topic without
answering, 0 is unrelated. The shipped file has three groups:

* ``paraphrase``: the relevant documents say it in other words than the query;
* ``lexical-trap``: irrelevant documents share the query's words (often
  several of them), relevant ones mostly do not;
* ``long-document``: candidates of 300-500 words where the answer sits in one
  paragraph far past the model's 256-token window, beside long documents that
  never answer.

`load_cases` checks every record (fields, types, grades, unique ids) and
raises `DatasetError` naming the file and line of the first bad one. Blank
lines are skipped and a UTF-8 byte order mark is accepted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

DEFAULT_PATH = Path(__file__).with_name("cases.jsonl")
"""The project's graded set."""

MAX_GRADE = 3


@dataclass(frozen=True)
class Case:
    """One query and its graded candidates."""

    id: str
    group: str
    query: str
    documents: tuple[tuple[str, int], ...]
    """(text, grade) pairs."""


class DatasetError(ValueError):
    """An evaluation file that cannot be read, or a record in it that is not a valid case."""


# Not blank: at least one non-space character.
_Text = Annotated[str, StringConstraints(pattern=r"\S")]


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: _Text
    grade: int = Field(ge=0, le=MAX_GRADE)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    id: _Text
    group: _Text
    query: _Text
    documents: list[_Document] = Field(min_length=1)


def _location(loc: tuple[int | str, ...]) -> str:
    # ("documents", 2, "grade") -> "documents[2].grade", as the server names params.
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _explain(error: ValidationError) -> str:
    first = error.errors()[0]
    where = _location(tuple(first["loc"]))
    message = first["msg"]
    if first["type"] == "string_pattern_mismatch":
        message = "must not be blank"
    elif first["type"] == "missing":
        message = "is required"
    elif first["type"] == "extra_forbidden":
        message = "is not a field of a case (id, group, query, documents: [{text, grade}])"
    return f"{where}: {message}" if where else message


def load_cases(path: Path | str) -> list[Case]:
    """Every case of the JSON Lines file at `path`, in file order; `DatasetError` if any is bad."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc.strerror or exc}") from None
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    found: list[Case] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(raw.split(b"\n"), 1):
        where = f"{path}:{number}"
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DatasetError(f"{where}: not valid UTF-8 (byte {exc.start + 1})") from None
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{where}: not valid JSON: {exc.msg} (column {exc.colno})") from None
        if not isinstance(obj, dict):
            raise DatasetError(f"{where}: a case must be a JSON object, got {type(obj).__name__}")
        try:
            record = _Record.model_validate(obj)
        except ValidationError as exc:
            raise DatasetError(f"{where}: {_explain(exc)}") from None
        if record.id in first_line:
            raise DatasetError(
                f"{where}: id {record.id!r} is already used on line {first_line[record.id]}"
            )
        first_line[record.id] = number
        documents = tuple((d.text, d.grade) for d in record.documents)
        found.append(Case(record.id, record.group, record.query, documents))
    if not found:
        raise DatasetError(f"{path}: no cases (one JSON object a line)")
    return found


def cases() -> list[Case]:
    """The project's graded set (`DEFAULT_PATH`): paraphrase, lexical traps, long documents."""
    return load_cases(DEFAULT_PATH)
