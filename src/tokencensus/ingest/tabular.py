"""Mapping a table of source columns onto the canonical columns, one parsed column at a time.

A :class:`Mapper` wraps one raw batch (CSV columns as bytes, or values pulled out of JSON records);
each ``text``/``int``/``float``/``bool``/``ts`` call parses one source column and remembers, per row,
the first canonical field that could not be parsed. :meth:`Mapper.batch` hands the result over as a
:class:`~tokencensus.ingest.format.Batch`. Source columns that are absent read as None, so a format
can list alternatives (``m.text("model_permaslug") or m.text("model")``) via :meth:`Mapper.first`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tokencensus.ingest import columns
from tokencensus.ingest.format import Batch, RowErrors, unset
from tokencensus.ingest.samples import samples_table
from tokencensus.ingest.streams import Reject

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
    "error_type": "text",
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

RECORD_COLUMNS: dict[str, str] = {
    "request_id": "request_id",
    "ts": "ts",
    "user": "user_id",
    "app": "app",
    "model": "model_raw",
    "provider": "provider",
    "input": "input_tokens",
    "output": "output_tokens",
    "cached": "cached_tokens",
    "reasoning": "reasoning_tokens",
    "finish": "finish_reason",
    "error_type": "error_type",
    "tool_calls": "tool_calls",
    "streamed": "streamed",
    "latency": "latency_ms",
    "ttft": "ttft_ms",
    "cost": "cost_usd",
}
"""The names the JSON record readers (OpenAI, Anthropic) pull values out under, and the canonical
column each becomes (:meth:`Mapper.map_columns`)."""

_WHAT = {
    "text": "valid UTF-8 text",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "ts": "a timestamp",
}


class Mapper:
    """Builds canonical columns from one raw batch."""

    def __init__(self, raw: pa.Table, *, ts_format: str | None = None) -> None:
        self.raw = raw
        self.n = raw.num_rows
        self.ts_format = ts_format
        self.columns: dict[str, pa.Array] = {}
        self._text: dict[str, pa.Array] = {}
        self._field: np.ndarray | None = None
        self._reason: np.ndarray | None = None

    # -- reading source columns -------------------------------------------------------------------
    def has(self, name: str) -> bool:
        """True when the raw batch has this source column."""
        return name in self.raw.column_names

    def text(self, name: str, field: str | None = None) -> pa.Array | None:
        """Source column ``name`` as strings (None when absent)."""
        if name not in self.raw.column_names:
            return None
        if name not in self._text:
            out, mask = columns.as_text(self.raw.column(name))
            self._fail(mask, field or name, f"{field or name} (column {name!r}) is not {_WHAT['text']}")
            self._text[name] = out
        return self._text[name]

    def int(self, name: str, field: str) -> pa.Array | None:
        """Source column as int64."""
        return self._parse(name, field, "int", columns.as_int)

    def float(self, name: str, field: str) -> pa.Array | None:
        """Source column as float64."""
        return self._parse(name, field, "float", columns.as_float)

    def bool(self, name: str, field: str) -> pa.Array | None:
        """Source column as booleans."""
        return self._parse(name, field, "bool", columns.as_bool)

    def ts(self, name: str, field: str = "ts") -> pa.Array | None:
        """Source column as UTC timestamps."""
        return self._parse(name, field, "ts", lambda a: columns.as_timestamp(a, self.ts_format))

    def parse(self, name: str, target: str) -> pa.Array | None:
        """Source column ``name`` parsed as canonical column ``target`` is (see :data:`KINDS`)."""
        kind = KINDS[target]
        return self.text(name, target) if kind == "text" else getattr(self, kind)(name, target)

    def map_columns(self, columns: dict[str, str]) -> None:
        """Set each canonical column from its source column (source → canonical name)."""
        for name, target in columns.items():
            self.set(target, self.parse(name, target))

    def set_times(self, start: str, end: str, first_token: str | None = None) -> pa.Array | None:
        """``ts`` from the start column; ``latency_ms`` (and ``ttft_ms``) from the end (and first-token)
        time columns. Returns the start times."""
        ts = self.ts(start)
        self.set("ts", ts)
        if ts is not None:
            self.set("latency_ms", columns.ms_between(ts, self.ts(end, "latency_ms")))
            if first_token is not None:
                self.set("ttft_ms", columns.ms_between(ts, self.ts(first_token, "ttft_ms")))
        return ts

    def set_usage(self, input_tokens: str, output_tokens: str) -> None:
        """Input and output tokens from these columns. A request whose usage the log does not give (a
        failed request, a stream without a usage chunk) is still a request: 0 tokens, not a gap."""
        for name, target in ((input_tokens, "input_tokens"), (output_tokens, "output_tokens")):
            parsed = self.int(name, target)
            self.set(target, pa.repeat(pa.scalar(0), self.n) if parsed is None else pc.fill_null(parsed, 0))

    def set_finish(self, finish: str, failed: str) -> None:
        """``finish_reason`` from the ``finish`` column, ``error`` where the ``failed`` column is true."""
        reason = self.text(finish, "finish_reason")
        flag = self.bool(failed, "finish_reason")
        if flag is not None:
            fallback = reason if reason is not None else pa.nulls(self.n, pa.string())
            reason = pc.if_else(pc.fill_null(flag, False), "error", fallback)
        self.set("finish_reason", reason)

    def first(self, kind: str, names: Sequence[str], field: str) -> pa.Array | None:
        """The first non-null value among several source columns (coalesce), parsed as ``kind``."""
        parsed = [getattr(self, kind)(n, field) if kind != "text" else self.text(n, field) for n in names]
        present = [p for p in parsed if p is not None]
        if not present:
            return None
        if len(present) == 1:
            return present[0]
        return pc.coalesce(*present)

    def _parse(
        self, name: str, field: str, kind: str, parse: Callable[[Any], tuple[pa.Array, Any]]
    ) -> pa.Array | None:
        if name not in self.raw.column_names:
            return None
        column = self.raw.column(name)
        if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
            source: Any = self.text(name, field)
        else:
            source = column
        out, mask = parse(source)
        self._fail(mask, field, f"{field} (column {name!r}) is not {_WHAT[kind]}")
        return out

    # -- writing canonical columns ----------------------------------------------------------------
    def set(self, target: str, values: pa.Array | pa.ChunkedArray | None) -> None:
        """Set canonical column ``target`` (None: leave it to the schema's default)."""
        if values is not None:
            self.columns[target] = values

    def constant(self, target: str, value: object, type_: pa.DataType) -> None:
        """Set a canonical column to one value on every row."""
        self.columns[target] = (
            pa.array([value] * self.n, type_) if value is not None else pa.nulls(self.n, type_)
        )

    def fail(self, mask: np.ndarray | pa.Array | None, field: str, reason: str) -> None:
        """Mark rows as unparseable (when not already marked)."""
        if isinstance(mask, pa.Array | pa.ChunkedArray):
            mask = np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)
        self._fail(mask, field, reason)

    def _fail(self, mask: np.ndarray | None, field: str, reason: str) -> None:
        if mask is None or not mask.any():
            return
        if self._field is None or self._reason is None:
            self._field = np.full(self.n, None, dtype=object)
            self._reason = np.full(self.n, None, dtype=object)
        new = mask & (unset(self._field) == 1)
        self._field[new] = field
        self._reason[new] = reason

    # -- result ---------------------------------------------------------------------------------------
    def records(self) -> pa.Table:
        """The raw batch with every column as text (what the quarantine stores for a bad row)."""
        cols = {}
        for name in self.raw.column_names:
            column = self.raw.column(name)
            if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
                cols[name] = self.text(name)
            else:
                cols[name] = column
        return pa.table(cols) if cols else pa.table({"_": pa.nulls(self.n)})

    def table(self) -> pa.Table:
        """The canonical columns set so far."""
        if not self.columns:
            return pa.table({"_row": pa.nulls(self.n)}).drop(["_row"])
        return pa.table(self.columns)

    def errors(self) -> RowErrors | None:
        """The rows that failed to parse, or None."""
        if self._field is None or self._reason is None:
            return None
        return RowErrors(self._field, self._reason)

    def request_batch(
        self, rows: list[Any] | np.ndarray, rejects: list[Reject], prompts: list[str | None]
    ) -> Batch:
        """The batch of a reader that read one request a record: the line of each, the lines it
        rejected, and each request's prompt text (for the samples table only)."""
        ids = self.columns["request_id"].to_pylist() if "request_id" in self.columns else [None] * self.n
        return self.batch(np.array(rows, dtype=np.int64), rejects, samples=samples_table(ids, prompts))

    def batch(
        self,
        rows: np.ndarray,
        rejects: list[Reject] | None = None,
        *,
        samples: pa.Table | None = None,
        records: pa.Table | None = None,
    ) -> Batch:
        """The mapped batch."""
        return Batch(
            table=self.table(),
            rows=rows,
            records=records if records is not None else self.records(),
            errors=self.errors(),
            rejects=list(rejects or []),
            samples=samples,
        )


def py_column(values: list[Any]) -> pa.Array:
    """An Arrow array from Python values pulled out of JSON; mixed types fall back to strings.

    Numbers written as strings, objects and lists become their JSON text; the typed parsers then
    read them (and report the rows that do not parse).
    """
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        import json

        return pa.array(
            [None if v is None else v if isinstance(v, str) else json.dumps(v, default=str) for v in values],
            pa.string(),
        )


def raw_table(records: dict[str, list[Any]], n: int) -> pa.Table:
    """A raw table from column lists (see :func:`py_column`); all-null columns are typed null."""
    cols = {name: py_column(values) for name, values in records.items()}
    if not cols:
        return pa.table({"_": pa.nulls(n)}).drop(["_"]) if n == 0 else pa.table({"_": pa.nulls(n)})
    return pa.table(cols)
