"""Categories: what people use AI for, from the classifier's labels on a sample of prompts."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from tokencensus import analyses
from tokencensus.definitions import CHINESE_OPEN, OPEN_WEIGHTS, PROPRIETARY, REST_OF_WORLD_OPEN
from tokencensus.report.figure import Figure, Options, Partition, Period, on_frame, on_period
from tokencensus.report.headlines import Caveat, headline_top_category, published_rows, words
from tokencensus.report.numbers import fmt_pct, missing
from tokencensus.report.sources import Sources


def labelled(s: Sources) -> tuple[ir.Table, ir.Table]:
    """The labelled requests' events and the labels (a figure with ``labels=True`` has both)."""
    assert s.labelled is not None
    assert s.labels is not None
    return s.labelled, s.labels


def share_category(s: Sources, _: Options) -> ir.Table:
    """Monthly: a month's sample of prompts clears the privacy floor where a week's mostly does not."""
    share = analyses.category_share(*labelled(s), population=s.cells, period="month")
    return share.rename(segment="category")


def category_corrected(s: Sources, _: Options) -> ir.Table:
    """The category mix, raw and corrected for the classifier's measured errors
    (:func:`tokencensus.classify.prevalence.corrected_mix`, a bootstrap in NumPy over the labelled
    requests in request-id order, so every engine gives the same intervals): corrected with the
    lake's own calibration when it has one, else the shipped classifier's out-of-source errors; none
    when the labels come from several classifiers (whose errors differ)."""
    from tokencensus.classify.prevalence import corrected_mix, errors_for

    events, labels = labelled(s)
    lab = analyses.labelled_events(events, labels, population=s.cells)
    mix = analyses.categories.mix(lab, []).to_pandas()
    requests = lab.select("request_id", "category", "tokens").order_by(["request_id", "category"]).to_pandas()
    names = list(labels.select("classifier").distinct().to_pandas()["classifier"].dropna())
    errors = errors_for(str(names[0]), s.calibration) if len(names) == 1 else None
    frame = corrected_mix(mix, list(requests["category"]), requests["tokens"].to_numpy(), errors)
    return ibis.memtable(frame)


def category_segments(s: Sources, _: Options) -> ir.Table:
    return analyses.mix_by_segment(*labelled(s), population=s.cells)


def headline_category(frame: pd.DataFrame, period: Period | None = None) -> str:
    """The largest category of the last month, against the first month (e.g. programming's rise)."""
    return headline_top_category(frame, period, "classified tokens")


def headline_category_corrected(frame: pd.DataFrame) -> str:
    """The largest category, raw and corrected, saying which estimate is headlined and why."""
    rows = published_rows(frame)
    if (rows["category"] != "other").any():
        rows = rows[rows["category"] != "other"]
    if rows.empty:
        return Caveat("No published category shares (too few users or no classified prompts).")
    errors = str(rows["errors"].iloc[0])
    withheld = bool(rows["headlined"].isna().any())  # blanked with a hidden category
    estimated = rows[rows["corrected_share"].notna()]
    on_traffic = not withheld and not estimated.empty and (rows["headlined"] == "corrected").all()
    pool, key = (estimated, "corrected_share") if on_traffic else (rows, "raw_share")
    top = pool.sort_values([key, "category"], ascending=[False, True], kind="stable").iloc[0]
    name = words(top["category"])

    def est(prefix: str) -> str:
        low, high = fmt_pct(top[f"{prefix}_low"]), fmt_pct(top[f"{prefix}_high"])
        return f"{fmt_pct(top[f'{prefix}_share'])} (95% interval {low}–{high})"

    if on_traffic:
        return (
            f"Corrected for the classifier's errors on {errors}, {name} carried {est('corrected')} of "
            f"classified tokens, against {fmt_pct(top['raw_share'])} as labelled."
        )
    said = f"As labelled, {name} carried {est('raw')} of classified tokens"
    if withheld:
        return f"{said}; the corrected shares are withheld, as a category has too few users to publish."
    if errors == "not measured":
        return f"{said}; the classifier's errors are not measured, so the shares are not corrected."
    if missing(top["corrected_share"]):
        return f"{said}; the classifier's errors on it are not measured ({errors}), so it is not corrected."
    return (
        f"{said}; corrected with the errors measured on {errors} it would be {est('corrected')}. The raw "
        "share is headlined: those prompts are not this traffic's."
    )


