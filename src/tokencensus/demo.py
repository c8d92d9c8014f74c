"""The demo: simulate the study's year of marketplace traffic, ingest it, classify a sample, write the report.

The simulated world is calibrated to the published OpenRouter study (``simulator/study.toml``);
``compare=True`` (``tokencensus demo --compare-study``) also writes ``study.md``, the study's
figures beside the demo's (:mod:`tokencensus.compare`).

It goes through the same path a user's logs take: the simulator writes log files (canonical
Parquet), ``ingest`` reads them into a fresh lake, ``classify`` labels a sample of prompts, and the
report runs on the lake. The simulator has no prompt text, so the demo writes a synthetic prompt
(of the request's planted category) for the sampled requests, as ingest would keep a real log's, and
labels a small sample with the planted category, as a user would label a sample of their prompts, to
measure the classifier's errors for the corrected category shares.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tokencensus.classify import ClassifySummary
from tokencensus.classify.classifiers import get_classifier
from tokencensus.classify.corpus import LabelledPrompt
from tokencensus.classify.evaluate import calibrate_lake
from tokencensus.classify.synthetic import prompts_for
from tokencensus.definitions import MIN_USERS
from tokencensus.ingest import IngestSummary
from tokencensus.ingest.samples import SampleWriter, sample_fraction
from tokencensus.lake import Lake
from tokencensus.report import ReportOutput
from tokencensus.simulator import iter_simulate, split_chunk, study_world

PROMPT_RATE = 0.10
"""Share of simulated requests that get a (synthetic) prompt in the samples table."""
CLASSIFY_RATE = 0.10
"""Share of requests the demo classifies: the study classified ~0.25% of far more traffic; on a year
of 1M requests by 60k users, 10% puts every monthly category cell over the 50-user privacy floor (5%
left the smallest categories, legal and adult, under it in several months)."""
CALIBRATION_RATE = 0.002
"""Share of requests whose (planted) category the demo knows as a user would by labelling a sample
of their own prompts: ~2,000 of 1M, on which the classifier's errors are measured for the corrected
category shares (``eval-classifier --data FILE.jsonl --lake``)."""


@dataclass
class DemoResult:
    """Where the demo wrote things, what ingest did, and how long each step took (seconds)."""

    out_dir: Path
    report: ReportOutput
    ingest: IngestSummary
    classify: ClassifySummary
    seconds: dict[str, float] = field(default_factory=dict)
    study: Path | None = None
    """study.md (the study's figures beside the demo's) when asked for."""


def run_demo(
    out_dir: str | Path,
    *,
    requests: int = 1_000_000,
    users: int = 60_000,
    seed: int = 7,
    backend: str = "duckdb",
    min_users: int = MIN_USERS,
    compare: bool = False,
    log: Callable[[str], object] = print,
) -> DemoResult:
    """Run simulate → ingest → classify → report into ``out_dir`` (its logs/ and lake/ are started afresh).

    With ``compare``, also write ``out_dir/study.md``: the study's published figures beside the demo's.
    """
    out = Path(out_dir)
    logs, lake_dir = out / "logs", out / "lake"
    for owned in (logs, lake_dir):
        shutil.rmtree(owned, ignore_errors=True)
    logs.mkdir(parents=True)
    seconds: dict[str, float] = {}

    start = time.perf_counter()
    world = study_world(requests=requests, users=users, seed=seed)
    truth, chunks = iter_simulate(world.config)
    files, sampled = [], []
    for i, chunk in enumerate(chunks):
        events, categories = split_chunk(chunk)
        path = logs / f"requests-{i:02d}.parquet"
        pq.write_table(events, path, compression="zstd", compression_level=1)
        files.append(path)
        keep = pa.array([sample_fraction(rid) < PROMPT_RATE for rid in categories["request_id"].to_pylist()])
        chosen = categories.filter(keep)
        countries = events.column("country").filter(keep).to_pylist()
        sampled.append(
            chosen.append_column("language", pa.array(_languages(chosen, countries, world.languages)))
        )
    seconds["simulate"] = time.perf_counter() - start
    log(
        f"simulated {requests:,} requests of {len(truth.models)} models into {logs} "
        f"({seconds['simulate']:.1f} s)"
    )

    start = time.perf_counter()
    lake = Lake(lake_dir)
    summary = lake.ingest(files, format="parquet")
    seconds["ingest"] = time.perf_counter() - start
    log(f"ingested into {lake_dir}: {summary.total} ({seconds['ingest']:.1f} s)")

    start = time.perf_counter()
    prompted = pa.concat_tables(sampled)
    samples = SampleWriter(lake_dir, rate=PROMPT_RATE)
    samples.add(prompts_for(prompted, seed=seed))
    samples.flush()
    labels = lake.classify("default", rate=CLASSIFY_RATE)
    calibration = calibrate_lake(lake_dir, _labelled_sample(prompted, seed), get_classifier("default"))
    seconds["classify"] = time.perf_counter() - start
    log(
        f"classified {labels.written:,} sampled prompts; measured the classifier's errors on "
        f"{calibration.pooled.n:,} labelled ones (accuracy {calibration.pooled.accuracy:.2f}) "
        f"({seconds['classify']:.1f} s)"
    )

    start = time.perf_counter()
    report = lake.study(backend=backend, min_users=min_users).report(out)
    seconds["report"] = time.perf_counter() - start
    log(f"wrote {report.html} and {len(report.csvs)} CSV files ({seconds['report']:.1f} s)")
    result = DemoResult(out_dir=out, report=report, ingest=summary, classify=labels, seconds=seconds)
    if compare:
        from tokencensus.compare import compare_study, study_markdown

        start = time.perf_counter()
        rows = compare_study(lake_dir, backend=backend, world=world)
        result.study = out / "study.md"
        result.study.write_text(study_markdown(rows), encoding="utf-8")
        seconds["compare"] = time.perf_counter() - start
        log(
            f"compared with the study: {sum(r.ok for r in rows)} of {len(rows)} figures within range, "
            f"{result.study} ({seconds['compare']:.1f} s)"
        )
    return result


def _languages(
    chosen: pa.Table, countries: list[str | None], languages: dict[str, dict[str, float]]
) -> list[str]:
    """Each request's prompt language: drawn (deterministically in its id) from its user's country's
    languages in the world file; English elsewhere."""
    out = []
    for rid, country in zip(chosen.column("request_id").to_pylist(), countries, strict=True):
        shares = languages.get(country or "", {})
        u, language = sample_fraction("language:" + rid), "en"
        for code, share in shares.items():
            if u < share:
                language = code
                break
            u -= share
        out.append(language)
    return out


def _labelled_sample(categories: pa.Table, seed: int) -> list[LabelledPrompt]:
    """The requests of :data:`CALIBRATION_RATE` with a prompt of their planted category (written
    with another seed than the classified prompts): the demo's labelled sample of its own traffic."""
    ids = categories.column("request_id").to_pylist()
    keep = pa.array([sample_fraction(rid) < CALIBRATION_RATE for rid in ids])
    chosen = categories.filter(keep)
    texts = prompts_for(chosen, seed=seed + 1).column("text").to_pylist()
    return [
        LabelledPrompt("demo", rid, text, cat)
        for rid, text, cat in zip(
            chosen.column("request_id").to_pylist(), texts, chosen.column("category").to_pylist(), strict=True
        )
    ]
