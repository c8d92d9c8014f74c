"""The canonical schema: conforming a reader's table, and validation that names source, row and field."""

from __future__ import annotations

import pyarrow as pa
import pytest

from tests.conftest import ts
from tokencensus.errors import SchemaError
from tokencensus.schema import EVENT_SCHEMA, FINISH_REASONS, conform, require_valid, validate, violations


def base(n: int = 1, **cols) -> dict:
    data = {
        "request_id": [f"r{i}" for i in range(n)],
        "ts": pa.array([ts(2025, 6, 2)] * n, pa.timestamp("us", tz="UTC")),
        "model": ["m"] * n,
    }
    data.update(cols)
    return data


def test_conform_fills_defaults_drops_extras_and_orders_columns():
    t = conform(pa.table(base(2, extra=["x", "y"], input_tokens=[5, 6])), "f.csv")
    assert t.column_names == EVENT_SCHEMA.names
    row = t.to_pylist()[0]
    assert (row["input_tokens"], row["output_tokens"], row["requests"], row["finish_reason"]) == (
        5,
        0,
        1,
        "unknown",
    )
    assert row["tokens_estimated"] is False
    assert row["country"] is None


def test_conform_reads_naive_timestamps_as_utc():
    t = conform(
        pa.table(base(1, ts=pa.array([pa.scalar(0, pa.timestamp("s"))]).cast(pa.timestamp("s")))), "f"
    )
    assert t["ts"].type == pa.timestamp("us", tz="UTC")


def test_conform_missing_required_column_names_it():
    with pytest.raises(SchemaError, match=r"f\.csv: required column\(s\) model missing"):
        conform(pa.table({"request_id": ["a"], "ts": [ts(2025, 1, 1)]}), "f.csv")


def test_conform_uncastable_column_names_field_and_type():
    with pytest.raises(
        SchemaError, match=r"f\.csv: column 'input_tokens' of type string cannot be read as int64"
    ):
        conform(pa.table(base(1, input_tokens=["many"])), "f.csv")


@pytest.mark.parametrize(
    ("column", "value", "field", "reason"),
    [
        ("request_id", "", "request_id", "is missing or empty"),
        ("model", None, "model", "is missing or empty"),
        ("input_tokens", -1, "input_tokens", "is negative"),
        ("cached_tokens", -5, "cached_tokens", "is negative"),
        ("finish_reason", "exploded", "finish_reason", "is not one of"),
        ("country", "usa", "country", "ISO 3166-1 alpha-2"),
        ("requests", 0, "requests", "is missing or < 1"),
        ("cost_usd", -0.01, "cost_usd", "is negative"),
    ],
)
def test_each_rule_quarantines_with_field_and_row(column, value, field, reason):
    data = base(3)
    data[column] = [data[column][0] if column in data else _ok(column)] * 3
    data[column][1] = value  # the second data row is bad
    checked = validate(pa.table(data), "logs/x.csv", first_row=10)
    assert checked.valid.num_rows == 2
    [v] = violations(checked.quarantine)
    assert (v.source, v.row, v.field) == ("logs/x.csv", 11, field)
    assert reason in v.reason
    assert str(v).startswith("logs/x.csv, row 11, field ")


def _ok(column: str):
    return {"finish_reason": "stop", "country": "US", "requests": 1, "cost_usd": 0.5}.get(column, 1)


def test_first_broken_rule_is_reported_and_record_kept():
    data = base(1, input_tokens=[-1], country=["zz"])
    q = validate(pa.table(data), "f").quarantine.to_pylist()[0]
    assert q["field"] == "input_tokens"  # declared before country
    assert '"input_tokens": -1' in q["record"]


def test_reasoning_cannot_exceed_output_and_tool_calls_needs_a_call():
    data = base(2, output_tokens=[10, 10], reasoning_tokens=[11, 5], finish_reason=["stop", "tool_calls"])
    got = {v.row: v.field for v in violations(validate(pa.table(data), "f").quarantine)}
    assert got == {1: "reasoning_tokens", 2: "tool_calls"}


def test_valid_rows_come_back_in_the_strict_schema():
    data = base(2, finish_reason=list(FINISH_REASONS[:2]), tool_calls=[0, 0], country=["DE", None])
    checked = validate(pa.table(data), "f")
    assert checked.quarantine.num_rows == 0
    assert checked.valid.schema == EVENT_SCHEMA


def test_require_valid_lists_every_violation():
    data = base(3, input_tokens=[1, -1, -2])
    with pytest.raises(SchemaError) as err:
        require_valid(pa.table(data), "in.parquet")
    text = str(err.value)
    assert "in.parquet: 2 row(s) violate" in text
    assert "in.parquet, row 2, field 'input_tokens': input_tokens is negative" in text
    assert "row 3" in text
