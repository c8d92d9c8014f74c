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
    latency_ms = "duration"
    provider = "=openai"            # a constant for every row
    ts_format = "%d/%m/%Y %H:%M"    # optional: strptime pattern, or epoch_s / epoch_ms / epoch_us / epoch_ns
    latency_unit = "s"              # optional: the unit of the latency and ttft columns (s, ms, us, ns)

    [where]                         # optional: keep only the rows whose column holds one of the values
    type = "GENERATION"             # (or a list: type = ["GENERATION", "generation"])

(The column keys may also sit under a ``[columns]`` table, the options under ``[options]``, and JSON
works as well as TOML.) Columns the mapping does not mention are ignored; ``request_id``, ``ts`` and
``model`` must be found. Rows that ``where`` leaves out are not requests: the summary counts them as
skipped. Constants work with every format: for the other formats they fill what the log leaves out
(``provider = "=ollama"``, a ``ts`` for undated records).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tokencensus.errors import ConfigError, InputError
from tokencensus.ingest.format import Batch, ReadOptions
from tokencensus.ingest.streams import Reject, csv_batches, csv_header
from tokencensus.ingest.tabular import KINDS, Mapper
from tokencensus.schema import EVENT_SCHEMA, REQUIRED

PARQUET_BATCH_ROWS = 262_144
"""Rows read from a Parquet file at a time."""

OPTION_KEYS = ("ts_format", "latency_unit")
"""Keys of a mapping file that are options, not columns (besides the ``[where]`` table)."""
WHERE_PREFIX = "where."
"""A mapping entry ``where.<column>`` holds the values (newline-separated) that keep a row."""
LATENCY_UNITS: dict[str, float] = {"ms": 1.0, "s": 1000.0, "us": 0.001, "ns": 1e-6}
"""``latency_unit`` values and their factor to milliseconds."""
_LATENCY_COLUMNS = ("latency_ms", "ttft_ms")


@dataclass(frozen=True)
class MappingOptions:
    """A mapping taken apart: canonical column → source column or ``=constant``, and the options."""

    columns: dict[str, str] = field(default_factory=dict)
    ts_format: str | None = None
    latency_unit: str = "ms"
    where: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def constants(self) -> dict[str, str]:
        """canonical column → constant text, for the ``=value`` entries."""
        return {k: v[1:] for k, v in self.columns.items() if v.startswith("=")}


