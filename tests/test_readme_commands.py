"""The commands README.md and docs/ show work as written right after `make install`.

One convention: the README says once, before its first command, how to
activate `.venv`, and every command in README.md and docs/ is then written
bare (`together-rerank ...`, `python ...`, `pytest ...`), never as
`.venv/bin/...`. The activation line itself is run as written.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Commands that need the venv on PATH (make targets do not).
NEEDS_VENV = re.compile(r"^(together-rerank|python|pytest) +\S")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def _commands(text: str) -> list[tuple[int, str]]:
    """(offset, command) of each command in a shell block or a `code span`; outputs left out."""
    found: list[tuple[int, str]] = []
    for block in FENCE.finditer(text):
        lang, body = block.group(1), block.group(2)
        if lang not in ("sh", "bash", "console"):
            continue
        offset = block.start(2)
        for line in body.splitlines(keepends=True):
            command = line.strip()
            if lang == "console":
                command = command[2:] if command.startswith("$ ") else ""
            if command and not command.startswith("#"):
                found.append((offset, command))
            offset += len(line)
    found += [(m.start(1), m.group(1)) for m in re.finditer(r"(?<!`)`([^`\n]+)`(?!`)", text)]
    return sorted(found)


def _activation(readme: str) -> tuple[int, str]:
    for offset, command in _commands(readme):
        if "activate" in command:
            return offset, command.split("#")[0].strip()
    raise AssertionError("README.md never says how to activate .venv")


def test_the_readme_says_how_to_activate_the_venv_before_its_first_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    activated_at, _ = _activation(readme)
    first = next((o, c) for o, c in _commands(readme) if NEEDS_VENV.match(c))
    assert activated_at < first[0], f"{first[1]!r} comes before the activation line"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_commands_are_written_one_way(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    activation = _activation(text)[1] if page.name == "README.md" else None
    for _, command in _commands(text):
        if command == activation:
            continue
        assert not command.startswith((".venv/bin/", "./.venv/bin/")), (
            f"{page.name}: {command!r}: write it bare (the README says to activate .venv)"
        )


def test_the_activation_line_puts_the_command_and_the_venv_python_on_path() -> None:
    if not (ROOT / ".venv" / "bin" / "activate").exists():
        pytest.skip("no .venv in this checkout (make install makes it)")
    _, activate = _activation((ROOT / "README.md").read_text(encoding="utf-8"))
    # A new shell as after `make demo`: the system PATH only, no venv active.
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    script = (
        f"{activate} && together-rerank --version "
        "&& python -c 'import httpx, together_rerank.specdiff.versioning'"
    )
    done = subprocess.run(
        ["sh", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("together-rerank ")
