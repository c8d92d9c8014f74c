"""Normalising finish reasons, countries, timestamps and users; the column parsers' edge cases."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from tokencensus.ingest import columns, normalize
from tokencensus.schema import FINISH_REASONS


@pytest.mark.parametrize(
    ("spelling", "reason"),
    [
        ("tool_calls", "tool_calls"),
        ("tool_use", "tool_calls"),
        ("function_call", "tool_calls"),
        ("end_turn", "stop"),
        ("stop", "stop"),
        ("STOP", "stop"),
        ("eos", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("length", "length"),
        ("MAX_TOKENS", "length"),
        ("content_filter", "content_filter"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("cancelled", "cancelled"),
        ("canceled", "cancelled"),
        ("error", "error"),
        ("MALFORMED_FUNCTION_CALL", "error"),
        ("FINISH_REASON_STOP", "stop"),
        ("pause_turn", "unknown"),
        ("", "unknown"),
        ("whatever", "unknown"),
    ],
)
def test_finish_reasons(spelling: str, reason: str) -> None:
    assert normalize.finish_reason(spelling) == reason


def test_finish_reason_column_maps_null_to_unknown() -> None:
    out = normalize.finish_reasons(pa.array(["STOP", None, "tool_use", "STOP"]))
    assert out.to_pylist() == ["stop", "unknown", "tool_calls", "stop"]
    assert set(out.to_pylist()) <= set(FINISH_REASONS)


def test_countries() -> None:
    out = normalize.countries(
        pa.array(["Germany", "de", "United States", "Russia", "Atlantis", None, "Türkiye"])
    )
    assert out.to_pylist() == ["DE", "DE", "US", "RU", None, None, "TR"]


def test_user_hash_is_stable_and_salted() -> None:
    a = normalize.hash_users(pa.array(["u1", None, "u1"]), "s1").to_pylist()
    b = normalize.hash_users(pa.array(["u1"]), "s2").to_pylist()
    assert a[0] == a[2]
    assert a[1] is None
    assert a[0] != b[0]
    assert len(a[0]) == 64


def test_model_resolver_falls_back_to_the_lowercased_name() -> None:
    class Catalog:
        calls = 0

        def resolve(self, names: pa.Array) -> pa.Array:
            Catalog.calls += 1
            return pa.array(["x/known" if n == "Known" else None for n in names.to_pylist()], pa.string())

    resolver = normalize.ModelResolver(Catalog())
    model, unresolved = resolver.resolve(pa.array(["Known", " Other-Model ", None, "Known"]))
    assert model.to_pylist() == ["x/known", "other-model", None, "x/known"]
    assert unresolved.to_pylist() == [False, True, False, False]
    resolver.resolve(pa.array(["Known"]))
    assert Catalog.calls == 1  # each distinct name is asked once per run


def test_timestamp_forms() -> None:
    out, mask = columns.as_timestamp(
        pa.array(
            [
                "2026-03-29 20:32:18.744",
                "2026-03-29T20:32:18Z",
                "2026-03-29T22:32:18+02:00",
                "2026-03-29 20:32:18 UTC",
                "2026-03-29T20:32:18.123456789Z",
                "nonsense",
                None,
            ]
        )
    )
    moment = datetime(2026, 3, 29, 20, 32, 18, tzinfo=UTC)
    assert out.to_pylist()[:4] == [moment.replace(microsecond=744000), moment, moment, moment]
    assert out[4].as_py() == moment.replace(microsecond=123456)
    assert out[5].as_py() is None
    assert mask is not None
    assert mask.tolist() == [False] * 5 + [True, False]
    epochs, _ = columns.as_timestamp(pa.array([1_748_858_400, 1_748_858_400_000, 1_748_858_400_000_000_000]))
    assert set(epochs.to_pylist()) == {datetime(2025, 6, 2, 10, tzinfo=UTC)}


def test_text_bool_float() -> None:
    text, mask = columns.as_text(pa.array([b"ok", b"\xff", b"", None], pa.binary()))
    assert text.to_pylist() == ["ok", None, None, None]
    assert mask.tolist() == [False, True, False, False]
    flags, mask = columns.as_bool(pa.array(["true", "False", "yes", "0", "maybe"]))
    assert flags.to_pylist() == [True, False, True, False, None]
    assert mask.tolist()[-1]
    numbers, mask = columns.as_float(pa.array(["1.5", "nan", "x", " 2 "]))
    assert numbers.to_pylist() == [1.5, None, None, 2.0]
    assert mask.tolist() == [False, False, True, False]
