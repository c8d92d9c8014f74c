"""Property: ingest → lake → read returns exactly the valid input rows; the quarantine, exactly the rest."""

from __future__ import annotations

import csv
import tempfile
from collections import Counter
from pathlib import Path

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ingest.support import StubCatalog
from tokencensus.ingest import ingest_paths
from tokencensus.ingest.columns import as_int, as_timestamp
from tokencensus.lake import Lake

HEADER = ["request_id", "ts", "model", "input_tokens", "output_tokens", "reasoning_tokens", "user_id"]
BREAKAGES = ("negative", "not_a_number", "bad_ts", "no_id", "no_model", "reasoning_over_output", "ragged")

valid_row = st.fixed_dictionaries(
    {
        "ts": st.datetimes(
            min_value=__import__("datetime").datetime(2024, 1, 1),
            max_value=__import__("datetime").datetime(2026, 12, 31),
        ).map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S.%f")),
        "model": st.sampled_from(["gpt-4o", "claude-sonnet-4-5", "mystery/model-1", "Some Model"]),
        "input_tokens": st.integers(0, 10**9),
        "output_tokens": st.integers(0, 10**6),
        "user_id": st.one_of(st.none(), st.text("abcdef0123456789", min_size=1, max_size=8)),
    }
)
row = st.tuples(
    valid_row,
    st.one_of(st.none(), st.sampled_from(BREAKAGES)),
    st.integers(0, 100),
    # the id: None = its own; k = one of a few ids shared by other rows (a provider that reuses ids);
    # -1 = an exact copy of the previous row (a log that repeats a request)
    st.one_of(st.none(), st.integers(0, 3), st.just(-1)),
)


def render(rid: str, values: dict, breakage: str | None, reasoning_pct: int) -> list[object]:
    reasoning = values["output_tokens"] * reasoning_pct // 100
    out = [
        rid,
        values["ts"],
        values["model"],
        values["input_tokens"],
        values["output_tokens"],
        reasoning,
        values["user_id"] or "",
    ]
    if breakage == "negative":
        out[3] = -1 - values["input_tokens"]
    elif breakage == "not_a_number":
        out[4] = "n/a"
    elif breakage == "bad_ts":
        out[1] = "31/31/2025"
    elif breakage == "no_id":
        out[0] = ""
    elif breakage == "no_model":
        out[2] = ""
    elif breakage == "reasoning_over_output":
        out[5] = values["output_tokens"] + 1
    elif breakage == "ragged":
        out = out[:3]
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row, min_size=0, max_size=60))
def test_ingest_returns_exactly_the_valid_rows(rows: list) -> None:
    """Each distinct valid request lands once, reused ids included: the same id with the same content
    is a duplicate, with other content a request of its own (stored under a suffixed id)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.csv"
        requests: set[tuple] = set()
        expected_bad_lines = []
        duplicates = 0
        previous: list[object] | None = None
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            for i, (values, breakage, pct, shared) in enumerate(rows):
                if shared == -1 and previous is not None:
                    line = previous
                else:
                    rid = f"req-{i}" if shared is None or shared == -1 else f"shared-{shared}"
                    line = render(rid, values, breakage, pct)
                writer.writerow(line)
                previous = line
                if _valid(line):
                    content = (line[0], line[1], line[2], line[6], line[3], line[4])
                    duplicates += content in requests
                    requests.add(content)
                else:
                    expected_bad_lines.append(i + 2)  # header is line 1
        summary = ingest_paths([path], Lake(Path(tmp) / "lake"), catalog=StubCatalog(), fmt="csv")
        lake = Lake(Path(tmp) / "lake")
        events = lake.read_events(["request_id", "input_tokens", "output_tokens"])
        columns = (events[c].to_pylist() for c in events.column_names)
        got = Counter((rid.split("~")[0], i, o) for rid, i, o in zip(*columns, strict=True))
        assert got == Counter((r[0], r[4], r[5]) for r in requests)
        assert sorted(lake.read_quarantine()["row"].to_pylist()) == expected_bad_lines
        assert summary.total.rows_read == len(rows)
        assert summary.total.duplicates == duplicates
        assert summary.total.rows_written + summary.total.duplicates + summary.total.quarantined == len(rows)
        ids = Counter(r[0] for r in requests)
        assert summary.total.collisions <= sum(n - 1 for n in ids.values())


def _valid(line: list[object]) -> bool:
    """The rule each breakage of :func:`render` violates, checked on the rendered line."""
    if len(line) < len(HEADER) or not line[0] or not line[2] or line[1] == "31/31/2025":
        return False
    if line[4] == "n/a" or int(line[3]) < 0:  # type: ignore[call-overload]
        return False
    return int(line[5]) <= int(line[4])  # type: ignore[call-overload]


@given(
    st.lists(
        st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1).map(str), st.text(max_size=6)), max_size=200
    )
)
def test_integer_parsing_isolates_exactly_the_bad_values(values: list) -> None:
    def reference(v: str | None) -> tuple[int | None, bool]:
        if v is None or not v.strip():
            return None, False
        try:
            return int(v.strip()), False
        except ValueError:
            try:
                f = float(v)
            except ValueError:
                return None, True
            if f != f:
                return None, False
            if f in (float("inf"), float("-inf")) or not f.is_integer() or not -(2**63) <= f < 2**63:
                return None, True
            return int(f), False

    out, mask = as_int(pa.array(values, pa.string()))
    expected = [reference(v) for v in values]
    assert out.to_pylist() == [e[0] for e in expected]
    assert [bool(b) for b in (mask if mask is not None else [False] * len(values))] == [
        e[1] for e in expected
    ]


@given(
    st.lists(st.datetimes(timezones=st.just(__import__("datetime").UTC)), min_size=1, max_size=50),
    st.sampled_from(["%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f+00:00"]),
)
def test_timestamps_round_trip(moments: list, fmt: str) -> None:
    moments = [m for m in moments if m.year >= 1000]
    text = pa.array([m.strftime(fmt) for m in moments], pa.string())
    parsed, mask = as_timestamp(text)
    assert mask is None
    assert parsed.to_pylist() == moments
