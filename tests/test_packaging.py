"""What the package promises its users: the extras its messages name, its licence, its project files."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
EXTRAS = set(PYPROJECT["project"]["optional-dependencies"])


def _named_extras(text: str) -> set[str]:
    """Extras a text tells users to install: tokencensus[a,b] and _require(..., extra="a")."""
    named = set()
    for group in re.findall(r"tokencensus\[([a-z0-9_,\s-]+)\]", text):
        named |= {e.strip() for e in group.split(",")}
    named |= set(re.findall(r"""extra\s*=\s*["']([a-z0-9_-]+)["']""", text))
    return named


def test_every_extra_a_message_or_doc_names_exists():
    texts = [p.read_text(encoding="utf-8") for p in (ROOT / "src").rglob("*.py")]
    texts += [p.read_text(encoding="utf-8") for p in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]]
    named = set().union(*(_named_extras(t) for t in texts))
    assert "all" in named
    assert "embedding" in named
    assert named <= EXTRAS, sorted(named - EXTRAS)


def test_the_all_extra_installs_every_other_extra():
    (spec,) = PYPROJECT["project"]["optional-dependencies"]["all"]
    inside = set(re.fullmatch(r"tokencensus\[(.+)\]", spec).group(1).split(","))
    assert inside == EXTRAS - {"all", "test"}


def test_licence_matches_the_declared_one():
    assert PYPROJECT["project"]["license"] == {"text": "Apache-2.0"}
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_project_files_exist_and_point_at_each_other():
    for name in ("CHANGELOG.md", "CONTRIBUTING.md", "SECURITY.md"):
        assert (ROOT / name).stat().st_size > 200, name
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for step in ("ruff check src tests bench", "mypy", "pytest"):
        assert step in ci, step
        assert step in contributing, step
