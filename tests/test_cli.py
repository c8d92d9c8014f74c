"""The CLI: errors become `Error: ...` with exit 1 in one place; commands print what they did."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tokencensus.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tokencensus", *args], capture_output=True, text=True, timeout=300
    )


def test_help_lists_the_commands():
    out = run_cli("--help")
    assert out.returncode == 0
    for command in ("demo", "ingest", "report"):
        assert command in out.stdout


def test_report_on_a_missing_lake_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--lake", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: no lake at ")
    assert "tokencensus ingest --lake" in err
    assert "Traceback" not in err


def test_error_text_with_brackets_is_printed_verbatim(tmp_path, capsys):
    odd = tmp_path / "[bold]lake"
    with pytest.raises(SystemExit):
        main(["report", "--lake", str(odd)])
    assert "[bold]lake" in capsys.readouterr().err


def test_unknown_option_is_a_usage_error():
    out = run_cli("report", "--no-such-option")
    assert out.returncode == 2
    assert "No such option" in out.stderr
