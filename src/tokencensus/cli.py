"""Command line: each command parses, calls one library function, prints.

Errors of the :class:`~tokencensus.errors.TokencensusError` tree become ``Error: ...`` and exit
status 1 here, in :func:`main`, and nowhere else.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from tokencensus import settings as S
from tokencensus.errors import TokencensusError
from tokencensus.ingest.streams import DEBUG_ENV

console = Console(stderr=True, highlight=False)


def option(
    setting: S.Setting, *dest: str, **extra: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A click option built from a declared setting (name, default and help in one place)."""
    kind = type(setting.default)
    return click.option(
        f"--{setting.name}",
        *dest,
        default=setting.default,
        show_default=True,
        type=extra.pop("type", kind if kind in (int, float) else None),
        help=setting.help,
        **extra,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tokencensus")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected error.")
def cli(debug: bool) -> None:
    """tokencensus: turn LLM-gateway request logs into a State-of-AI study."""
    if debug:
        os.environ[DEBUG_ENV] = "1"


@cli.command()
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
    from tokencensus.demo import run_demo

    result = run_demo(
        out_dir,
        requests=requests,
        users=users,
        seed=seed,
        backend=backend,
        min_users=min_users,
        compare=compare,
        log=console.print,
    )
    click.echo(f"Report: {result.report.html}")
    if result.study is not None:
        click.echo(f"Study comparison: {result.study}")