def load_mapping(path: Path) -> dict[str, str]:
    """Read a mapping file (TOML or JSON): canonical column → source column or ``=constant``, the
    options, and ``where.<column>`` entries for the ``[where]`` table.

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
        elif key == "where" and isinstance(value, dict):
            for column, wanted in value.items():
                values = wanted if isinstance(wanted, list) else [wanted]
                if not values or not all(isinstance(v, str | int) and "\n" not in str(v) for v in values):
                    raise ConfigError(
                        f"mapping file {path}: where.{column} must be a value or a list of values, "
                        f"not {wanted!r}"
                    )
                flat[WHERE_PREFIX + column] = "\n".join(str(v) for v in values)
        else:
            flat[key] = value
    mapping: dict[str, str] = {}
    for key, value in flat.items():
        if key not in KINDS and key not in OPTION_KEYS and not key.startswith(WHERE_PREFIX):
            raise ConfigError(
                f"mapping file {path}: {key!r} is not a canonical column; use one of "
                f"{', '.join(KINDS)} (or the options {', '.join(OPTION_KEYS)}, or a [where] table)"
            )
        if not isinstance(value, str) or not value:
            raise ConfigError(
                f"mapping file {path}: {key} must be a column name (or =constant), not {value!r}"
            )
        mapping[key] = value
    try:
        split_mapping(mapping)  # checks the options' values
    except ConfigError as exc:
        raise ConfigError(f"mapping file {path}: {str(exc).removeprefix('mapping: ')}") from None
    return mapping


def split_mapping(mapping: dict[str, str]) -> MappingOptions:
    """The :class:`MappingOptions` of a mapping as :func:`load_mapping` returns it."""
    unit = mapping.get("latency_unit", "ms")
    if unit not in LATENCY_UNITS:
        raise ConfigError(f"mapping: latency_unit must be one of {', '.join(LATENCY_UNITS)}, not {unit!r}")
    check_ts_format(mapping.get("ts_format"))
    return MappingOptions(
        columns={k: v for k, v in mapping.items() if k in KINDS},
        ts_format=mapping.get("ts_format"),
        latency_unit=unit,
        where={
            k.removeprefix(WHERE_PREFIX): tuple(v.split("\n"))
            for k, v in mapping.items()
            if k.startswith(WHERE_PREFIX)
        },
    )


EPOCH_FORMATS = ("epoch_s", "epoch_ms", "epoch_us", "epoch_ns")
_STRPTIME_CODES = set("aAbBcdDeFHIjmMnpRStTyYzZf%")
_DIRECTIVE = re.compile(r"%(.?)")


def check_ts_format(fmt: str | None) -> None:
    """A :class:`ConfigError` naming ``fmt`` unless it is an epoch unit or a strptime pattern with
    known codes (``%Y-%m-%d %H:%M:%S``); checked before anything is read."""
    if fmt is None or fmt in EPOCH_FORMATS:
        return
    codes = _DIRECTIVE.findall(fmt)
    unknown = sorted({f"%{c}" for c in codes if c not in _STRPTIME_CODES})
    if not codes or unknown or not set(codes) & set("YyjDFsbBdmeRTHM"):
        why = (
            f"unknown code(s) {', '.join(unknown)}"
            if unknown
            else "it has no date or time code (%Y, %m, %d, %H ...)"
        )
        raise ConfigError(
            f"mapping: ts_format {fmt!r} is not a valid timestamp pattern ({why}); use strptime codes "
            f"such as '%Y-%m-%d %H:%M:%S', or one of {', '.join(EPOCH_FORMATS)}"
        )


def _check_ts_matches(table: pa.Table, source: str | None, fmt: str | None, path: Path) -> None:
    """A :class:`ConfigError` when ``fmt`` reads none of the timestamps of a file's first batch (the
    pattern is wrong, not the rows): failing fast beats quarantining every row."""
    if (
        not fmt
        or fmt in EPOCH_FORMATS
        or not source
        or source.startswith("=")
        or source not in table.column_names
    ):
        return
    from tokencensus.ingest import columns as parse

    values = table.column(source)
    present = len(values) - values.null_count
    if present == 0:
        return
    _, bad = parse.as_timestamp(values, fmt)
    if bad is not None and int(np.count_nonzero(bad)) >= present:
        raise ConfigError(
            f"{path}: ts_format {fmt!r} reads none of the {present:,} timestamps in column {source!r} of "
            "the first rows; fix the pattern in the mapping (or leave it out to detect the format)"
        )


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


def map_canonical(m: Mapper, columns: dict[str, str], latency_unit: str = "ms") -> None:
    """Set every mapped canonical column on ``m`` (latency columns converted to milliseconds)."""
    for target, source in columns.items():
        dest = "model_raw" if target == "model" else target
        if source.startswith("="):
            m.set(dest, pa.repeat(constant(dest, source[1:]), m.n))
            continue
        values = m.parse(source, dest)
        if target in _LATENCY_COLUMNS and values is not None and latency_unit != "ms":
            values = pc.multiply(values, LATENCY_UNITS[latency_unit])
        m.set(dest, values)


def constant(target: str, text: str) -> pa.Scalar:
    """The constant ``text`` parsed as canonical column ``target``'s kind, or a :class:`ConfigError`."""
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
    return value[0]


def read_csv(path: Path, options: ReadOptions) -> Iterator[Batch]:
    """A CSV log with canonical column names, or mapped with ``options.mapping``."""
    opts = split_mapping(options.mapping)
    columns = resolve_columns(csv_header(path), opts.columns, path, "a generic CSV log")
    raws = csv_batches(path, _sources(columns, opts))
    yield from _mapped(((b.table, b.rows, b.rejects) for b in raws), columns, opts, options, path)


def _sources(columns: dict[str, str], opts: MappingOptions) -> list[str]:
    return sorted({s for s in columns.values() if not s.startswith("=")} | set(opts.where))


def _mapped(
    raws: Iterator[tuple[pa.Table, np.ndarray, list[Reject]]],
    columns: dict[str, str],
    opts: MappingOptions,
    options: ReadOptions,
    path: Path,
) -> Iterator[Batch]:
    first = True
    for table, rows, rejects in raws:
        if first and table.num_rows:
            _check_ts_matches(table, columns.get("ts"), opts.ts_format or options.ts_format, path)
            first = False
        left_out = 0
        if opts.where:
            keep = _where(table, opts.where, path)
            left_out = table.num_rows - int(np.count_nonzero(keep))
            table, rows = table.filter(pa.array(keep)), rows[keep]
        m = Mapper(table, ts_format=opts.ts_format or options.ts_format)
        map_canonical(m, columns, opts.latency_unit)
        batch = m.batch(rows, rejects)
        if left_out:
            batch.skipped = {_where_note(opts.where): left_out}
        yield batch


