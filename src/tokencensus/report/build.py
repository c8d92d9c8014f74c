"""From a lake to a written report: open the engine, compute, render."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

from tokencensus.definitions import MIN_USERS
from tokencensus.engine import open_lake
from tokencensus.lake import Lake
from tokencensus.report import ReportOutput, build_report
from tokencensus.report.compute import compute


def report_from_lake(
    lake: Lake | str | Path,
    out_dir: str | Path,
    *,
    backend: str = "duckdb",
    min_users: int = MIN_USERS,
    top_n: int = 10,
    formats: Sequence[str] = ("html",),
    catalog: pa.Table | None = None,
) -> ReportOutput:
    """Run every figure's analysis over ``lake`` on ``backend`` and write the report to ``out_dir``."""
    lake = lake if isinstance(lake, Lake) else Lake(lake, create=False)
    tables = open_lake(lake, backend=backend, catalog=catalog)
    results, meta = compute(tables, min_users=min_users, top_n=top_n, source=str(lake.root))
    return build_report(results, meta, Path(out_dir), formats=formats)