@cli.command()
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
def ingest(
    paths: tuple[Path, ...],
    lake: Path,
    fmt: str | None,
    mapping: Path | None,
    hash_users: bool,
    sample_rate: float,
) -> None:
    """Read log files, map them to the canonical schema and append them to the lake."""
    from tokencensus.ingest import ingest_paths, load_mapping
    from tokencensus.lake import Lake

    with Progress(
        SpinnerColumn(),
        TextColumn("ingesting: {task.completed:,} rows"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("ingest", total=None)
        summary = ingest_paths(
            list(paths),
            Lake(lake),
            fmt=fmt,
            mapping=load_mapping(mapping) if mapping else None,
            hash_users=hash_users,
            sample_rate=sample_rate,
            progress=lambda rows: bar.update(task, completed=rows),
        )
    click.echo(str(summary))


@cli.group("lake")
def lake_group() -> None:
    """Maintain a lake: delete rows."""


@lake_group.command("delete")
@option(S.LAKE, type=click.Path(file_okay=False, path_type=Path))
@click.option("--request-id", "request_ids", multiple=True, help="A request to delete (repeatable).")
@click.option("--where", default=None, help="A SQL condition on the event columns, e.g. \"model = 'x/y'\".")
def lake_delete(lake: Path, request_ids: tuple[str, ...], where: str | None) -> None:
    """Delete requests from the lake (atomic per day file; recorded in the manifest)."""
    from tokencensus.lake import Lake

    deleted = Lake(lake, create=False).delete(request_ids=request_ids, where=where)
    click.echo(f"{deleted:,} request(s) deleted")


@cli.command()
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
    from tokencensus.lake import Lake

    removed = Lake(lake, create=False).purge(days)
    click.echo(", ".join(f"{name}: {n:,} file(s) deleted" for name, n in removed.items()))


@cli.command()
@option(S.LAKE, type=click.Path(file_okay=False, path_type=Path))
@option(S.OUT, "out_dir", type=click.Path(file_okay=False, path_type=Path))
@option(S.BACKEND, type=click.Choice(S.BACKENDS))
@option(S.MIN_USERS)
@option(S.TOP_N)
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
    lake: Path, out_dir: Path, backend: str, min_users: int, top_n: int, formats: tuple[str, ...]
) -> None:
    """Run the analyses over the lake and write the report and one CSV per figure."""
    from tokencensus.report.build import report_from_lake

    out = report_from_lake(lake, out_dir, backend=backend, min_users=min_users, top_n=top_n, formats=formats)
    for written in (out.html, out.markdown, out.json):
        if written is not None:
            click.echo(f"Report: {written}")
    click.echo(
        f"{len(out.csvs)} figure CSVs in {Path(out_dir) / 'figures'}; {out.n_suppressed} cells suppressed"
    )


@cli.command()
@option(S.LAKE, type=click.Path(file_okay=False, path_type=Path))
@option(S.CLASSIFIER, "backend", type=click.Choice(["default", "embedding", "llm"]))
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
    backend: str,
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
    from tokencensus.classify import classify_lake

    opts: dict[str, Any] = {}
    if backend == "embedding":
        opts = {"encoder": encoder}
    if backend == "llm":
        opts = {"base_url": llm_url, "model": llm_model, "max_usd": max_usd}
        opts.update(
            (name, price)
            for name, price in (("usd_per_mtok_in", llm_price_in), ("usd_per_mtok_out", llm_price_out))
            if price >= 0
        )
    summary = classify_lake(
        lake, backend=backend, rate=rate, floor=floor, min_per_model=min_per_model, **opts
    )
    click.echo(str(summary))


@cli.command("eval-classifier")
@option(S.EVAL_DATA, type=click.Path(exists=True, path_type=Path))
@option(S.CLASSIFIER, "backend", type=click.Choice(["default", "embedding", "llm"]))
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
    backend: str,
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
    from tokencensus.classify.evaluate import run_evaluation

    opts: dict[str, Any] = {}
    if backend == "llm":
        opts = {"base_url": llm_url, "model": llm_model}
    elif backend == "embedding":
        opts = {"encoder": encoder}
    result = run_evaluation(
        data,
        backend=backend,
        floor=floor,
        per_cell=per_source_cap,
        log=lambda m: click.echo(m, err=True),
        lake=lake,
        **opts,
    )
    click.echo(result.format())
    if lake is not None:
        from tokencensus.lake import Lake

        click.echo(
            f"Stored these errors in {Lake(lake, create=False).calibration_file}: the report corrects the "
            "category shares of this classifier's labels with them."
        )


@cli.command()
@option(S.LAKE, type=click.Path(file_okay=False, path_type=Path))
@option(S.BACKEND, type=click.Choice(S.BACKENDS))
@option(S.MIN_USERS)
@option(S.TOP_N)
@option(S.HOST)
@option(S.PORT, type=click.IntRange(0, 65535))
def serve(lake: Path, backend: str, min_users: int, top_n: int, host: str, port: int) -> None:
    """Serve a local dashboard: the report's charts re-computed under filters (date, author, segment,
    country). Binds 127.0.0.1 by default; Ctrl-C stops it."""
    from tokencensus.serve import serve as run_server

    run_server(
        lake,
        backend=backend,
        min_users=min_users,
        top_n=top_n,
        host=host,
        port=port,
        log=lambda line: console.print(Text(line)),
        ready=lambda url: click.echo(f"Dashboard: {url} (Ctrl-C to stop)"),
    )
    click.echo("Stopped.")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning tokencensus errors into ``Error: ...`` and exit 1."""
    try:
        cli.main(args=argv, standalone_mode=False)
    except TokencensusError as exc:
        # Text, not markup: messages quote user data that may contain [brackets].
        console.print(Text("Error: ", style="bold red") + Text(str(exc)))
        sys.exit(1)
    except click.exceptions.Abort:
        console.print("Aborted.")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:  # a bug or the system (disk full): one line, unless --debug
        if os.environ.get(DEBUG_ENV):
            raise
        console.print(Text("Error: ", style="bold red") + Text(_unexpected(exc)))
        sys.exit(1)


def _unexpected(exc: Exception) -> str:
    """``<file>: <what>`` for an OS error; else the error's type (its text may quote data)."""
    if isinstance(exc, OSError) and exc.strerror:
        where = exc.filename if exc.filename is not None else "tokencensus"
        return f"{where}: {exc.strerror}"
    return (
        f"unexpected {type(exc).__name__}; run `tokencensus --debug ...` for the traceback, "
        "and please report it"
    )
