"""The report: analysis results → view-models → one offline HTML file and a CSV per figure.

:func:`build_report` is the entry point; :mod:`tokencensus.report.compute` produces its input from
a lake. Steps: :mod:`.data` (privacy floor, headlines, tables) → :mod:`.charts` (Vega-Lite specs)
→ :mod:`.render` (HTML via the template, CSV, Markdown, JSON, and a PNG per chart for slides). Output is
deterministic: the same results and meta give the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tokencensus import settings
from tokencensus.errors import ConfigError
from tokencensus.report.data import FIGURES, ReportMeta, ReportView, report_view, suppress

__all__ = ["FORMATS", "ReportMeta", "ReportOutput", "build_report", "suppress"]

FORMATS = settings.REPORT_FORMATS
"""What ``formats`` may name; "png" writes ``figures/<figure>.png`` for every chart."""


@dataclass(frozen=True)
class ReportOutput:
    """What :func:`build_report` wrote: the page(s), one CSV per figure, and the cells suppressed."""

    html: Path | None
    csvs: tuple[Path, ...]
    n_suppressed: int
    markdown: Path | None = None
    json: Path | None = None
    pngs: tuple[Path, ...] = ()


def build_report(
    results: Mapping[str, pd.DataFrame],
    meta: ReportMeta,
    out_dir: Path,
    formats: Sequence[str] = ("html",),
    view: ReportView | None = None,
) -> ReportOutput:
    """Write ``out_dir/report.html`` (and ``report.md`` / ``report.json`` if asked) and
    ``out_dir/figures/<figure>.csv`` for every figure whose key is in ``results``; with "png",
    ``out_dir/figures/<figure>.png`` for every figure that has a chart.

    Cells backed by fewer than ``meta.min_users`` distinct users are suppressed everywhere.
    ``view``: :func:`report_view` of the same results and meta, when already built.
    """
    from tokencensus.report import charts, render

    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ConfigError(f"unknown report format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    out_dir = Path(out_dir)
    figures_dir = out_dir / "figures"
    figures_dir.mkdir(parents=True, exist_ok=True)
    view = view if view is not None else report_view(results, meta)

    csvs = []
    for fig in view.figures:
        path = out_dir / fig.csv_path
        _write(path, render.figure_csv(fig.frame))
        csvs.append(path)
    shown = {fig.id for fig in view.figures}
    for fig_def in FIGURES:  # a figure skipped this time must not keep last run's CSV
        if fig_def.id not in shown:
            (figures_dir / f"{fig_def.id}.csv").unlink(missing_ok=True)

    html = markdown = json_path = None
    pngs: list[Path] = []
    specs = {}
    if "html" in formats or "png" in formats:
        specs = {fig.id: charts.chart_spec(fig) for fig in view.figures}
    if "html" in formats:
        html = out_dir / "report.html"
        _write(html, render.render_html(view, specs, render.javascript_bundle()))
    if "md" in formats:
        markdown = out_dir / "report.md"
        pictures = frozenset(fid for fid, spec in specs.items() if spec is not None and "png" in formats)
        _write(markdown, render.render_markdown(view, pictures))
    if "json" in formats:
        json_path = out_dir / "report.json"
        _write(json_path, render.render_json(view))
    if "png" in formats:
        views = {fig.id: fig for fig in view.figures}
        footer = render.picture_footer(view.meta)
        for fig_def in FIGURES:
            path = figures_dir / f"{fig_def.id}.png"
            spec = specs.get(fig_def.id)
            if spec is None:  # no chart this time: no stale picture either
                path.unlink(missing_ok=True)
                continue
            headline = views[fig_def.id].headline
            _write_bytes(path, render.render_png(spec, fig_def.title, headline, footer=footer))
            pngs.append(path)
    return ReportOutput(
        html=html,
        csvs=tuple(csvs),
        n_suppressed=view.n_suppressed,
        markdown=markdown,
        json=json_path,
        pngs=tuple(pngs),
    )


def _write(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a report."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    tmp.replace(path)


def _write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
