"""The canonical request event: one row per request, whatever log it came from.

Column names follow the OpenTelemetry GenAI conventions where one exists (``input_tokens`` for
``gen_ai.usage.input_tokens``, ``provider`` for ``gen_ai.provider.name``). Prompt text never enters
this table. :func:`conform` casts a reader's table to the schema; :func:`validate` splits it into the
valid rows and a quarantine table with one reason per rejected row (file, row, field).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from tokencensus.errors import SchemaError, Violation

FINISH_REASONS: tuple[str, ...] = (
    "stop",
    "length",
    "tool_calls",
    "content_filter",
    "error",
    "cancelled",
    "unknown",
)
"""The normalised finish reasons; readers map their log's values onto these."""

FINISH_REASON_TYPE = pa.dictionary(pa.int8(), pa.string())

EVENT_SCHEMA = pa.schema(
    [
        pa.field("request_id", pa.string(), nullable=False),
        pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("user_id", pa.string()),
        pa.field("app", pa.string()),
        pa.field("model", pa.string(), nullable=False),
        pa.field("model_raw", pa.string()),
        pa.field("provider", pa.string()),
        pa.field("input_tokens", pa.int64(), nullable=False),
        pa.field("output_tokens", pa.int64(), nullable=False),
        pa.field("reasoning_tokens", pa.int64(), nullable=False),
        pa.field("cached_tokens", pa.int64(), nullable=False),
        pa.field("finish_reason", FINISH_REASON_TYPE, nullable=False),
        pa.field("error_type", pa.string()),
        pa.field("tool_calls", pa.int32(), nullable=False),
        pa.field("streamed", pa.bool_()),
        pa.field("latency_ms", pa.float64()),
        pa.field("ttft_ms", pa.float64()),
        pa.field("cost_usd", pa.float64()),
        pa.field("country", pa.string()),
        pa.field("requests", pa.int64(), nullable=False),
        pa.field("tokens_estimated", pa.bool_(), nullable=False),
    ]
)
"""The canonical request-event schema (see README, "Schema")."""

REQUIRED = ("request_id", "ts", "model")
"""Columns a reader must supply; every other column has a default."""

