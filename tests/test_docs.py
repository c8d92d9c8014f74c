"""Every declared setting is documented in README.md and offered by the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokencensus import settings
from tokencensus.cli import cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.mark.parametrize("setting", settings.ALL, ids=lambda s: s.name)
def test_setting_is_documented_with_its_default(setting):
    rows = [line for line in README.splitlines() if line.startswith(f"| `--{setting.name}` |")]
    assert rows, f"--{setting.name} is missing from README's settings table"
    default = setting.default
    shown = f"{default:,}" if isinstance(default, int) and default >= 10_000 else str(default)
    assert shown in rows[0], f"README shows another default for --{setting.name}"
    assert f"| `{setting.env}` |" in rows[0], f"README does not name --{setting.name}'s environment variable"


@pytest.mark.parametrize("setting", settings.ALL, ids=lambda s: s.name)
def test_setting_is_a_cli_option(setting):
    options = {opt for command in cli.commands.values() for p in command.params for opt in p.opts}
    assert f"--{setting.name}" in options


def test_readme_starts_with_the_two_commands():
    blocks = README.split("```bash\n")[1:3]
    assert blocks[0].startswith("pip install . && tokencensus demo")
    assert blocks[1].startswith("pip install -e '.[test]' && pytest")


def test_every_format_is_documented_with_its_identity():
    """README's formats table lists each --format; docs/ingest.md states what identifies its requests."""
    from tokencensus.ingest import FORMATS

    ingest_doc = (Path(__file__).resolve().parents[1] / "docs" / "ingest.md").read_text()
    identity = ingest_doc.split("Each format names its identity:")[1].split("\n## ")[0]
    for name in FORMATS:
        listed = f"| `{name}` |" in README or f"`{name}`, `" in README or f", `{name}` |" in README
        assert listed, f"--format {name} missing from README's formats table"
        assert f"`{name}`" in identity, f"docs/ingest.md does not state the identity of {name}"
