"""Writing the report: one self-contained HTML file, a CSV per figure, and optional Markdown/JSON.

The HTML inlines everything it needs: CSS, the chart specs (data included) as JSON in
``<script type="application/json">`` tags, and one ``<script type="module">`` holding Vega, Vega-Lite
and Vega-Embed as bundled by :func:`vl_convert.javascript_bundle` together with a short snippet
that draws every chart. It makes no network request.

All text from the logs (model, author names) is hostile: the template autoescapes it, and JSON
embedded in a script tag has ``<``, ``>`` and ``&`` written as ``\\u003c`` etc. so that no name can
close the tag, while ``JSON.parse`` still returns the original string.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

import tokencensus
from tokencensus.report.data import ReportMeta, ReportView

# Draws every chart: each <script type="application/json" data-chart="ID"> holds the spec for the
# element #ID. No actions menu (its export/editor links would reach the network).
RENDER_SNIPPET = """
const options = { actions: false, renderer: "svg" };
for (const source of document.querySelectorAll("script[data-chart]")) {
  const target = document.getElementById(source.dataset.chart);
  vegaEmbed(target, JSON.parse(source.textContent), options).catch((error) => {
    target.textContent = "This chart could not be drawn (" + error + "); its data is in the table below.";
  });
}
"""


@functools.cache
def javascript_bundle() -> str:
    """Vega + Vega-Lite + Vega-Embed and :data:`RENDER_SNIPPET` as one ES module.

    The Vega-Lite version matches the schema Altair writes when vl-convert has it. Bundling takes
    ~1.5 s, so the result is kept in the user's cache directory (:func:`cache_dir`), under a name
    that changes with vl-convert's version, the Vega-Lite version and the snippet; where that
    directory cannot be written, every process bundles anew.
    """
    import altair as alt
    import vl_convert

    wanted = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    version = wanted if wanted in vl_convert.get_vegalite_versions() else None
    vl_version = getattr(vl_convert, "__version__", "unknown")  # not in its type stubs
    key = hashlib.sha256(f"{vl_version}\n{version}\n{RENDER_SNIPPET}".encode()).hexdigest()[:20]
    path = cache_dir() / f"vega-bundle-{key}.js"
    try:
        return _checked_bundle(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    bundle = vl_convert.javascript_bundle(snippet=RENDER_SNIPPET, vl_version=version)
    # Inside <script>, only "</script" ends the element and "<!--" changes how it is parsed; in JS
    # source "<\/" means the same as "</" within strings and regexes, where these could occur.
    bundle = _checked_bundle(re.sub(r"</(script)", r"<\\/\1", bundle, flags=re.IGNORECASE))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(bundle, encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass
    return bundle


def _checked_bundle(bundle: str) -> str:
    if "<!--" in bundle or re.search(r"</script", bundle, flags=re.IGNORECASE):
        raise ValueError("the vl-convert JavaScript bundle cannot be inlined ('<!--' or '</script' in it)")
    return bundle


def cache_dir() -> Path:
    """Where tokencensus keeps what it can rebuild: ``$XDG_CACHE_HOME/tokencensus``, by default
    ``~/.cache/tokencensus``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tokencensus"


