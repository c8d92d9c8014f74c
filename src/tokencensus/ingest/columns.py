"""Typed columns out of log values, with failures isolated to the rows that have them.

Logs are text (CSV) or loosely typed (JSON). Arrow's casts are fast but fail a whole batch on one
bad value, so every parser here tries the vectorised cast first and, only when it fails, splits
the batch in halves until the failing rows are found; those become null and are reported in a
boolean mask (``True`` = the value was present but could not be read), so that the reader can
quarantine exactly those rows and keep every good one. Null in gives null out, never a failure.

Accepted spellings:

* integers: ``12``, ``" 12 "``, ``12.0`` (an integral float); not ``12.5``
* numbers: anything :func:`float` reads; ``nan`` counts as missing (null)
* booleans: true/false, t/f, yes/no, y/n, 1/0 (any case)
* timestamps: ISO 8601 with or without ``T``, fraction and offset (``Z``, ``+00``, ``+02:00``),
  a date alone, or epoch numbers (seconds, milliseconds, microseconds or nanoseconds, told apart by
  magnitude); a naive timestamp is read as UTC. With ``fmt`` (a ``strptime`` format, or ``epoch_s``,
  ``epoch_ms``, ``epoch_us``, ``epoch_ns``) only that form is accepted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Mask = np.ndarray | None
"""Per-row failure mask (numpy bool), or None when no row failed."""

TS_TYPE = pa.timestamp("us", tz="UTC")
_LEAF = 64  # below this many rows, find failures value by value in Python
_FAIL = object()
_EPOCH_UNITS = {"epoch_s": 1_000_000, "epoch_ms": 1_000, "epoch_us": 1, "epoch_ns": 0.001}
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def as_text(arr: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, Mask]:
    """Strings; binary values that are not valid UTF-8 fail; an empty string is missing (null).
    Numbers and booleans are written out."""
    out, mask = _as_text(_array(arr))
    # binary_length is cheap (offsets only): compare strings only when an empty one exists.
    if len(out) > out.null_count and pc.min(pc.binary_length(out)).as_py() == 0:
        empty = pc.equal(out, "")
        out = pc.if_else(empty, pa.scalar(None, pa.string()), out)
    return out, mask


def _as_text(arr: pa.Array) -> tuple[pa.Array, Mask]:
    if pa.types.is_string(arr.type) or pa.types.is_null(arr.type):
        return arr.cast(pa.string()), None
    if pa.types.is_large_string(arr.type):
        return arr.cast(pa.string()), None
    if pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type):
        return _isolate(arr, lambda a: a.cast(pa.string()), _text_leaf, pa.string())
    if pa.types.is_dictionary(arr.type):
        return _as_text(arr.cast(arr.type.value_type))
    try:
        return arr.cast(pa.string()), None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([None if v is None else str(v) for v in arr.to_pylist()], pa.string()), None


def as_int(arr: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, Mask]:
    """int64 values."""
    arr = _array(arr)
    if pa.types.is_integer(arr.type) or pa.types.is_null(arr.type) or pa.types.is_boolean(arr.type):
        return arr.cast(pa.int64()), None
    if pa.types.is_floating(arr.type):
        arr = _nan_to_null(arr)
    return _isolate(arr, lambda a: a.cast(pa.int64()), _int_leaf, pa.int64())


def as_float(arr: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, Mask]:
    """float64 values; NaN is read as missing."""
    arr = _array(arr)
    if pa.types.is_floating(arr.type):
        return _nan_to_null(arr.cast(pa.float64())), None
    if pa.types.is_integer(arr.type) or pa.types.is_null(arr.type) or pa.types.is_decimal(arr.type):
        return arr.cast(pa.float64()), None
    out, mask = _isolate(arr, lambda a: a.cast(pa.float64()), _float_leaf, pa.float64())
    return _nan_to_null(out), mask


def as_bool(arr: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, Mask]:
    """Booleans."""
    arr = _array(arr)
    if pa.types.is_boolean(arr.type) or pa.types.is_null(arr.type):
        return arr.cast(pa.bool_()), None
    if pa.types.is_integer(arr.type):
        return _isolate(arr, _int_to_bool, _bool_leaf, pa.bool_())
    return _isolate(arr, lambda a: _strict_bool(a), _bool_leaf, pa.bool_())


def as_timestamp(arr: pa.Array | pa.ChunkedArray, fmt: str | None = None) -> tuple[pa.Array, Mask]:
    """UTC timestamps (microseconds); see the module docstring for the forms read."""
    arr = _array(arr)
    t = arr.type
    if pa.types.is_timestamp(t):
        if t.tz is None:
            return pc.assume_timezone(arr, "UTC").cast(TS_TYPE), None
        return arr.cast(TS_TYPE), None
    if pa.types.is_date(t):
        return arr.cast(pa.timestamp("us")).cast(TS_TYPE), None
    if pa.types.is_null(t):
        return arr.cast(TS_TYPE), None
    if fmt in _EPOCH_UNITS:
        numbers, mask = as_float(arr) if not pa.types.is_integer(t) else (arr, None)
        return _merge(_epoch_mask(numbers, _EPOCH_UNITS[fmt]), mask)
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return _epoch_mask(arr, None)
    text, mask = as_text(arr)
    if fmt:
        return _merge(_strptime(text, fmt), mask)
    sample = _first_value(text)
    if sample is None:
        return text.cast(TS_TYPE), mask
    if _EPOCH_TEXT.match(sample) and pc.all(pc.match_substring_regex(text, _EPOCH_TEXT.pattern)).as_py():
        numbers, bad = as_float(text)
        return _merge(_merge(_epoch_mask(numbers, None), bad), mask)
    # A failed cast costs as much as a good one: try first the form the first value has.
    cast = _tz_cast if _HAS_OFFSET.search(sample) else _iso_cast
    return _merge(_isolate(text, cast, _ts_leaf, TS_TYPE), mask)


def ms_between(start: pa.Array, end: pa.Array | None) -> pa.Array | None:
    """Milliseconds from ``start`` to ``end`` (timestamps); negative spans (clock skew) are null."""
    if end is None:
        return None
    micros = pc.subtract(end.cast(pa.int64()), start.cast(pa.int64()))
    ms = pc.divide(micros.cast(pa.float64()), 1000.0)
    return pc.if_else(pc.less(ms, 0), pa.scalar(None, pa.float64()), ms)


def failed(mask: Mask) -> int:
    """How many rows a mask marks as failed."""
    return 0 if mask is None else int(mask.sum())


# -- internals --------------------------------------------------------------------------------------


def _array(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        return arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr


def _merge(result: tuple[pa.Array, Mask], mask: Mask) -> tuple[pa.Array, Mask]:
    out, other = result
    if mask is None:
        return out, other
    if other is None:
        return out, mask
    return out, mask | other


def _isolate(
    arr: pa.Array,
    cast: Callable[[pa.Array], pa.Array],
    leaf: Callable[[object], object],
    out_type: pa.DataType,
) -> tuple[pa.Array, Mask]:
    """``cast(arr)``; when it fails, bisect to the failing rows and read those with ``leaf``."""
    try:
        return cast(arr), None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, ValueError, OverflowError):
        pass
    n = len(arr)
    if n <= _LEAF:
        out: list[object] = []
        bad = np.zeros(n, dtype=bool)
        for i, value in enumerate(arr.to_pylist()):
            result = None if value is None else leaf(value)
            if result is _FAIL:
                bad[i] = True
                result = None
            out.append(result)
        return pa.array(out, out_type), (bad if bad.any() else None)
    mid = n // 2
    left, lmask = _isolate(arr.slice(0, mid), cast, leaf, out_type)
    right, rmask = _isolate(arr.slice(mid), cast, leaf, out_type)
    if lmask is None and rmask is None:
        mask = None
    else:
        mask = np.concatenate(
            [
                lmask if lmask is not None else np.zeros(mid, dtype=bool),
                rmask if rmask is not None else np.zeros(n - mid, dtype=bool),
            ]
        )
    return pa.concat_arrays([left, right]), mask


def _decode(value: object) -> str | object:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return _FAIL
    return value


def _text_leaf(value: object) -> object:
    return _decode(value)


def _int_leaf(value: object) -> object:
    value = _decode(value)
    if value is _FAIL:
        return _FAIL
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else _FAIL
    try:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            try:
                return _int_leaf(int(value))
            except ValueError:
                pass
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _FAIL
    if math.isnan(number):
        return None
    if not math.isfinite(number) or not number.is_integer():
        return _FAIL
    return _int_leaf(int(number))


def _float_leaf(value: object) -> object:
    value = _decode(value)
    if value is _FAIL:
        return _FAIL
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _FAIL
    return None if math.isnan(number) else number


def _bool_leaf(value: object) -> object:
    value = _decode(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        if not word:
            return None
    return _FAIL


def _int_to_bool(arr: pa.Array) -> pa.Array:
    if pc.all(pc.is_in(arr, value_set=pa.array([0, 1], arr.type))).as_py() is False:
        raise ValueError("not 0/1")
    return pc.not_equal(arr, 0)


def _strict_bool(arr: pa.Array) -> pa.Array:
    # Arrow's cast reads true/false/1/0 only, which is what nearly every log writes.
    return arr.cast(pa.string()).cast(pa.bool_())


def _nan_to_null(arr: pa.Array) -> pa.Array:
    if not pa.types.is_floating(arr.type) or arr.null_count == len(arr):
        return arr
    nan = pc.is_nan(arr)
    if not pc.any(nan).as_py():
        return arr
    return pc.if_else(nan, pa.scalar(None, arr.type), arr)


_MAX_US = 253_402_300_799_999_999  # 9999-12-31 23:59:59.999999


def _epoch(numbers: pa.Array, per_unit_us: float | None) -> pa.Array:
    """Epoch numbers to timestamps; unit given, or told by magnitude (s, ms, us, ns). A number whose
    time falls before 1970 (a negative epoch) or after 9999 (a 22-digit value, an overflow) is null;
    see :func:`_epoch_mask`."""
    return _epoch_mask(numbers, per_unit_us)[0]


def _epoch_mask(numbers: pa.Array, per_unit_us: float | None) -> tuple[pa.Array, Mask]:
    """:func:`_epoch` and the mask of the present numbers that are no time (out of range)."""
    valid = np.asarray(pc.is_valid(numbers).to_numpy(zero_copy_only=False), dtype=bool)
    if pa.types.is_integer(numbers.type):
        values = numbers.cast(pa.int64()).fill_null(0).to_numpy()
    else:
        values = numbers.cast(pa.float64()).fill_null(0.0).to_numpy()
    size = np.abs(values.astype(np.float64))
    if per_unit_us is None:
        unit = np.select([size < 1e11, size < 1e14, size < 1e17], [0, 1, 2], 3)
    else:
        unit = np.full(len(values), {1_000_000: 0, 1_000: 1, 1: 2}.get(int(per_unit_us), 3))
    with np.errstate(invalid="ignore", over="ignore"):
        approx = values.astype(np.float64) * np.choose(unit, [1e6, 1e3, 1.0, 1e-3])
        # Before 1970 (a negative epoch) or past year 9999 (a 22-digit number): not a time of a request.
        bad = valid & ~(np.isfinite(approx) & (approx >= 0) & (approx <= _MAX_US))
        if bad.any():
            values = np.where(bad, 0, values)
            valid = valid & ~bad
        if values.dtype.kind == "i":
            us = np.select(
                [unit == 0, unit == 1, unit == 2],
                [values * 1_000_000, values * 1_000, values],
                values // 1000,
            )
        else:
            us = np.round(values * np.choose(unit, [1e6, 1e3, 1.0, 1e-3])).astype(np.int64)
    return pa.array(us, pa.int64(), mask=~valid).cast(TS_TYPE), (bad if bad.any() else None)


_EPOCH_TEXT = re.compile(r"^\s*\d+(\.\d+)?\s*$")
_HAS_OFFSET = re.compile(r"(Z|[+-]\d\d(:?\d\d)?)\s*$")


def _first_value(arr: pa.Array) -> str | None:
    valid = arr.drop_null()
    return valid[0].as_py() if len(valid) else None


def _tz_cast(arr: pa.Array) -> pa.Array:
    try:
        return arr.cast(TS_TYPE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pc.assume_timezone(arr.cast(pa.timestamp("us")), "UTC").cast(TS_TYPE)


def _iso_cast(arr: pa.Array) -> pa.Array:
    try:
        return pc.assume_timezone(arr.cast(pa.timestamp("us")), "UTC").cast(TS_TYPE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return arr.cast(TS_TYPE)


def _ts_leaf(value: object) -> object:
    if not isinstance(value, str):
        return _FAIL
    text = value.strip()
    if not text:
        return None
    if text.lstrip("-").replace(".", "", 1).isdigit():
        number = float(text)
        if len(text) > 20 or not math.isfinite(number):
            return _FAIL
        out, bad = _epoch_mask(pa.array([int(number) if "." not in text else number]), None)
        return _FAIL if bad is not None else out[0].as_py()
    for suffix in (" UTC", " GMT", "UTC"):
        if text.endswith(suffix):
            text = text[: -len(suffix)].rstrip() + "+00:00"
            break
    # Python reads at most microseconds; trim nanosecond fractions.
    head, dot, rest = text.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        if digits > 6:
            text = head + "." + rest[:6] + rest[digits:]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return _FAIL
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _strptime(text: pa.Array, fmt: str) -> tuple[pa.Array, Mask]:
    parsed = pc.strptime(text, format=fmt, unit="us", error_is_null=True)
    if parsed.type.tz is None:
        parsed = pc.assume_timezone(parsed, "UTC")
    parsed = parsed.cast(TS_TYPE)
    bad = pc.and_(pc.is_valid(text), pc.is_null(parsed))
    mask = np.asarray(bad.to_numpy(zero_copy_only=False), dtype=bool)
    return parsed, (mask if mask.any() else None)
