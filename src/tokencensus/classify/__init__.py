"""Classify a sample of prompts: sample → PII scrub → language → category (+ confidence) → labels.

:func:`classify_lake` reads the samples ingest kept (``<lake>/samples``), picks a deterministic,
model-stratified subset (:mod:`.sample`), scrubs PII (:mod:`.scrub`) before anything else sees the
text, detects the language (:mod:`.language`), asks a classifier (:mod:`.classifiers`) for a category and
confidence (below ``floor`` it is ``other``), picks the subcategory from the taxonomy's keywords, and
appends the labels table (:mod:`.labels`). Prompt text is never logged or returned.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from tokencensus.classify.classifiers import apply_floor, get_classifier
from tokencensus.classify.labels import LABEL_SCHEMA, append_labels, read_labels
from tokencensus.classify.language import detect
from tokencensus.classify.sample import DEFAULT_RATE, MIN_PER_MODEL, choose
from tokencensus.classify.scrub import scrub_texts
from tokencensus.classify.taxonomy import load_taxonomy
from tokencensus.definitions import CONFIDENCE_FLOOR
from tokencensus.errors import LakeError
from tokencensus.ingest.samples import read_samples

logger = logging.getLogger(__name__)

__all__ = ["ClassifySummary", "classify_lake", "classify_texts"]

_BATCH = 4_096


@dataclass
class ClassifySummary:
    """What one classify run did (counts only, never text)."""

    classifier: str
    samples: int = 0
    chosen: int = 0
    already_labelled: int = 0
    written: int = 0
    below_floor: int = 0
    scrubbed: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def __str__(self) -> str:
        top = ", ".join(f"{c} {n}" for c, n in self.categories.most_common(5))
        langs = ", ".join(f"{c} {n}" for c, n in self.languages.most_common(5))
        pii = ", ".join(f"{k} {n}" for k, n in sorted(self.scrubbed.items())) or "none"
        rate = self.written / self.seconds if self.seconds else 0.0
        return (
            f"{self.classifier}: {self.samples} samples, {self.chosen} chosen, "
            f"{self.already_labelled} already labelled, {self.written} labelled "
            f"({self.below_floor} below the floor → other) in {self.seconds:.1f}s ({rate:,.0f}/s)\n"
            f"PII replaced: {pii}\ntop categories: {top or '-'}\nlanguages: {langs or '-'}"
        )


def classify_texts(texts: list[str], classifier: Any, floor: float = CONFIDENCE_FLOOR) -> pa.Table:
    """Labels (without request_id) for already-scrubbed ``texts``: language, category, subcategory,
    confidence, classifier."""
    taxonomy = load_taxonomy()
    pred = apply_floor(classifier.predict(texts), floor)
    return pa.table(
        {
            "language": detect(texts),
            "category": pred.categories,
            "subcategory": [taxonomy.subcategory(c, t) for c, t in zip(pred.categories, texts, strict=True)],
            "confidence": pa.array(pred.confidence, pa.float64()),
            "classifier": [classifier.name] * len(texts),
        }
    )


def _models_of(lake_root: Path, request_ids: pa.Array) -> pa.Table:
    events = lake_root / "events"
    if not events.is_dir() or not any(events.rglob("*.parquet")):
        return pa.table({"request_id": request_ids, "model": pa.nulls(len(request_ids), pa.string())})
    dataset = ds.dataset(events, format="parquet", partitioning="hive")
    found = dataset.to_table(columns=["request_id", "model"], filter=ds.field("request_id").isin(request_ids))
    # Samples whose event is missing (quarantined rows) still count, under model "unknown".
    missing = pc.invert(pc.is_in(request_ids, value_set=found["request_id"]))
    rest = request_ids.filter(missing)
    extra = pa.table({"request_id": rest, "model": pa.nulls(len(rest), pa.string())})
    return pa.concat_tables([found.select(["request_id", "model"]).cast(extra.schema), extra])


def classify_lake(
    lake: str | Path,
    classifier: str = "default",
    rate: float = DEFAULT_RATE,
    floor: float = CONFIDENCE_FLOOR,
    min_per_model: int = MIN_PER_MODEL,
    **classifier_options: Any,
) -> ClassifySummary:
    """Classify the lake's sampled prompts into ``<lake>/labels`` (see the module docstring)."""
    root = Path(lake)
    if not root.is_dir():
        raise LakeError(f"no lake at {root}; create one with `tokencensus ingest --lake {root} FILE...`")
    start = time.perf_counter()
    impl = get_classifier(classifier, **classifier_options)
    summary = ClassifySummary(classifier=impl.name)
    samples = read_samples(root)
    summary.samples = samples.num_rows
    if not samples.num_rows:
        raise LakeError(
            f"the lake at {root} holds no prompt samples; ingest logs that carry prompt text "
            "(with --sample-rate > 0) before classifying"
        )
    plan = choose(_models_of(root, samples["request_id"].combine_chunks()), rate, min_per_model)
    summary.chosen = len(plan.request_ids)
    done = read_labels(root, impl.name)["request_id"]
    todo = pc.and_(
        pc.is_in(samples["request_id"], value_set=plan.request_ids),
        pc.invert(pc.is_in(samples["request_id"], value_set=done.combine_chunks())),
    )
    chosen = samples.filter(todo)
    summary.already_labelled = summary.chosen - chosen.num_rows
    logger.info(
        "%s: %d of %d samples chosen, %d to label",
        impl.name,
        summary.chosen,
        samples.num_rows,
        chosen.num_rows,
    )
    for i in range(0, chosen.num_rows, _BATCH):
        part = chosen.slice(i, _BATCH)
        texts, report = scrub_texts(part["text"].to_pylist())
        summary.scrubbed.update(report.counts)
        labels = classify_texts(texts, impl, floor)
        labels = labels.add_column(0, "request_id", part["request_id"]).select(LABEL_SCHEMA.names)
        summary.below_floor += int(pc.sum(pc.less(labels["confidence"], floor)).as_py() or 0)
        summary.written += append_labels(root, labels)
        logger.debug("labelled %d of %d", min(i + _BATCH, chosen.num_rows), chosen.num_rows)
        summary.categories.update(labels["category"].to_pylist())
        summary.languages.update(labels["language"].to_pylist())
    summary.seconds = time.perf_counter() - start
    return summary