def script_json(value: Any) -> Markup:
    """JSON safe to place inside a ``<script>`` element (``<``, ``>``, ``&`` and line separators escaped)."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("tokencensus.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(
    view: ReportView,
    specs: Mapping[str, dict[str, Any] | None],
    bundle: str,
    *,
    template: str = "report.html.j2",
    context: Mapping[str, Any] | None = None,
) -> str:
    """The report page: ``specs`` maps figure ids to their Vega-Lite spec (None: nothing to draw).

    ``template`` may name a page that extends ``report.html.j2`` (the dashboard's), with ``context``
    the variables it adds; the report itself is rendered with neither.
    """
    charts = {fig_id: script_json(spec) for fig_id, spec in specs.items() if spec is not None}
    return page_template(template).render(
        view=view,
        meta=view.meta,
        charts=charts,
        bundle=Markup(bundle),
        version=tokencensus.__version__,
        **(context or {}),
    )


def page_template(name: str) -> jinja2.Template:
    """One of the package's templates (``report/templates``), autoescaped, strict about undefined names."""
    return _environment().get_template(name)


def figure_csv(frame: pd.DataFrame) -> str:
    """A figure's published frame as CSV: ISO dates, blanks for suppressed values, true/false flags."""
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_bool_dtype(series):
            out[col] = ["" if _missing(v) else ("true" if v else "false") for v in series]
        elif series.dtype == object or pd.api.types.is_string_dtype(series):
            out[col] = [_defuse(v.isoformat() if isinstance(v, date) else v) for v in series]
    return str(out.to_csv(index=False, lineterminator="\n"))


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _defuse(value: object) -> object:
    """Quote text a spreadsheet would run as a formula (names come from logs: treat them as hostile)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _plain(value: Any) -> Any:
    """A frame cell as a JSON value (dates as ISO strings, missing as null)."""
    if _missing(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


JSON_ROWS = 200
"""``report.json`` holds a figure's published rows when it has at most this many; a larger frame
is referenced by its CSV (whose rows are the same), which keeps the file small."""


def render_json(view: ReportView) -> str:
    """``report.json``: meta, summary, key findings, and per figure its headline, note and published
    data (inline up to :data:`JSON_ROWS` rows, else in its CSV)."""
    meta = {k: _plain(v) for k, v in vars(view.meta).items()}
    figures = []
    for fig in view.figures:
        entry: dict[str, Any] = {
            "id": fig.id,
            "section": fig.figure.section,
            "title": fig.figure.title,
            "headline": fig.headline,
            "note": fig.figure.note,
            "n_suppressed": fig.n_suppressed,
            "csv": fig.csv_path,
            "columns": [str(c) for c in fig.frame.columns],
            "rows": len(fig.frame),
        }
        if len(fig.frame) <= JSON_ROWS:
            entry["data"] = [{str(k): _plain(v) for k, v in r.items()} for r in fig.frame.to_dict("records")]
        figures.append(entry)
    doc = {
        "title": view.meta.title,
        "meta": meta,
        "summary": {fact.label: fact.value for fact in view.summary},
        "findings": [{"figure": f.figure_id, "text": f.text} for f in view.findings],
        "sections": [
            {"id": s.id, "title": s.section.title, "figures": [f.id for f in s.figures]}
            for s in view.sections
        ],
        "n_suppressed": view.n_suppressed,
        "figures": figures,
    }
    return json.dumps(doc, ensure_ascii=False, allow_nan=False, indent=2) + "\n"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")
_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")
"""Every character some Markdown renderer takes as the end of a line (a name must stay on its line:
a break followed by ``~~~`` or ``` would open a code block over the rest of the file)."""


_HTML_START = re.compile(r"&(?=[A-Za-z][A-Za-z0-9]*;|#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};)|<(?=[A-Za-z/!?])")
"""The only ``&`` and ``<`` that start HTML in CommonMark: a character reference (``&amp;``,
``&#60;``, ``&#x3c;``), or a tag, comment, declaration or autolink; "R&D", "Q & A" and "< 15B" stay
as written."""


def md_escape(text: str) -> str:
    """Text from the logs made inert in Markdown (and still readable): what could start HTML is
    escaped, Markdown syntax backslashed, line breaks flattened, a leading ``>`` (a quote) escaped."""
    text = _HTML_START.sub(lambda m: "&amp;" if m.group() == "&" else "&lt;", _LINE_BREAKS.sub(" ", text))
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return "\\" + text if text.startswith(">") else text


def render_markdown(view: ReportView, pictures: frozenset[str] = frozenset()) -> str:
    """``report.md``: summary and key findings, then per section and figure its headline, note and
    table; the figures in ``pictures`` (written as ``figures/<id>.png``) shown as images."""
    lines = [f"# {md_escape(view.meta.title)}", ""]
    if view.meta.org:
        lines += [f"LLM usage at {md_escape(view.meta.org)}.", ""]
    lines += [f"- **{fact.label}:** {md_escape(fact.value)}" for fact in view.summary]
    if view.findings:
        lines += ["", "## Key findings", ""]
        lines += [f"{i}. {md_escape(f.text)}" for i, f in enumerate(view.findings, 1)]
    for section in view.sections:
        lines += ["", f"## {md_escape(section.section.title)}"]
        for fig in section.figures:
            lines += ["", f"### {md_escape(fig.figure.title)}", "", f"**{md_escape(fig.headline)}**", ""]
            if fig.id in pictures:
                lines += [f"![{md_escape(fig.figure.title)}](figures/{fig.id}.png)", ""]
            lines.append(f"_Method:_ {md_escape(fig.figure.note)}")
            if fig.suppression_note:
                lines += ["", md_escape(fig.suppression_note)]
            if fig.table.header:
                lines += ["", "| " + " | ".join(md_escape(h) for h in fig.table.header) + " |"]
                lines.append("|" + "|".join("---" for _ in fig.table.header) + "|")
                lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in fig.table.rows]
                lines += ["", md_escape(fig.table_caption)]
            lines += ["", f"Data: [{fig.csv_path}]({fig.csv_path})"]
    return "\n".join(lines) + "\n"


def picture_footer(meta: ReportMeta) -> str:
    """What a picture of the report says about where it comes from: the report's title (and whose
    traffic), its period and its source."""
    parts = [meta.title + (f" — {meta.org}" if meta.org else "")]
    parts.append(f"{meta.period_start.isoformat()} to {meta.period_end.isoformat()}")
    if meta.source:
        parts.append(f"source: {meta.source}")
    return " · ".join(parts)


def render_png(
    spec: dict[str, Any], title: str = "", subtitle: str = "", scale: float = 2.0, footer: str = ""
) -> bytes:
    """One chart as a PNG (for slides), drawn by vl-convert at a fixed width and ``scale``, with
    ``title`` and ``subtitle`` (the figure's headline) on top and ``footer`` below."""
    import altair as alt
    import vl_convert

    from tokencensus.report.charts import png_spec

    wanted = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    version = wanted if wanted in vl_convert.get_vegalite_versions() else None
    picture = png_spec(spec, title, subtitle, footer=footer)
    return bytes(vl_convert.vegalite_to_png(picture, vl_version=version, scale=scale))
