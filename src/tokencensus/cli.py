"""Command line: each command parses, calls the library's API (:mod:`tokencensus`), prints.

Errors of the :class:`~tokencensus.errors.TokencensusError` tree become ``Error: ...`` and exit
status 1 here, in :func:`main`, and nowhere else. Exit statuses: :data:`EXIT_CODES`.

Conventions: ``-v``/``-q``/``--debug`` set how much is said (logging through the standard library's
``logging``, on standard error); every setting also reads from its ``TOKENCENSUS_*`` environment
variable and the config file (``tokencensus.toml``; :mod:`tokencensus.settings`);
``tokencensus completion SHELL`` prints a shell completion script.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

import tokencensus as tc
from tokencensus import settings as S
from tokencensus.errors import TokencensusError
from tokencensus.ingest.streams import DEBUG_ENV

console = Console(stderr=True, highlight=False)

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_QUARANTINED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "done (also `serve` stopped with Ctrl-C or SIGTERM)",
    EXIT_ERROR: "an error: one line saying what and where (for bad input, the file, row and field); "
    "nothing half-written is left",
    EXIT_USAGE: "a usage error: an unknown option, a bad value, a bad config file or environment variable",
    EXIT_QUARANTINED: "`ingest --strict` finished, and some rows were quarantined (the good rows landed)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}
"""Every exit status the command returns, and what it means (README's CLI section lists them)."""


@dataclass
class Output:
    """How much the command says: -1 quiet (errors only), 0 normal, 1 -v, 2 -vv."""

    verbosity: int = 0

    def say(self, message: str) -> None:
        """A progress line on standard error, unless quiet (results go to standard output)."""
        if self.verbosity >= 0:
            console.print(Text(message))


def _output() -> Output:
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_object(Output) if ctx is not None else None
    return obj if obj is not None else Output()


def option(
    setting: S.Setting, *dest: str, **extra: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A click option built from a declared setting (name, default, environment variable and help in
    one place)."""
    kind = type(setting.default)
    return click.option(
        f"--{setting.name}",
        *dest,
        default=setting.default,
        show_default=True,
        envvar=setting.env,
        show_envvar=True,
        type=extra.pop("type", kind if kind in (int, float) else None),
        help=setting.help,
        **extra,
    )


def examples(*lines: str) -> str:
    """A command's ``--help`` epilog: its examples, one a line, kept as written."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def _command_paths(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    """Every command under ``group`` by its path ("report", "lake delete")."""
    out: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            out |= _command_paths(command, f"{prefix}{name} ")
        else:
            out[prefix + name] = command
    return out


def _config_defaults(path: Path) -> dict[str, Any]:
    """click's ``default_map`` from the config file at ``path``: each command's settings from the
    file's top level, overridden by the command's own table; only the options built from a setting
    (an option that merely shares a name, like ``eval-classifier --lake``, keeps its own default).
    Each value is checked as its option would check it."""
    commands = _command_paths(cli)
    config = S.read_config(path, commands)
    out: dict[str, Any] = {}
    for where, command in commands.items():
        values = config[""] | config.get(where, {})
        ctx = click.Context(command)
        mapped = {}
        for param in command.params:
            setting = S.BY_NAME.get(param.opts[0][2:]) if param.opts[0].startswith("--") else None
            if setting is None or param.envvar != setting.env or setting.name not in values:
                continue
            try:
                mapped[param.name] = param.type.convert(values[setting.name], param, ctx)
            except click.BadParameter as exc:
                raise TokencensusError(f"config file {path}: {setting.name}: {exc.message}") from exc
        if mapped:
            node = out
            *groups, name = where.split()
            for group in groups:
                node = node.setdefault(group, {})
            node[name] = mapped
    return out


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=examples(
        "tokencensus demo                         # simulate, ingest, classify, report",
        "tokencensus ingest logs/ --lake lake     # then: classify, report, serve",
        "tokencensus -v report --lake lake --out report",
        'eval "$(tokencensus completion bash)"     # tab completion',
    ),
)
@click.version_option(package_name="tokencensus")
@click.option("-v", "--verbose", count=True, help="Say more: -v what each step does, -vv debugging detail.")
@click.option("-q", "--quiet", is_flag=True, help="Say nothing but errors (results still print).")
@click.option("--debug", is_flag=True, help="Debugging detail, and the traceback of an unexpected error.")
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    envvar=S.CONFIG_ENV,
    show_envvar=True,
    help=f"Settings file (TOML; default: ./{S.CONFIG_FILE} when present). Options and environment "
    "variables win over it.",
)
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool, debug: bool, config: Path | None) -> None:
    """tokencensus: turn LLM-gateway request logs into a State-of-AI study."""
    verbosity = -1 if quiet else 2 if debug else verbose
    ctx.obj = Output(verbosity)
    _configure_logging(verbosity)
    if debug:
        os.environ[DEBUG_ENV] = "1"
    if config is None and Path(S.CONFIG_FILE).is_file():
        config = Path(S.CONFIG_FILE)
    if config is not None:
        try:
            ctx.default_map = _config_defaults(config)
        except TokencensusError as exc:
            raise click.UsageError(str(exc)) from exc


