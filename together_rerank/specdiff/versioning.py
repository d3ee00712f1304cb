"""Tie the package version and CHANGELOG.md to the spec: a changed spec needs a bump that says so.

The latest released spec is a recorded copy, ``releases/openapi-X.Y.Z.yaml``
(written by ``python -m together_rerank.specdiff.versioning release`` at release
time), not a git tag: a copy works in shallow clones, tarballs and CI checkouts
without tags, and a reviewer sees it in the diff. When ``openapi.yaml`` differs
from the newest copy:

* ``together_rerank/_version.py`` must be above the released version, by a
  major bump if a change is breaking (a minor bump before 1.0), by a minor bump
  if something is deprecated (semver; a patch before 1.0), else by at least a
  patch;
* ``CHANGELOG.md`` must have a ``## [X.Y.Z]`` section for that version, which
  says "breaking" when a change is, and "deprecated" when something is.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .compare import Change, diff_specs
from .load import load_document
from .rules import DEPRECATIONS, Severity

__all__ = ["ReleaseCheck", "Version", "check_release", "required_bump"]

_RELEASE = re.compile(r"openapi-(\d+)\.(\d+)\.(\d+)\.yaml")
_VERSION = re.compile(r'__version__\s*=\s*"(\d+)\.(\d+)\.(\d+)"')


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> Version:
        parts = text.split(".")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            raise ValueError(f"not an X.Y.Z version: {text!r}")
        return cls(int(parts[0]), int(parts[1]), int(parts[2]))

    def bumped(self, part: str) -> Version:
        if part == "major":
            return Version(self.major + 1, 0, 0)
        if part == "minor":
            return Version(self.major, self.minor + 1, 0)
        return Version(self.major, self.minor, self.patch + 1)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def required_bump(released: Version, changes: list[Change]) -> str | None:
    """The smallest bump the changes need: "major", "minor", "patch", or None for no change."""
    if not changes:
        return None
    if any(change.severity is Severity.BREAKING for change in changes):
        return "minor" if released.major == 0 else "major"
    if any(change.rule in DEPRECATIONS for change in changes) and released.major > 0:
        return "minor"
    return "patch"


@dataclass(frozen=True)
class ReleaseCheck:
    """The outcome: the released and current versions, the spec changes, and what is wrong."""

    released: Version
    current: Version
    changes: list[Change]
    problems: list[str]

    def message(self) -> str:
        if not self.problems:
            return f"version {self.current} and CHANGELOG.md match openapi.yaml"
        return "\n".join(self.problems)


def latest_release(root: Path) -> tuple[Version, Path]:
    releases = [
        (Version(*map(int, match.groups())), path)
        for path in (root / "releases").glob("openapi-*.yaml")
        if (match := _RELEASE.fullmatch(path.name))
    ]
    if not releases:
        raise FileNotFoundError(f"no releases/openapi-X.Y.Z.yaml under {root}")
    return max(releases)


def current_version(root: Path) -> Version:
    text = (root / "together_rerank" / "_version.py").read_text(encoding="utf-8")
    match = _VERSION.search(text)
    if not match:
        raise ValueError('together_rerank/_version.py has no __version__ = "X.Y.Z"')
    return Version(*map(int, match.groups()))


def changelog_section(root: Path, version: Version) -> str | None:
    """The text of CHANGELOG.md's ``## [version]`` section, or None when there is none."""
    text = (root / "CHANGELOG.md").read_text(encoding="utf-8")
    heading = re.compile(rf"^## \[{re.escape(str(version))}\][^\n]*$", re.MULTILINE)
    match = heading.search(text)
    if not match:
        return None
    rest = text[match.end() :]
    following = re.search(r"^## \[", rest, re.MULTILINE)
    return rest[: following.start()] if following else rest


def check_release(root: Path) -> ReleaseCheck:
    """Compare openapi.yaml with the newest released copy and judge the version and changelog."""
    released, released_path = latest_release(root)
    current = current_version(root)
    changes = diff_specs(
        load_document(str(released_path)), load_document(str(root / "openapi.yaml"))
    )
    problems: list[str] = []
    bump = required_bump(released, changes)
    if bump is not None:
        needed = released.bumped(bump)
        listed = "\n".join(
            f"  {c.severity.value}: {c.pointer} {c.detail}" for c in changes if c.severity.rank
        ) or "\n".join(f"  {c.severity.value}: {c.pointer} {c.detail}" for c in changes[:10])
        worst = changes[0].severity.value
        deprecates = any(c.rule in DEPRECATIONS for c in changes)
        if current < needed:
            problems.append(
                f"openapi.yaml differs from released {released} ({released_path.name}) with "
                f"{worst} changes, which need a {bump} bump to at least {needed}; "
                f"together_rerank/_version.py says {current}. Bump it and describe the changes "
                f"in a '## [{needed}]' section of CHANGELOG.md"
                + (" that says 'Breaking'" if worst == "breaking" else "")
                + (" and 'Deprecated'" if deprecates and worst == "breaking" else "")
                + (" that says 'Deprecated'" if deprecates and worst != "breaking" else "")
                + f". Changes:\n{listed}"
            )
            return ReleaseCheck(released, current, changes, problems)
        section = changelog_section(root, current)
        if section is None or not section.strip():
            problems.append(
                f"CHANGELOG.md has no '## [{current}]' section describing the spec changes "
                f"since {released}:\n{listed}"
            )
        elif worst == "breaking" and "breaking" not in section.lower():
            problems.append(
                f"CHANGELOG.md's [{current}] section does not say 'breaking', but these "
                f"changes since {released} are:\n{listed}"
            )
        elif deprecates and "deprecat" not in section.lower():
            deprecations = "\n".join(
                f"  {c.severity.value}: {c.pointer} {c.detail}"
                for c in changes
                if c.rule in DEPRECATIONS
            )
            problems.append(
                f"CHANGELOG.md's [{current}] section does not say what is 'deprecated' "
                f"since {released}:\n{deprecations}"
            )
    elif current < released:
        problems.append(f"together_rerank/_version.py says {current}, below released {released}")
    return ReleaseCheck(released, current, changes, problems)


def release(root: Path) -> Path:
    """Record openapi.yaml as the released spec of the current version."""
    target = root / "releases" / f"openapi-{current_version(root)}.yaml"
    target.parent.mkdir(exist_ok=True)
    target.write_bytes((root / "openapi.yaml").read_bytes())
    return target


def main(argv: list[str]) -> int:
    root = Path.cwd()
    if argv[:1] == ["release"]:
        print(f"recorded {release(root).relative_to(root)}")
        return 0
    result = check_release(root)
    print(result.message(), file=sys.stderr if result.problems else sys.stdout)
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
