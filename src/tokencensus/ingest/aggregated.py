"""Pre-aggregated usage: one row per period and model (and maybe provider, app, country) with totals.

Each row becomes one *weighted* event: ``requests`` is the row's request count (> 1), ``user_id`` is
null, and the token and cost columns are the period's totals. The default columns follow the
OpenRouter weekly top-models table (``week_ending, slug, prompt_tokens, completion_tokens,
reasoning_tokens, cached_tokens, request_count, estimated_revenue``); other shapes are read through
the mapping (canonical column → source column, as for generic CSV).

The period's timestamp: a ``week_ending`` date stands for the 7 days ending on it, so the event is
dated on the first of them (``week_ending`` − 6 days, 00:00 UTC) and lands in that Monday-start week
for weeks that end on Sunday; other period columns (``week``, ``week_start``, ``date``, ``period``,
``ts``) are taken as the period's start. ``request_id`` is ``agg:<period>:<model>[:provider:app:country]``,
so re-ingesting the same table is a no-op.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from tokencensus.errors import InputError
from tokencensus.ingest.format import Batch, ReadOptions
from tokencensus.ingest.generic import constant, parquet_batches, parquet_file, split_mapping
from tokencensus.ingest.streams import csv_batches, csv_header, head_bytes
from tokencensus.ingest.tabular import Mapper

CANDIDATES: dict[str, tuple[str, ...]] = {
    "ts": ("week_ending", "week_start", "week", "date", "day", "period", "ts"),
    "model": ("slug", "model", "model_permaslug", "model_raw"),
    "input_tokens": ("prompt_tokens", "input_tokens", "tokens_prompt"),
    "output_tokens": ("completion_tokens", "output_tokens", "tokens_completion"),
    "reasoning_tokens": ("reasoning_tokens", "tokens_reasoning"),
    "cached_tokens": ("cached_tokens", "tokens_cached"),
    "requests": ("request_count", "requests", "count"),
    "cost_usd": ("cost_usd", "estimated_revenue", "cost", "spend"),
    "provider": ("provider", "provider_name"),
    "app": ("app", "app_name"),
    "country": ("country",),
}
"""Source columns tried, in order, for each canonical column when the mapping does not name one."""
_WEEK_ENDING = "week_ending"


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    """Aggregated usage rows from CSV or Parquet."""
    opts = split_mapping(options.mapping)
    mapping, ts_format = opts.columns, opts.ts_format
    is_parquet = head_bytes(path, 4) == b"PAR1"
    header = parquet_file(path).schema_arrow.names if is_parquet else csv_header(path)
    chosen: dict[str, str] = {}
    for target, names in CANDIDATES.items():
        if target in mapping:
            chosen[target] = mapping[target]
            continue
        found = next((n for n in names if n in header), None)
        if found:
            chosen[target] = found
    for target, source in mapping.items():
        chosen.setdefault(target, source)
    missing = [t for t in ("ts", "model", "requests") if t not in chosen]
    unknown = [s for s in chosen.values() if not s.startswith("=") and s not in header]
    if missing or unknown:
        raise InputError(
            f"{path}: pre-aggregated usage needs a period, a model and a request count column"
            + (f"; none found for {', '.join(missing)}" if missing else "")
            + (f"; column(s) {', '.join(unknown)} not in the file" if unknown else "")
            + f" (columns: {', '.join(header)}); name them with --mapping"
        )
    shift = timedelta(days=-6) if chosen["ts"] == _WEEK_ENDING else None
    sources = sorted({s for s in chosen.values() if not s.startswith("=")})
    batches = (
        ((t, r, []) for t, r in parquet_batches(path, sources))
        if is_parquet
        else ((b.table, b.rows, b.rejects) for b in csv_batches(path, sources))
    )
    for table, rows, rejects in batches:
        m = Mapper(table, ts_format=ts_format or options.ts_format)
        for target, source in chosen.items():
            dest = "model_raw" if target == "model" else target
            if source.startswith("="):
                m.set(dest, pa.repeat(constant(dest, source[1:]), m.n))
                continue
            m.set(dest, m.parse(source, dest))
        if shift is not None and "ts" in m.columns:
            m.set("ts", pc.add(m.columns["ts"], pa.scalar(shift, pa.duration("us"))))
        m.set("request_id", _request_ids(m))
        m.set("user_id", pa.nulls(m.n, pa.string()))
        yield m.batch(rows, rejects)


def _request_ids(m: Mapper) -> pa.Array:
    # A missing period or model leaves an empty part: the row is then quarantined for the ts or model.
    period = (
        pc.strftime(m.columns["ts"], format="%Y-%m-%d") if "ts" in m.columns else pa.nulls(m.n, pa.string())
    )
    model = m.columns.get("model_raw", pa.nulls(m.n, pa.string()))
    extra = [m.columns[c] for c in ("provider", "app", "country") if c in m.columns]
    parts = [pa.array(["agg"] * m.n), period, model, *extra]
    return pc.binary_join_element_wise(*[pc.fill_null(p, "") for p in parts], ":")
