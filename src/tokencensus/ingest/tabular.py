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
from tokencensus.ingest.streams import Reject

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
