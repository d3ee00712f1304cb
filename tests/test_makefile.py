"""`make install` (and so `make demo` / `make test`): the installer's output goes to a log.

The Makefile runs in a scratch folder with a stand-in for Python whose venv's
`python -m pip` prints screens of output and succeeds or fails on demand, so
the test needs neither the network nor a real install.
"""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOISE_LINES = 300

# `$(PYTHON) -m venv DIR` makes DIR/bin/python, a pip that prints NOISE_LINES
# lines and exits with $FAKE_PIP_EXIT.
FAKE_PYTHON = f"""#!/bin/sh
if [ "$1 $2" = "-m venv" ]; then
    mkdir -p "$3/bin"
    cat > "$3/bin/python" <<'PIP'
#!/bin/sh
i=1
while [ $i -le {NOISE_LINES} ]; do echo "pip says line $i"; i=$((i + 1)); done
echo "pip warns on stderr" >&2
exit ${{FAKE_PIP_EXIT:-0}}
PIP
    chmod +x "$3/bin/python"
    echo "venv created"
    exit 0
fi
exit 99
"""


def _make(folder: Path, pip_exit: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "install", f"PYTHON={folder / 'fake-python'}"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "FAKE_PIP_EXIT": str(pip_exit)},
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    # The install stamp also watches the version (a bump reinstalls).
    (tmp_path / "together_rerank").mkdir()
    (tmp_path / "together_rerank" / "_version.py").write_text('__version__ = "0"\n', "utf-8")
    fake = tmp_path / "fake-python"
    fake.write_text(FAKE_PYTHON, encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return tmp_path


def test_install_prints_one_line_and_logs_the_installer(project: Path) -> None:
    done = _make(project, pip_exit=0)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "installing together-rerank[server,dev] into .venv (log: .venv/install.log) ... done"
    ]
    assert done.stderr == ""
    log = (project / ".venv" / "install.log").read_text(encoding="utf-8")
    assert f"pip says line {NOISE_LINES}" in log
    assert "pip warns on stderr" in log
    # The stamp keeps a second install instant and silent about installing.
    again = _make(project, pip_exit=0)
    assert again.returncode == 0
    assert "installing" not in again.stdout


def test_a_failed_install_shows_the_end_of_the_log(project: Path) -> None:
    done = _make(project, pip_exit=1)
    assert done.returncode != 0
    assert done.stdout.splitlines() == [
        "installing together-rerank[server,dev] into .venv (log: .venv/install.log) ... failed"
    ]
    assert "the last lines of .venv/install.log:" in done.stderr
    assert "pip warns on stderr" in done.stderr
    assert "pip says line 1\n" not in done.stderr  # the tail, not the whole log
    assert not (project / ".venv" / ".installed").exists()