def _configure_logging(verbosity: int) -> None:
    """The ``tokencensus`` loggers on standard error, at the level ``verbosity`` asks for."""
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    logger = logging.getLogger("tokencensus")
    logger.setLevel(level)
    handler = next(
        (
            h
            for h in logger.handlers
            if isinstance(h, logging.StreamHandler) and getattr(h, "_tokencensus", False)
        ),
        None,
    )
    if handler is None:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler._tokencensus = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    # this run's standard error (a test runner or a notebook swaps it; the old one may be closed, so
    # not setStream, which flushes it)
    handler.stream = sys.stderr


@cli.command(
    epilog=examples(
        "tokencensus demo",
        "tokencensus demo --requests 100000 --demo-out /tmp/demo --compare-study",
    )
)
@option(S.DEMO_OUT, "out_dir", type=click.Path(file_okay=False, path_type=Path))
@option(S.REQUESTS)
@option(S.USERS)
@option(S.SEED)
@option(S.BACKEND, type=click.Choice(S.BACKENDS))
@option(S.MIN_USERS)
@click.option(
    "--compare-study",
    "compare",
    is_flag=True,
    help="Also write study.md: each published figure of the OpenRouter study beside the demo's.",
)
def demo(
    out_dir: Path, requests: int, users: int, seed: int, backend: str, min_users: int, compare: bool
) -> None:
    """Simulate the study's year of gateway traffic (calibrated to the OpenRouter study), ingest it, and
    write the report."""
    result = tc.run_demo(
        out_dir,
        requests=requests,
        users=users,
        seed=seed,
        backend=backend,
        min_users=min_users,
        compare=compare,
        log=_output().say,
    )
    click.echo(f"Report: {result.report.html}")
    if result.study is not None:
        click.echo(f"Study comparison: {result.study}")