DEFAULTS: dict[str, object] = {
    "input_tokens": 0,
    "output_tokens": 0,
    "reasoning_tokens": 0,
    "cached_tokens": 0,
    "finish_reason": "unknown",
    "tool_calls": 0,
    "requests": 1,
    "tokens_estimated": False,
}
"""Values for non-nullable columns a log does not carry ("0 when unknown", DESIGN.md)."""

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        pa.field("row", pa.int64(), nullable=False),
        pa.field("field", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("record", pa.string()),
        pa.field("quarantined_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)
"""One row per rejected input row: where it was, the first field that failed, why, and the row as JSON."""

_TOKEN_COLUMNS = ("input_tokens", "output_tokens", "reasoning_tokens", "cached_tokens")

TS_MIN = datetime(2000, 1, 1, tzinfo=UTC)
"""Requests before this time are rejected: no LLM gateway logged them, and a year-1 or epoch-0 time
is a parsing accident that would stretch every weekly chart over centuries."""
TS_MAX = datetime(2100, 1, 1, tzinfo=UTC)
"""Requests at or after this time are rejected (year 9999 and 2262 overflow engines' nanoseconds)."""
MAX_TOKENS = 10**10
"""Token counts above this (ten billion, in one request) are rejected: no context window is near it,
and sums of such values overflow int64 in the analyses."""
MAX_COST_USD = 1_000_000.0
"""A request that cost this much or more (or an infinite or NaN cost) is rejected as a unit error."""
MAX_MS = 30 * 86_400_000.0
"""Latencies and times to first token of 30 days or more (or infinite) are rejected."""
MAX_REQUESTS = 10**12
"""A pre-aggregated row standing for more requests than this is rejected."""


def conform(table: pa.Table, source: str) -> pa.Table:
    """Return ``table`` with exactly the canonical columns, in order, cast to their types.

    Missing optional columns are filled with their default (or null); extra columns are dropped;
    a missing required column, or a column that cannot be cast, raises :class:`SchemaError` naming
    the source and the field. Row-level problems (nulls in required columns, negative tokens, ...)
    are left for :func:`validate`, so that good rows survive.
    """
    n = table.num_rows
    missing = [c for c in REQUIRED if c not in table.column_names]
    if missing:
        raise SchemaError(
            f"{source}: required column(s) {', '.join(missing)} missing; "
            f"the columns present are {', '.join(table.column_names) or 'none'}"
        )
    columns = []
    for field in EVENT_SCHEMA:
        if field.name in table.column_names:
            col = table.column(field.name)
            try:
                if field.name == "finish_reason":
                    col = _finish_reason(col)
                elif field.name == "ts" and pa.types.is_timestamp(col.type) and col.type.tz is None:
                    col = pc.assume_timezone(col, "UTC").cast(field.type)
                else:
                    col = col.cast(field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise SchemaError(
                    f"{source}: column {field.name!r} of type {col.type} cannot be read as "
                    f"{field.type}: {exc}"
                ) from exc
        elif field.name in DEFAULTS:
            col = pa.repeat(pa.scalar(DEFAULTS[field.name]), n).cast(field.type)
        else:
            col = pa.nulls(n, field.type)
        columns.append(col)
    return pa.Table.from_arrays(columns, schema=_nullable(EVENT_SCHEMA))


def _nullable(schema: pa.Schema) -> pa.Schema:
    """The schema with every field nullable: conformed tables may still hold rows to quarantine."""
    return pa.schema([f.with_nullable(True) for f in schema])


def _finish_reason(col: pa.ChunkedArray) -> pa.ChunkedArray:
    values = col.cast(pa.string())
    return pc.if_else(pc.is_valid(values), values, "unknown").dictionary_encode().cast(FINISH_REASON_TYPE)


@dataclass(frozen=True)
class Checked:
    """The outcome of :func:`validate`: valid rows in the canonical schema, and the rejects."""

    valid: pa.Table
    quarantine: pa.Table


Mask: TypeAlias = pa.ChunkedArray | pa.Array


def _checks(t: pa.Table) -> list[tuple[str, str, Mask]]:
    """(field, reason, bad-row mask) for every rule a row may break; a null mask entry counts as not
    bad. A rule that a column's summary (its nulls, minimum and maximum, its distinct finish
    reasons) proves no row breaks is left out: valid logs, the common case, skip most per-row work."""
    rid = t["request_id"]
    weighted = (pc.max(t["requests"]).as_py() or 1) > 1

    def per_row(ceiling: float) -> Mask | float:
        # A pre-aggregated row stands for `requests` requests: the ceiling is per request. A log
        # of single requests (the common case) compares with the ceiling itself.
        if not weighted:
            return ceiling
        weight = pc.max_element_wise(pc.cast(pc.fill_null(t["requests"], 1), pa.float64(), safe=False), 1.0)
        return pc.multiply(weight, float(ceiling))

    out: list[tuple[str, str, Mask]] = [
        ("request_id", "is missing or empty", pc.or_kleene(pc.is_null(rid), pc.equal(rid, ""))),
        ("ts", "is missing or not a valid timestamp", pc.is_null(t["ts"])),
    ]
    ts = t["ts"]
    low, high = (pa.scalar(v, ts.type) for v in (TS_MIN, TS_MAX))
    if _outside(ts, low.as_py(), high.as_py(), high_open=True):
        out.append(
            (
                "ts",
                f"is outside {TS_MIN:%Y-%m-%d} … {TS_MAX:%Y-%m-%d} (a parsing or unit error?)",
                pc.or_kleene(pc.less(ts, low), pc.greater_equal(ts, high)),
            )
        )
    out.append(
        ("model", "is missing or empty", pc.or_kleene(pc.is_null(t["model"]), pc.equal(t["model"], "")))
    )
    for name in _TOKEN_COLUMNS:
        col = t[name]
        if col.null_count:
            out.append((name, "is missing (use 0 when unknown)", pc.is_null(col)))
        if weighted or _outside(col, 0, MAX_TOKENS):
            out.append((name, "is negative", pc.less(col, 0)))
            tokens = pc.cast(col, pa.float64(), safe=False) if weighted else col
            too_many = pc.greater(tokens, per_row(MAX_TOKENS))
            out.append((name, f"exceeds {MAX_TOKENS:,} a request (a unit or parsing error?)", too_many))
    out.append(
        (
            "reasoning_tokens",
            "exceeds output_tokens (output includes reasoning)",
            pc.greater(t["reasoning_tokens"], t["output_tokens"]),
        )
    )
    finish = t["finish_reason"]
    reasons = set(
        pc.unique(
            finish.cast(finish.type.value_type) if pa.types.is_dictionary(finish.type) else finish
        ).to_pylist()
    )
    fr = None
    if not reasons <= set(FINISH_REASONS):
        fr = finish.cast(pa.string())
        out.append(
            (
                "finish_reason",
                f"is not one of {', '.join(FINISH_REASONS)}",
                pc.invert(pc.is_in(fr, value_set=pa.array(FINISH_REASONS))),
            )
        )
    calls = t["tool_calls"]
    if calls.null_count or _outside(calls, 0, None):
        out.append(
            ("tool_calls", "is missing or negative", pc.or_kleene(pc.is_null(calls), pc.less(calls, 0)))
        )
    if "tool_calls" in reasons and _outside(calls, 1, None):
        fr = fr if fr is not None else finish.cast(pa.string())
        out.append(
            (
                "tool_calls",
                "must be >= 1 when finish_reason is tool_calls",
                pc.and_kleene(pc.equal(fr, "tool_calls"), pc.less(calls, 1)),
            )
        )
    for name, ceiling, what in (
        ("latency_ms", MAX_MS, ""),
        ("ttft_ms", MAX_MS, ""),
        ("cost_usd", MAX_COST_USD, " a request"),
    ):
        col = t[name]
        limit = per_row(ceiling) if what else ceiling
        if not (weighted and what) and not _outside(col, 0.0, ceiling, high_open=True, nan=True):
            continue
        out.append((name, "is negative", pc.less(col, 0)))
        out.append(
            (
                name,
                f"is not finite or not below {ceiling:,.0f}{what} (a unit error?)",
                pc.or_kleene(pc.invert(pc.is_finite(col)), pc.greater_equal(col, limit)),
            )
        )
    country = t["country"]
    if country.null_count < len(country):
        out.append(
            (
                "country",
                "is not an ISO 3166-1 alpha-2 code (two upper-case letters)",
                pc.invert(pc.match_substring_regex(country, r"^[A-Z]{2}$")),
            )
        )
    requests = t["requests"]
    if requests.null_count or _outside(requests, 1, MAX_REQUESTS):
        out.append(
            ("requests", "is missing or < 1", pc.or_kleene(pc.is_null(requests), pc.less(requests, 1)))
        )
        out.append(("requests", f"exceeds {MAX_REQUESTS:,}", pc.greater(requests, MAX_REQUESTS)))
    if t["tokens_estimated"].null_count:
        out.append(("tokens_estimated", "is missing", pc.is_null(t["tokens_estimated"])))
    return out


def _outside(
    col: Mask, low: object, high: object | None, *, high_open: bool = False, nan: bool = False
) -> bool:
    """True when some value of ``col`` may lie outside [low, high] ([low, high) with ``high_open``;
    no upper bound when ``high`` is None), or is NaN when ``nan``: then the rule's mask is needed."""
    if nan and pc.any(pc.is_nan(col)).as_py():
        return True
    bounds = pc.min_max(col)
    lo, hi = bounds["min"].as_py(), bounds["max"].as_py()
    if lo is None:  # every value null
        return False
    if lo < low:  # type: ignore[operator]
        return True
    if high is None:
        return False
    return bool(hi >= high if high_open else hi > high)  # type: ignore[operator]


def validate(table: pa.Table, source: str, first_row: int = 1, records: pa.Table | None = None) -> Checked:
    """Split a conformed table into valid rows and quarantined rows.

    ``first_row`` is the row number (1-based, as a user counts lines of data) of the table's first
    row in ``source``; each rejected row is reported with the *first* rule it breaks. ``records``,
    when given, is the raw input (same length) stored as JSON in the quarantine so the row can be
    fixed and re-ingested; by default the conformed row is stored.
    """
    table = conform(table, source) if table.schema != _nullable(EVENT_SCHEMA) else table
    n = table.num_rows
    if n == 0:
        return Checked(table.cast(EVENT_SCHEMA), QUARANTINE_SCHEMA.empty_table())
    checks = [(name, reason, pc.fill_null(mask, False)) for name, reason, mask in _checks(table)]
    any_bad = checks[0][2]
    for _, _, mask in checks[1:]:
        any_bad = pc.or_(any_bad, mask)
    if not pc.any(any_bad).as_py():  # the common case: skip building per-row reasons
        return Checked(table.cast(EVENT_SCHEMA), QUARANTINE_SCHEMA.empty_table())
    field_col = pa.nulls(n, pa.string())
    reason_col = pa.nulls(n, pa.string())
    for name, reason, mask in reversed(checks):
        # Later rules first, so the first rule a row breaks wins.
        field_col = pc.if_else(mask, name, field_col)
        reason_col = pc.if_else(mask, f"{name} {reason}", reason_col)
    valid = table.filter(pc.invert(any_bad))
    idx = pc.indices_nonzero(any_bad)
    n_bad = len(idx)
    raw = records if records is not None else table
    raw_rows = raw.take(idx).to_pylist()
    quarantine = pa.table(
        {
            "source": pa.array([source] * n_bad),
            "row": pc.add(idx.cast(pa.int64()), first_row),
            "field": pc.take(field_col, idx),
            "reason": pc.take(reason_col, idx),
            "record": pa.array([json.dumps(r, default=str, sort_keys=True) for r in raw_rows]),
            "quarantined_at": pa.array([_now()] * n_bad, pa.timestamp("us", tz="UTC")),
        },
        schema=QUARANTINE_SCHEMA,
    )
    return Checked(valid.cast(EVENT_SCHEMA), quarantine)


def violations(quarantine: pa.Table) -> list[Violation]:
    """The quarantine rows as :class:`Violation` objects (for messages and tests)."""
    return [
        Violation(r["source"], r["row"], r["field"], r["reason"])
        for r in quarantine.select(["source", "row", "field", "reason"]).to_pylist()
    ]


def require_valid(table: pa.Table, source: str) -> pa.Table:
    """Validate and raise :class:`SchemaError` listing every violation, or return the valid table."""
    checked = validate(table, source)
    if checked.quarantine.num_rows:
        raise SchemaError(
            f"{source}: {checked.quarantine.num_rows} row(s) violate the canonical schema",
            violations(checked.quarantine),
        )
    return checked.valid


def _now() -> datetime:
    """The quarantine time (isolated so tests can reason about it)."""
    return datetime.now(UTC)
