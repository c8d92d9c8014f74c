"""The labels table: one row per (request_id, classifier), written by classify, read by analyses.

Layout: ``<lake>/labels/part-<id>.parquet`` with :data:`LABEL_SCHEMA`. Appends are idempotent per
``(request_id, classifier)``: a request that already has a label from that classifier is skipped, so
re-running classify adds nothing, while another classifier (say an LLM, for comparison) adds its own
rows. Files are written atomically (a temporary file renamed into place). No prompt text is stored.
``category`` is after the confidence floor of the run (labels below it are ``other``); analyses may
apply a stricter floor with ``confidence``.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

LABELS_DIR = "labels"
LABEL_SCHEMA = pa.schema(
    [
        pa.field("request_id", pa.string(), nullable=False),
        pa.field("language", pa.string(), nullable=False),
        pa.field("category", pa.string(), nullable=False),
        pa.field("subcategory", pa.string(), nullable=False),
        pa.field("confidence", pa.float64(), nullable=False),
        pa.field("classifier", pa.string(), nullable=False),
    ]
)


def labels_dir(lake_root: str | Path) -> Path:
    return Path(lake_root) / LABELS_DIR


def read_labels(lake_root: str | Path, classifier: str | None = None) -> pa.Table:
    """Every stored label (of ``classifier`` only, when given)."""
    files = sorted(labels_dir(lake_root).glob("part-*.parquet"))
    if not files:
        return LABEL_SCHEMA.empty_table()
    table = pa.concat_tables([pq.read_table(f, schema=LABEL_SCHEMA) for f in files])
    if classifier is not None:
        table = table.filter(pc.equal(table["classifier"], classifier))
    return table


def append_labels(lake_root: str | Path, labels: pa.Table) -> int:
    """Write the rows of ``labels`` whose (request_id, classifier) is new; returns how many."""
    labels = labels.cast(LABEL_SCHEMA)
    existing = read_labels(lake_root)
    if existing.num_rows:
        known = pc.binary_join_element_wise(existing["request_id"], existing["classifier"], "\x1f")
        keys = pc.binary_join_element_wise(labels["request_id"], labels["classifier"], "\x1f")
        labels = labels.filter(pc.invert(pc.is_in(keys, value_set=known)))
    # Repeats inside one batch: keep the first.
    if labels.num_rows:
        keys = pc.binary_join_element_wise(labels["request_id"], labels["classifier"], "\x1f").to_pylist()
        seen: set[str] = set()
        first = [not (k in seen or seen.add(k)) for k in keys]  # type: ignore[func-returns-value]
        labels = labels.filter(pa.array(first))
    if not labels.num_rows:
        return 0
    out = labels_dir(lake_root)
    out.mkdir(parents=True, exist_ok=True)
    name = uuid.uuid4().hex
    tmp = out / f".{name}.tmp"
    pq.write_table(labels, tmp, compression="zstd")
    os.replace(tmp, out / f"part-{name}.parquet")
    return labels.num_rows