def _where(table: pa.Table, where: dict[str, tuple[str, ...]], path: Path) -> np.ndarray:
    """True for the rows of a raw batch that the mapping's ``where`` keeps."""
    keep = np.ones(table.num_rows, dtype=bool)
    for column, values in where.items():
        if column not in table.column_names:
            raise InputError(
                f"{path}: the mapping's [where] reads column {column!r}, which the file does not have; "
                f"its columns are {', '.join(table.column_names)}"
            )
        text = table.column(column).cast(pa.string())
        match = pc.fill_null(pc.is_in(text, value_set=pa.array(values, pa.string())), False)
        keep &= np.asarray(match.to_numpy(zero_copy_only=False), dtype=bool)
    return keep


def _where_note(where: dict[str, tuple[str, ...]]) -> str:
    wanted = "; ".join(f"{c} not {' / '.join(v)}" for c, v in where.items())
    return f"rows left out by the mapping's where ({wanted})"


def parquet_file(path: Path) -> pq.ParquetFile:
    """Open a Parquet file, or an :class:`InputError` saying why not."""
    try:
        return pq.ParquetFile(path)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from exc


def parquet_columns(path: Path) -> list[str]:
    """The column names of a Parquet file, a repeated name made unique (``model``, ``model.2``):
    the first column of a name is the one read by it."""
    return _unique(parquet_file(path).schema_arrow.names)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}.{seen[name]}")
    return out


def parquet_chunks(
    path: Path, columns: list[str] | None
) -> Iterator[tuple[pa.Table, np.ndarray, list[Reject]]]:
    """Stream a Parquet file row group by row group: (table, 1-based row numbers, rejects). A row
    group that cannot be read (a corrupt page) is one :class:`Reject` naming its rows, and the read
    goes on with the next group. ``columns`` are names as :func:`parquet_columns` gives them."""
    handle = parquet_file(path)
    names = handle.schema_arrow.names
    unique = _unique(names)
    renamed = unique != names
    wanted = list(columns) if columns is not None else unique
    schema = pa.schema([f.with_name(u) for f, u in zip(handle.schema_arrow, unique, strict=True)])
    empty = schema.empty_table().select(wanted)
    groups = handle.num_row_groups
    row = 1
    for group in range(groups):
        size = handle.metadata.row_group(group).num_rows
        done = 0
        try:
            for batch in handle.iter_batches(
                batch_size=PARQUET_BATCH_ROWS, row_groups=[group], columns=None if renamed else wanted
            ):
                table = pa.Table.from_batches([batch])
                if renamed:
                    table = table.rename_columns(unique).select(wanted)
                n = table.num_rows
                yield table, np.arange(row + done, row + done + n, dtype=np.int64), []
                done += n
        except (pa.ArrowException, OSError, ValueError) as exc:
            first = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
            reason = (
                f"rows {row + done}-{row + size - 1} (row group {group + 1} of {groups}) cannot be read "
                f"({first}); skipped, the other row groups were read"
            )
            yield empty, np.array([], np.int64), [Reject(row + done, "file", reason)]
        row += size


def parquet_batches(path: Path, columns: list[str] | None) -> Iterator[tuple[pa.Table, np.ndarray]]:
    """Stream a Parquet file: (table, 1-based row numbers) per batch; an unreadable row group is an
    :class:`InputError` (after the rows before it)."""
    for table, rows, rejects in parquet_chunks(path, columns):
        if rejects:
            raise InputError(f"{path}: {rejects[0].reason}")
        yield table, rows


def read_parquet(path: Path, options: ReadOptions) -> Iterator[Batch]:
    """A Parquet log: canonical columns (the simulator's output, another lake's files), or mapped.
    A corrupt row group is quarantined as one row naming its rows; the other groups land."""
    opts = split_mapping(options.mapping)
    available = parquet_columns(path)
    columns = resolve_columns(available, opts.columns, path, "a Parquet log")
    yield from _mapped(parquet_chunks(path, _sources(columns, opts)), columns, opts, options, path)


CANONICAL_COLUMNS = tuple(f.name for f in EVENT_SCHEMA)
