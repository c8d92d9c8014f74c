"""The CLI: errors become `Error: ...` with exit 1 in one place; commands print what they did."""

from __future__ import annotations

import csv
import logging
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import ClassVar

import click
import pytest
from click.testing import CliRunner

import tokencensus
from tokencensus import settings
from tokencensus.cli import EXIT_CODES, EXIT_QUARANTINED, cli, main


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


# ---------------------------------------------------------------- conventions


README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _commands(group: click.Group, prefix: str = "") -> list[str]:
    out = []
    for name, command in group.commands.items():
        out.append(prefix + name)
        if isinstance(command, click.Group):
            out += _commands(command, f"{prefix}{name} ")
    return out


@pytest.mark.parametrize("name", _commands(cli))
def test_every_command_has_examples_in_its_help(name: str) -> None:
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0
    examples = result.output.split("Examples:")[1].strip().splitlines()
    assert examples, name
    assert all(f"tokencensus {name}" in line for line in examples), examples


def test_every_exit_status_is_documented() -> None:
    table = README.split("| exit status | meaning |")[1].split("\n\n")[0]
    rows = {int(line.split("|")[1]) for line in table.splitlines()[2:]}
    assert rows == set(EXIT_CODES)


class Captured:
    """Stands in for tc.Study in the report command: records what the settings resolved to."""

    seen: ClassVar[dict[str, object]] = {}

    def __init__(self, lake: Path, **options: object) -> None:
        Captured.seen = {"lake": str(lake), **options}

    def report(self, *_args: object, **_options: object) -> object:
        raise click.exceptions.Exit(0)


def _report_settings(monkeypatch: pytest.MonkeyPatch, args: list[str], env: dict[str, str]) -> dict:
    monkeypatch.setattr(tokencensus, "Study", Captured)
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    return Captured.seen


def test_settings_come_from_options_then_environment_then_config_then_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "site.toml"
    config.write_text(
        'lake = "from-file"\nmin-users = 20\ntop_n = 3\n[report]\ntop-n = 5\n[serve]\ntop-n = 9\n'
    )
    got = _report_settings(monkeypatch, ["--config", str(config), "report"], {})
    assert got == {
        "lake": "from-file",
        "backend": "duckdb",
        "min_users": 20,
        "top_n": 5,
        "period": (None, None),
        "title": settings.TITLE.default,
        "org": "",
    }
    env = {"TOKENCENSUS_TOP_N": "7", "TOKENCENSUS_BACKEND": "pyspark"}
    got = _report_settings(monkeypatch, ["--config", str(config), "report", "--min-users", "30"], env)
    assert {k: got[k] for k in ("lake", "backend", "min_users", "top_n")} == {
        "lake": "from-file",
        "backend": "pyspark",
        "min_users": 30,
        "top_n": 7,
    }
    env = {"TOKENCENSUS_PERIOD": "2025-01-01.."}
    assert _report_settings(monkeypatch, ["report"], env)["period"] == (date(2025, 1, 1), None)
    got = _report_settings(monkeypatch, ["report"], {settings.CONFIG_ENV: str(config)})
    assert got["min_users"] == 20
    monkeypatch.chdir(tmp_path)
    got = _report_settings(monkeypatch, ["report"], {})
    assert got["min_users"] == settings.MIN_USERS.default  # no tokencensus.toml here
    (tmp_path / settings.CONFIG_FILE).write_text("min-users = 11\n")
    assert _report_settings(monkeypatch, ["report"], {})["min_users"] == 11


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("min-user = 20\n", "'min-user' is not a setting"),
        ("[report]\ntopn = 2\n", "'report.topn' is not a setting"),
        ('min-users = "many"\n', "min-users = 'many' should be int"),
        ("min-users = [\n", "is not valid TOML"),
        ('backend = "spark"\n', "backend: 'spark' is not one of 'duckdb', 'pyspark'"),
        ("[reprot]\ntop-n = 3\n", "[reprot] is not a command"),
    ],
)
def test_a_bad_config_file_is_a_usage_error_naming_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    result = CliRunner().invoke(cli, ["--config", str(config), "report"])
    assert result.exit_code == 2
    assert str(config) in result.output
    assert message in result.output


def test_config_tables_name_commands_and_only_settings_are_filled(tmp_path: Path) -> None:
    """A nested command's table is its path; eval-classifier's own --lake (where to store the
    classifier's errors) is not the lake setting, so the config file's lake does not fill it."""
    from tokencensus.cli import _config_defaults

    config = tmp_path / "site.toml"
    config.write_text('lake = "main"\n["lake delete"]\nlake = "other"\n[eval_classifier]\nfloor = 0.5\n')
    defaults = _config_defaults(config)
    assert defaults["lake"]["delete"] == {"lake": Path("other")}
    assert defaults["purge"] == {"lake": Path("main")}
    assert defaults["eval-classifier"] == {"floor": 0.5}


def test_a_bad_period_is_a_usage_error_naming_the_option() -> None:
    result = CliRunner().invoke(cli, ["report", "--period", "last week"])
    assert result.exit_code == 2
    assert "--period" in result.output
    assert "is not START..END" in result.output


def _log_with_a_bad_row(path: Path) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["request_id", "ts", "model", "input_tokens", "output_tokens"])
        w.writerow(["r1", "2025-06-02T10:00:00Z", "gpt-4o", 100, 10])
        w.writerow(["r2", "not a time", "gpt-4o", 100, 10])
    return path


def test_strict_ingest_exits_3_when_rows_were_quarantined(tmp_path: Path) -> None:
    log = _log_with_a_bad_row(tmp_path / "log.csv")
    lenient = CliRunner().invoke(cli, ["ingest", "--lake", str(tmp_path / "a"), str(log)])
    assert lenient.exit_code == 0
    strict = CliRunner().invoke(cli, ["ingest", "--strict", "--lake", str(tmp_path / "b"), str(log)])
    assert strict.exit_code == EXIT_QUARANTINED
    assert "1 quarantined" in strict.output
    assert tokencensus.Lake(tmp_path / "b").read_events().num_rows == 1  # the good row landed


def test_quiet_says_nothing_but_the_result_and_verbose_turns_logging_on(tmp_path: Path) -> None:
    log = _log_with_a_bad_row(tmp_path / "log.csv")
    quiet = CliRunner().invoke(cli, ["-q", "ingest", "--lake", str(tmp_path / "q"), str(log)])
    assert quiet.exit_code == 0
    assert quiet.stderr == ""
    assert "1 quarantined" in quiet.stdout
    assert logging.getLogger("tokencensus").level == logging.ERROR
    CliRunner().invoke(cli, ["-v", "completion", "bash"])
    assert logging.getLogger("tokencensus").level == logging.INFO
    CliRunner().invoke(cli, ["-vv", "completion", "bash"])
    assert logging.getLogger("tokencensus").level == logging.DEBUG


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_complete_commands_and_choices(shell: str) -> None:
    script = CliRunner().invoke(cli, ["completion", shell])
    assert script.exit_code == 0
    assert "_TOKENCENSUS_COMPLETE" in script.output

    def complete(words: str, cword: int) -> set[str]:
        env = {"_TOKENCENSUS_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
        out = CliRunner().invoke(cli, [], env=env, prog_name="tokencensus").output
        return {line.split(",")[-1] for line in out.split()}  # bash: "<type>,<value>" a line

    assert complete("tokencensus rep", 1) == {"report"}
    assert complete("tokencensus report --backend ", 3) == {"duckdb", "pyspark"}
