"""What the package promises its users: the extras its messages name, its licence, its project files."""

from __future__ import annotations

import json
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


# -- the container recipe (Dockerfile, docs/container.md) -------------------------------------------
# CI has no Docker daemon, so the image is not built there; these tests hold the recipe to what the
# package declares, so that it fails here when either side drifts.

DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
# Debian releases whose main archive ships OpenJDK 17 (trixie, Debian 13, has 21 and later only).
DEBIAN_WITH_JAVA_17 = {"bullseye", "bookworm"}


def _instructions(text: str) -> list[tuple[str, str]]:
    """A Dockerfile's instructions as (INSTRUCTION, arguments): continuations joined, comments dropped."""
    instructions, current = [], ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        keyword, _, arguments = (current + line).partition(" ")
        instructions.append((keyword.upper(), " ".join(arguments.split())))
        current = ""
    assert not current, "the Dockerfile ends inside a continued instruction"
    return instructions


INSTRUCTIONS = _instructions(DOCKERFILE)


def _all(keyword: str) -> list[str]:
    return [arguments for name, arguments in INSTRUCTIONS if name == keyword]


def _build_args() -> dict[str, str]:
    return {name: default for name, _, default in (arg.partition("=") for arg in _all("ARG"))}


def _run_lines() -> str:
    return "\n".join(_all("RUN"))


def _extras_needing(package: str) -> set[str]:
    """Extras that install ``package``, through extras that name other extras (all = [...])."""
    extras = PYPROJECT["project"]["optional-dependencies"]

    def requirements(extra: str) -> set[str]:
        found = set()
        for spec in extras[extra]:
            inner = re.fullmatch(r"tokencensus\[(.+)\]", spec)
            found |= set().union(*map(requirements, inner.group(1).split(","))) if inner else {spec}
        return found

    return {e for e in extras if any(re.match(rf"{package}\b", r) for r in requirements(e))}


def test_dockerfile_base_is_a_python_pyproject_allows_on_a_debian_with_java_17():
    (base,) = _all("FROM")
    match = re.fullmatch(r"python:(\d+)\.(\d+)-slim-([a-z]+)", base)
    assert match, f"pin the base image to a Python version and a Debian release: {base}"
    floor = re.fullmatch(r">=\s*(\d+)\.(\d+)", PYPROJECT["project"]["requires-python"])
    assert (int(match[1]), int(match[2])) >= (int(floor[1]), int(floor[2]))
    assert match[3] in DEBIAN_WITH_JAVA_17, f"Debian {match[3]} does not ship OpenJDK 17"


def test_dockerfile_installs_a_java_17_runtime_and_sets_java_home():
    runs = _run_lines()
    installed = re.findall(r"apt-get install [^&;|]*", runs)
    jdks = {p for line in installed for p in re.findall(r"openjdk-\d+-[a-z-]+", line)}
    assert jdks == {"openjdk-17-jre-headless"}
    java_home = dict(env.split("=", 1) for env in _all("ENV") if env.startswith("JAVA_HOME="))["JAVA_HOME"]
    assert java_home.startswith("/usr/lib/jvm/java-17")
    # The directory Debian installs is named by architecture; the recipe links JAVA_HOME to it.
    assert re.search(rf"ln -s .*readlink -f /usr/bin/java.* {re.escape(java_home)}\b", runs)


def test_dockerfile_installs_the_project_from_the_source_tree_with_extras_that_exist():
    extras = _build_args()["EXTRAS"].split(",")
    assert "spark" in extras  # the Java runtime is there for it
    doc = (ROOT / "docs" / "container.md").read_text(encoding="utf-8")
    documented = re.findall(r"EXTRAS=([a-z0-9_,-]+)", DOCKERFILE + doc)
    assert {e for value in [*documented, *extras] for e in value.split(",")} <= EXTRAS
    copies = [c.split() for c in _all("COPY") if not c.startswith("--from")]
    destination = {source: c[-1].rstrip("/") for c in copies for source in c[:-1]}
    tree = destination["pyproject.toml"]
    assert destination["src"] == f"{tree}/src"
    runs = _run_lines()
    assert re.search(rf'pip install "{re.escape(tree)}\[\$\{{?EXTRAS\}}?\]"', runs)
    # torch comes from a CPU-only index, at pyproject's pin, for exactly the extras that need it
    branch = re.search(r'case ",\$EXTRAS," in (.*?)\)', runs)
    assert branch, "the recipe picks the CPU torch by the extras it installs"
    assert set(re.findall(r"\*,([a-z0-9_-]+),\*", branch[1])) == _extras_needing("torch")
    assert '"$TORCH_INDEX_URL"' in runs
    assert "torch==" not in DOCKERFILE  # the version is read from pyproject.toml


def test_dockerfile_runs_as_a_user_of_its_own():
    user = _all("USER")[-1].split(":")[0]
    uid = _build_args()["UID"] if user in {"$UID", "${UID}"} else user
    # by number (Kubernetes' runAsNonRoot checks it), not root, and a user the image names (Spark asks)
    assert uid.isdigit(), f"USER {user}: give the user by number"
    assert int(uid) != 0
    created = r"\$\{?UID\}?" if uid != user else uid  # the user the image creates is this one
    assert re.search(rf'useradd .*--uid "?{created}\b', _run_lines())
    assert _all("WORKDIR")[-1] == "/data"


def test_dockerfile_entrypoint_is_the_console_script():
    (script,) = PYPROJECT["project"]["scripts"]
    (entrypoint,) = _all("ENTRYPOINT")
    assert json.loads(entrypoint) == [script]
    assert json.loads(_all("CMD")[-1]) == ["--help"]


def test_dockerignore_lets_in_only_what_the_dockerfile_copies():
    rules = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*"  # .git, tests and their data, lakes, reports, caches: never in the context
    let_in = {rule[1:] for rule in rules if rule.startswith("!")}
    copied = {source for c in _all("COPY") if not c.startswith("--from") for source in c.split()[:-1]}
    assert let_in == copied


def test_container_doc_explains_every_build_argument_and_is_linked():
    doc = (ROOT / "docs" / "container.md").read_text(encoding="utf-8")
    for name in _build_args():
        assert f"`{name}`" in doc, f"docs/container.md does not explain the build argument {name}"
    assert "Not built in CI" in doc
    assert "(docs/container.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