@cli.command(
    epilog=examples(
        "tokencensus ingest gateway.jsonl --lake lake",
        "tokencensus ingest exports/ --lake lake --format litellm --hash-users",
        "tokencensus ingest usage.csv --mapping map.toml --strict   # exit 3 if a row is quarantined",
    )
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@option(S.LAKE, type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", default=None, help="Log format; detected from the file when omitted.")
@click.option(
    "--mapping",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Column mapping file (TOML or JSON) for generic CSV/Parquet input.",
)
@click.option(
    "--hash-users",
    is_flag=True,
    help="Replace user ids by a salted SHA-256 at ingest "
    "(salt: $TOKENCENSUS_USER_SALT, else one kept in the lake).",
)
@option(S.SAMPLE_RATE, type=click.FloatRange(0.0, 1.0))
@click.option(
    "--strict",
    is_flag=True,
    help=f"Exit with status {EXIT_QUARANTINED} when any row was quarantined (the good rows still land).",
)
def ingest(
    paths: tuple[Path, ...],
    lake: Path,
    fmt: str | None,
    mapping: Path | None,
    hash_users: bool,
    sample_rate: float,
    strict: bool,
) -> None:
    """Read log files, map them to the canonical schema and append them to the lake."""
    with Progress(
        SpinnerColumn(),
        TextColumn("ingesting: {task.completed:,} rows"),
        TimeElapsedColumn(),
        console=console,
        disable=_output().verbosity < 0,
    ) as bar:
        task = bar.add_task("ingest", total=None)
        summary = tc.Lake(lake).ingest(
            list(paths),
            format=fmt,
            mapping=mapping,
            hash_users=hash_users,
            sample_rate=sample_rate,
            progress=lambda rows: bar.update(task, completed=rows),
        )
    click.echo(str(summary))
    if strict and summary.total.quarantined:
        sys.exit(EXIT_QUARANTINED)


@cli.group(
    "lake",
    epilog=examples("tokencensus lake delete --lake lake --request-id req-123"),
)
def lake_group() -> None:
    """Maintain a lake: delete rows."""


@lake_group.command(
    "delete",
    epilog=examples(
        "tokencensus lake delete --lake lake --request-id req-123 --request-id req-456",
        "tokencensus lake delete --lake lake --where \"app = 'load-test'\"",
    ),
)
@option(S.LAKE, type=click.Path(file_okay=False, path_type=Path))
@click.option("--request-id", "request_ids", multiple=True, help="A request to delete (repeatable).")
@click.option("--where", default=None, help="A SQL condition on the event columns, e.g. \"model = 'x/y'\".")
def lake_delete(lake: Path, request_ids: tuple[str, ...], where: str | None) -> None:
    """Delete requests from the lake (atomic per day file; recorded in the manifest)."""
    deleted = tc.Lake(lake, create=False).delete(request_ids=request_ids, where=where)
    click.echo(f"{deleted:,} request(s) deleted")


@cli.command(epilog=examples("tokencensus purge --lake lake --older-than 30"))
@option(S.LAKE, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--older-than",
    "days",
    type=click.FloatRange(min=0),
    required=True,
    help="Delete prompt samples and quarantined rows stored more than this many days ago.",
)
def purge(lake: Path, days: float) -> None:
    """Delete old prompt samples and quarantined rows (the events stay)."""
    removed = tc.Lake(lake, create=False).purge(days)
    click.echo(", ".join(f"{name}: {n:,} file(s) deleted" for name, n in removed.items()))


@cli.command(
    epilog=examples(
        "tokencensus report --lake lake --out report",
        "tokencensus report --lake lake --out report --format html --format md --format png",
        "TOKENCENSUS_MIN_USERS=100 tokencensus report --lake lake --backend pyspark",
        "tokencensus report --lake lake --org 'the Acme gateway' --period 2025-01-01..2025-06-30",
    )
)
@option(S.LAKE, type=click.Path(file_okay=False, path_type=Path))
@option(S.OUT, "out_dir", type=click.Path(file_okay=False, path_type=Path))
@option(S.BACKEND, type=click.Choice(S.BACKENDS))
@option(S.MIN_USERS)
@option(S.TOP_N)
@option(S.TITLE)
@option(S.ORG)
@option(S.PERIOD, callback=lambda _ctx, _param, value: _period(value))
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(S.REPORT_FORMATS),
    default=("html",),
    show_default=True,
    help="Output format(s); repeat for several.",
)
def report(
    lake: Path,
    out_dir: Path,
    backend: str,
    min_users: int,
    top_n: int,
    title: str,
    org: str,
    period: tuple[date | None, date | None],
    formats: tuple[str, ...],
) -> None:
    """Run the analyses over the lake and write the report and one CSV per figure."""
    study = tc.Study(
        lake, backend=backend, min_users=min_users, top_n=top_n, period=period, title=title, org=org
    )
    out = study.report(out_dir, formats=formats)
    for written in (out.html, out.markdown, out.json):
        if written is not None:
            click.echo(f"Report: {written}")
    click.echo(
        f"{len(out.csvs)} figure CSVs in {Path(out_dir) / 'figures'}; {out.n_suppressed} cells suppressed"
    )


@cli.command(
    epilog=examples(
        "tokencensus classify --lake lake",
        "tokencensus classify --lake lake --classifier embedding --encoder use --rate 0.01",
        "tokencensus classify --lake lake --classifier llm --llm-url http://localhost:8000/v1 --llm-model m",
    )
)
@option(S.LAKE, type=click.Path(file_okay=False, path_type=Path))
@option(S.CLASSIFIER, "classifier", type=click.Choice(["default", "embedding", "llm"]))
@option(S.ENCODER, type=click.Choice(S.ENCODERS))
@option(S.CLASSIFY_RATE, type=click.FloatRange(0.0, 1.0))
@option(S.MIN_PER_MODEL)
@option(S.FLOOR, type=click.FloatRange(0.0, 1.0))
@option(S.LLM_URL)
@option(S.LLM_MODEL)
@option(S.MAX_USD)
@option(S.LLM_PRICE_IN)
@option(S.LLM_PRICE_OUT)
def classify(
    lake: Path,
    classifier: str,
    encoder: str,
    rate: float,
    min_per_model: int,
    floor: float,
    llm_url: str,
    llm_model: str,
    max_usd: float,
    llm_price_in: float,
    llm_price_out: float,
) -> None:
    """Classify a sample of prompts: PII scrub, language, category; writes <lake>/labels."""
    opts: dict[str, Any] = {}
    if classifier == "embedding":
        opts = {"encoder": encoder}
    if classifier == "llm":
        opts = {"base_url": llm_url, "model": llm_model, "max_usd": max_usd}
        opts.update(
            (name, price)
            for name, price in (("usd_per_mtok_in", llm_price_in), ("usd_per_mtok_out", llm_price_out))
            if price >= 0
        )
    summary = tc.Lake(lake, create=False).classify(
        classifier, rate=rate, floor=floor, min_per_model=min_per_model, **opts
    )
    click.echo(str(summary))


@cli.command(
    "eval-classifier",
    epilog=examples(
        "tokencensus eval-classifier --data ../shared/data --per-source-cap 200",
        "tokencensus eval-classifier --data my_labels.jsonl --lake lake   # corrects the report's shares",
    ),
)
@option(S.EVAL_DATA, type=click.Path(exists=True, path_type=Path))
@option(S.CLASSIFIER, "classifier", type=click.Choice(["default", "embedding", "llm"]))
@option(S.ENCODER, type=click.Choice(S.ENCODERS))
@click.option(
    "--per-source-cap",
    type=click.IntRange(1),
    default=None,
    help="At most this many prompts of each (source, category), the same ones every run (default: all; "
    "the MiniLM encoder embeds ~100 prompts/s, USE ~270).",
)
@click.option(
    "--lake",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="With --data FILE.jsonl, a labelled sample of this lake's own prompts: store the classifier's "
    "errors on it in the lake, and the report corrects category shares with them (and headlines the "
    "corrected shares).",
)
@option(S.FLOOR, type=click.FloatRange(0.0, 1.0))
@option(S.LLM_URL)
@option(S.LLM_MODEL)
def eval_classifier(
    data: Path,
    classifier: str,
    encoder: str,
    per_source_cap: int | None,
    lake: Path | None,
    floor: float,
    llm_url: str,
    llm_model: str,
) -> None:
    """How far to trust a classifier: with --data a directory (the shared data), train it leaving each
    real source out in turn and score that source; with --data FILE.jsonl (text, category), score the
    shipped classifier on your own labelled prompts (with --lake, store its errors there for the
    report's corrected shares). Prints per-source and per-category precision, recall and F1, a
    calibration table and throughput (retraining takes minutes)."""
    opts: dict[str, Any] = {}
    if classifier == "llm":
        opts = {"base_url": llm_url, "model": llm_model}
    elif classifier == "embedding":
        opts = {"encoder": encoder}
    result = tc.evaluate_classifier(
        data,
        classifier=classifier,
        floor=floor,
        per_cell=per_source_cap,
        log=_output().say,
        lake=lake,
        **opts,
    )
    click.echo(result.format())
    if lake is not None:
        click.echo(
            f"Stored these errors in {tc.Lake(lake, create=False).calibration_file}: the report corrects the "
            "category shares of this classifier's labels with them."
        )


@cli.command(
    epilog=examples(
        "tokencensus serve --lake lake                # http://127.0.0.1:8765/",
        "tokencensus serve --lake lake --port 0       # any free port",
    )
)
@option(S.LAKE, type=click.Path(file_okay=False, path_type=Path))
@option(S.BACKEND, type=click.Choice(S.BACKENDS))
@option(S.MIN_USERS)
@option(S.TOP_N)
@option(S.HOST)
@option(S.PORT, type=click.IntRange(0, 65535))
def serve(lake: Path, backend: str, min_users: int, top_n: int, host: str, port: int) -> None:
    """Serve a local dashboard: the report's charts re-computed under filters (date, author, segment,
    country). Binds 127.0.0.1 by default; Ctrl-C stops it."""
    tc.serve(
        lake,
        backend=backend,
        min_users=min_users,
        top_n=top_n,
        host=host,
        port=port,
        log=_output().say,
        warn=lambda line: console.print(Text(line, style="bold red")),  # even with -q
        ready=lambda url: click.echo(f"Dashboard: {url} (Ctrl-C to stop)"),
    )
    click.echo("Stopped.")


def _period(value: str) -> tuple[date | None, date | None]:
    """``--period``'s value parsed, or a usage error saying what a period looks like."""
    from tokencensus.study import parse_period

    try:
        return parse_period(value)
    except TokencensusError as exc:
        raise click.BadParameter(str(exc)) from exc


SHELLS = ("bash", "zsh", "fish")


@cli.command(
    epilog=examples(
        'eval "$(tokencensus completion bash)"                      # in ~/.bashrc',
        'eval "$(tokencensus completion zsh)"                       # in ~/.zshrc',
        "tokencensus completion fish > ~/.config/fish/completions/tokencensus.fish",
    )
)
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL (commands, options, choices and paths)."""
    from click.shell_completion import get_completion_class

    script = get_completion_class(shell)
    assert script is not None  # click ships all three
    click.echo(script(cli, {}, "tokencensus", "_TOKENCENSUS_COMPLETE").source())


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning tokencensus errors into ``Error: ...`` and the statuses of
    :data:`EXIT_CODES`."""
    try:
        cli.main(args=argv, prog_name="tokencensus", standalone_mode=False)
    except TokencensusError as exc:
        # Text, not markup: messages quote user data that may contain [brackets].
        console.print(Text("Error: ", style="bold red") + Text(str(exc)))
        sys.exit(EXIT_ERROR)
    except click.exceptions.Abort:
        console.print("Aborted.")
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:  # a bug or the system (disk full): one line, unless --debug
        if os.environ.get(DEBUG_ENV):
            raise
        console.print(Text("Error: ", style="bold red") + Text(_unexpected(exc)))
        sys.exit(EXIT_ERROR)


def _unexpected(exc: Exception) -> str:
    """``<file>: <what>`` for an OS error; else the error's type (its text may quote data)."""
    if isinstance(exc, OSError) and exc.strerror:
        where = exc.filename if exc.filename is not None else "tokencensus"
        return f"{where}: {exc.strerror}"
    return (
        f"unexpected {type(exc).__name__}; run `tokencensus --debug ...` for the traceback, "
        "and please report it"
    )
