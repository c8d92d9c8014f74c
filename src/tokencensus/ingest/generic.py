"""Generic CSV and Parquet logs, with a column mapping; canonical Parquet is the identity mapping.

A mapping names, for each canonical column, the source column that holds it, or a constant written
``=value``; canonical columns the file already has by name need no entry. It comes from
``--mapping FILE`` (see :func:`load_mapping`)::

    # mapping.toml
    request_id = "id"
    ts = "created"
    model = "model_name"
    input_tokens = "prompt_tokens"
    output_tokens = "completion_tokens"
    provider = "=openai"            # a constant for every row
    ts_format = "%d/%m/%Y %H:%M"    # optional: strptime pattern, or epoch_s / epoch_ms / epoch_us / epoch_ns

(The same keys may sit under a ``[columns]`` table, and JSON works as well as TOML.) Columns the
mapping does not mention are ignored; ``request_id``, ``ts`` and ``model`` must be found.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tokencensus.errors import ConfigError, InputError
from tokencensus.ingest.format import Batch, ReadOptions
from tokencensus.ingest.streams import csv_batches, csv_header
from tokencensus.ingest.tabular import Mapper
from tokencensus.schema import EVENT_SCHEMA, REQUIRED

PARQUET_BATCH_ROWS = 262_144
"""Rows read from a Parquet file at a time."""

KINDS: dict[str, str] = {
    "request_id": "text",
    "ts": "ts",
    "user_id": "text",
    "app": "text",
    "model": "text",
    "model_raw": "text",
    "provider": "text",
    "input_tokens": "int",
    "output_tokens": "int",
    "reasoning_tokens": "int",
    "cached_tokens": "int",
    "finish_reason": "text",
    "tool_calls": "int",
    "streamed": "bool",
    "latency_ms": "float",
    "ttft_ms": "float",
    "cost_usd": "float",
    "country": "text",
    "requests": "int",
    "tokens_estimated": "bool",
}
"""How each canonical column is parsed from a source column."""

OPTION_KEYS = ("ts_format",)
"""Keys of a mapping file that are options, not columns."""


def load_mapping(path: Path) -> dict[str, str]:
    """Read a mapping file (TOML or JSON): canonical column → source column or ``=constant``.

    Raises :class:`ConfigError` naming the file and the bad key.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"mapping file {path} cannot be read ({exc})") from exc
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
        raise ConfigError(f"mapping file {path} is not valid {kind}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"mapping file {path} must hold a table of column = source pairs")
    flat: dict[str, object] = {}
    for key, value in data.items():
        if key in ("columns", "options") and isinstance(value, dict):
            flat.update(value)
        else:
            flat[key] = value
    mapping: dict[str, str] = {}
    for key, value in flat.items():
        if key not in KINDS and key not in OPTION_KEYS:
            raise ConfigError(
                f"mapping file {path}: {key!r} is not a canonical column; use one of "
                f"{', '.join(KINDS)} (or ts_format)"
            )
        if not isinstance(value, str) or not value:
            raise ConfigError(
                f"mapping file {path}: {key} must be a column name (or =constant), not {value!r}"
            )
        mapping[key] = value
    return mapping


def split_mapping(mapping: dict[str, str]) -> tuple[dict[str, str], str | None]:
    """(column mapping, ts_format) from a mapping as :func:`load_mapping` returns it."""
    columns = {k: v for k, v in mapping.items() if k not in OPTION_KEYS}
    return columns, mapping.get("ts_format")


def resolve_columns(available: list[str], mapping: dict[str, str], path: Path, what: str) -> dict[str, str]:
    """canonical → source column (or ``=constant``) for this file, checked against its columns."""
    out = {name: name for name in KINDS if name in available}
    for target, source in mapping.items():
        if target not in KINDS:
            raise ConfigError(f"mapping: {target!r} is not a canonical column; use one of {', '.join(KINDS)}")
        if not source.startswith("=") and source not in available:
            raise InputError(
                f"{path}: the mapping reads {target} from column {source!r}, which the file does not have; "
                f"its columns are {', '.join(available)}"
            )
        out[target] = source
    if "model_raw" in out and "model" in out and out["model"] == "model" and "model" not in mapping:
        del out["model"]  # canonical input: the raw name is what gets resolved
    missing = [c for c in REQUIRED if c not in out and not (c == "model" and "model_raw" in out)]
    if missing:
        raise InputError(
            f"{path}: {what} needs the column(s) {', '.join(missing)} but the file has "
            f"{', '.join(available) or 'none'}; give a column mapping with --mapping FILE "
            '(canonical = "source column" lines, see `tokencensus ingest --help`)'
        )
    return out


def map_canonical(m: Mapper, columns: dict[str, str]) -> None:
    """Set every mapped canonical column on ``m``."""
    for target, source in columns.items():
        dest = "model_raw" if target == "model" else target
        if source.startswith("="):
            set_constant(m, dest, source[1:])
            continue
        kind = KINDS[target]
        values = m.text(source, dest) if kind == "text" else getattr(m, kind)(source, dest)
        m.set(dest, values)


def set_constant(m: Mapper, target: str, text: str) -> None:
    kind = KINDS["model" if target == "model_raw" else target]
    from tokencensus.ingest import columns as parse

    one = pa.array([text], pa.string())
    parsers = {
        "int": parse.as_int,
        "float": parse.as_float,
        "bool": parse.as_bool,
        "ts": parse.as_timestamp,
        "text": parse.as_text,
    }
    value, bad = parsers[kind](one)
    if bad is not None:
        raise ConfigError(f"mapping: the constant {text!r} for {target} is not {kind}")
    m.set(target, pa.repeat(value[0], m.n))


def read_csv(path: Path, options: ReadOptions) -> Iterator[Batch]:
    """A CSV log with canonical column names, or mapped with ``options.mapping``."""
    mapping, ts_format = split_mapping(options.mapping)
    columns = resolve_columns(csv_header(path), mapping, path, "a generic CSV log")
    sources = sorted({s for s in columns.values() if not s.startswith("=")})
    for raw in csv_batches(path, sources):
        m = Mapper(raw.table, ts_format=ts_format or options.ts_format)
        map_canonical(m, columns)
        yield m.batch(raw.rows, raw.rejects)


def parquet_file(path: Path) -> pq.ParquetFile:
    """Open a Parquet file, or an :class:`InputError` saying why not."""
    try:
        return pq.ParquetFile(path)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from exc


def parquet_batches(path: Path, columns: list[str] | None) -> Iterator[tuple[pa.Table, np.ndarray]]:
    """Stream a Parquet file: (table, 1-based row numbers) per batch."""
    handle = parquet_file(path)
    row = 1
    try:
        for batch in handle.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns):
            n = batch.num_rows
            yield pa.Table.from_batches([batch]), np.arange(row, row + n, dtype=np.int64)
            row += n
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path}: reading stopped near row {row}: {exc}") from exc


def read_parquet(path: Path, options: ReadOptions) -> Iterator[Batch]:
    """A Parquet log: canonical columns (the simulator's output, another lake's files), or mapped."""
    mapping, ts_format = split_mapping(options.mapping)
    available = parquet_file(path).schema_arrow.names
    columns = resolve_columns(available, mapping, path, "a Parquet log")
    sources = sorted({s for s in columns.values() if not s.startswith("=")})
    for table, rows in parquet_batches(path, sources):
        m = Mapper(table, ts_format=ts_format or options.ts_format)
        map_canonical(m, columns)
        yield m.batch(rows)


CANONICAL_COLUMNS = tuple(f.name for f in EVENT_SCHEMA)