_SEGMENT_PHRASES = {
    OPEN_WEIGHTS: "open-weights models",
    CHINESE_OPEN: "Chinese open models",
    REST_OF_WORLD_OPEN: "rest-of-world open models",
    PROPRIETARY: "proprietary models",
    "Unknown": "models missing from the catalog",
}


def headline_category_segments(frame: pd.DataFrame) -> str:
    """The leading category of proprietary and of open-weights models' classified tokens."""
    published = published_rows(frame)
    published = published[published["category"] != "other"]
    parts: list[str] = []
    for segment in (PROPRIETARY, OPEN_WEIGHTS, CHINESE_OPEN):
        rows = published[published["segment"] == segment]
        if rows.empty or len(parts) == 2:
            continue
        top = rows.sort_values(["share", "category"], ascending=[False, True], kind="stable").iloc[0]
        phrase = _SEGMENT_PHRASES[segment]
        parts.append(f"{words(top['category'])} led {phrase}' classified tokens ({fmt_pct(top['share'])})")
    if not parts:
        return Caveat("No published category mix per segment.")
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


FIGURES = (
    Figure(
        "share_category",
        "What people use AI for",
        "categories",
        "share",
        "Each category's share of the month's classified tokens, from a deterministic sample of "
        "prompts (PII scrubbed, then classified); each label counts its request's tokens times its "
        "model's inverse sampling rate, and labels below the confidence floor count as other. Monthly: "
        "a week's sample mostly falls under the privacy floor. Counted as labelled (raw); the next "
        "figure corrects the period's mix for the classifier's errors.",
        data=share_category,
        headline=on_period(headline_category),
        labels=True,
        partitions=(Partition(("month",), ("tokens",), "categories sum to the month's total (via shares)"),),
        category="segment",
        trailing=("other",),
    ),
    Figure(
        "category_corrected",
        "Use-case shares corrected for the classifier's errors",
        "categories",
        "intervals",
        "Each category's share of classified tokens over the whole period, as labelled (raw) and "
        "corrected for the classifier's measured confusion (adjusted classify-and-count: the shares q "
        "that the measured error rates M turn into the counted ones, M·q = raw, solved on the "
        "simplex). Bars are 95% bootstrap intervals over the prompt sample and the confusion's own "
        "measurement. The correction holds when the classifier errs on this traffic as it did where its "
        "errors were measured: on a labelled sample of this traffic it is headlined, on public sources "
        "only the raw share is (label a sample and run eval-classifier --data FILE.jsonl --lake LAKE).",
        data=category_corrected,
        headline=on_frame(headline_category_corrected),
        labels=True,
        partitions=(Partition((), ("tokens",), "categories sum to the classified total"),),
        category="category",
        value="corrected_share",
        trailing=("other",),
        table_open=True,
    ),
    Figure(
        "category_segments",
        "Categories by model segment",
        "categories",
        "stacked_bars",
        "Category mix of classified tokens over the whole period, within open-weights models and within "
        "each origin segment (Chinese open, rest-of-world open, proprietary); each bar sums to 100%. "
        "Weighted like the category shares.",
        data=category_segments,
        headline=on_frame(headline_category_segments),
        labels=True,
        partitions=(Partition(("segment",), ("tokens", "labelled"), "categories sum to the segment"),),
        category="category",
        order=(OPEN_WEIGHTS, CHINESE_OPEN, REST_OF_WORLD_OPEN, PROPRIETARY),
        trailing=("other",),
    ),
)
