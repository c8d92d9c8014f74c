"""The lake: day partitions, idempotent appends, atomic writes, quarantine, nothing lost."""

from __future__ import annotations

import fcntl
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ts
from tokencensus import lake as lake_module
from tokencensus.errors import LakeError
from tokencensus.lake import Chunk, Lake
from tokencensus.schema import EVENT_SCHEMA


def events(ids, days=None, tokens=None) -> pa.Table:
    days = days or [2] * len(ids)
    tokens = tokens or [10] * len(ids)
    return pa.table(
        {
            "request_id": pa.array(ids, pa.string()),
            "ts": pa.array([ts(2025, 6, d, 12) for d in days], pa.timestamp("us", tz="UTC")),
            "model": ["m"] * len(ids),
            "input_tokens": pa.array(tokens, pa.int64()),
        }
    )


def ids_of(lake: Lake) -> list[str]:
    return sorted(lake.read_events(["request_id"])["request_id"].to_pylist())


def test_append_partitions_by_utc_day(tmp_path):
    lake = Lake(tmp_path / "lake")
    summary = lake.append(events(["a", "b", "c"], days=[2, 2, 3]), "in.csv")
    assert (summary.rows_read, summary.rows_written, summary.duplicates, summary.quarantined) == (3, 3, 0, 0)
    assert lake.partitions() == ["2025-06-02", "2025-06-03"]
    assert summary.partitions == 2
    day3 = pq.read_table(next((lake.events_dir / "date=2025-06-03").glob("*.parquet")))
    assert day3["request_id"].to_pylist() == ["c"]
    assert day3.schema == EVENT_SCHEMA


def test_reingest_is_a_noop(tmp_path):
    lake = Lake(tmp_path)
    lake.append(events(["a", "b"], days=[2, 3]), "in.csv")
    files = lake.event_files()
    again = lake.append(events(["a", "b"], days=[2, 3]), "in.csv")
    assert (again.rows_written, again.duplicates) == (0, 2)
    assert lake.event_files() == files
    assert ids_of(lake) == ["a", "b"]


def test_exact_repeats_inside_one_input_are_duplicates(tmp_path):
    lake = Lake(tmp_path)
    summary = lake.append(events(["a", "b", "a"], tokens=[1, 2, 1]), "in.csv")
    assert (summary.rows_written, summary.duplicates, summary.collisions) == (2, 1, 0)
    got = lake.read_events(["request_id", "input_tokens"]).to_pylist()
    assert sorted((r["request_id"], r["input_tokens"]) for r in got) == [("a", 1), ("b", 2)]


def test_a_reused_id_with_other_content_is_another_request(tmp_path):
    """Ollama numbers its responses chatcmpl-0, chatcmpl-1, ... again after each restart: the same id
    with different tokens (or time, model, user) is a second request, kept under a suffixed id."""
    lake = Lake(tmp_path)
    summary = lake.append(events(["a", "b", "a"], tokens=[1, 2, 3]), "in.csv")
    assert (summary.rows_written, summary.duplicates, summary.collisions) == (3, 0, 1)
    got = {
        r["request_id"]: r["input_tokens"]
        for r in lake.read_events(["request_id", "input_tokens"]).to_pylist()
    }
    suffixed = [rid for rid in got if rid.startswith("a~")]
    assert len(suffixed) == 1
    assert len(suffixed[0]) == len("a~") + 12
    assert got == {"a": 1, "b": 2, suffixed[0]: 3}
    # the same input again adds nothing: both contents of "a" are found, bare and suffixed
    again = lake.append(events(["a", "b", "a"], tokens=[1, 2, 3]), "in.csv")
    assert (again.rows_written, again.duplicates, again.collisions) == (0, 3, 0)
    # a third content of "a", in a later run, collides with the lake's "a"
    third = lake.append(events(["a"], tokens=[7]), "later.csv")
    assert (third.rows_written, third.duplicates, third.collisions) == (1, 0, 1)
    assert sorted(r["input_tokens"] for r in lake.read_events(["input_tokens"]).to_pylist()) == [1, 2, 3, 7]
    # the suffix is a function of the content: the same row gets the same stored id in another lake
    other = Lake(tmp_path / "other")
    other.append(events(["a", "a"], tokens=[1, 3]), "in.csv")
    assert suffixed[0] in ids_of(other)


def test_the_same_id_on_another_day_is_another_request(tmp_path):
    lake = Lake(tmp_path)
    summary = lake.append(events(["a", "a"], days=[2, 3]), "in.csv")
    assert (summary.rows_written, summary.duplicates) == (2, 0)
    assert lake.partitions() == ["2025-06-02", "2025-06-03"]


def test_overlapping_append_adds_only_new_ids(tmp_path):
    lake = Lake(tmp_path)
    lake.append(events(["a", "b"]), "one.csv")
    summary = lake.append(events(["b", "c"]), "two.csv")
    assert (summary.rows_written, summary.duplicates) == (1, 1)
    assert ids_of(lake) == ["a", "b", "c"]


def test_bad_rows_go_to_quarantine_and_good_rows_land(tmp_path):
    lake = Lake(tmp_path)
    table = events(["a", "b", "c", "d"], tokens=[1, -1, 2, -3])
    summary = lake.append(table, "logs/in.csv")
    assert (summary.rows_written, summary.quarantined) == (2, 2)
    assert summary.reasons == {"input_tokens is negative": 2}
    q = lake.read_quarantine().to_pylist()
    assert [(r["source"], r["row"], r["field"]) for r in q] == [
        ("logs/in.csv", 2, "input_tokens"),
        ("logs/in.csv", 4, "input_tokens"),
    ]
    assert ids_of(lake) == ["a", "c"]
    assert "2 quarantined (input_tokens is negative: 2)" in str(summary)


def test_streamed_chunks_number_rows_across_chunks(tmp_path):
    lake = Lake(tmp_path)
    chunks = iter([events(["a", "b"]), events(["c", "d"], tokens=[1, -1])])
    summary = lake.append(chunks, "big.csv")
    assert summary.rows_read == 4
    assert [r["row"] for r in lake.read_quarantine().to_pylist()] == [4]


def test_reader_rejects_are_counted_and_kept(tmp_path):
    lake = Lake(tmp_path)
    from tokencensus.schema import QUARANTINE_SCHEMA

    reject = pa.table(
        {
            "source": ["x.jsonl"],
            "row": [7],
            "field": ["line"],
            "reason": ["not JSON"],
            "record": ["{oops"],
            "quarantined_at": pa.array([ts(2025, 1, 1)], pa.timestamp("us", tz="UTC")),
        },
        schema=QUARANTINE_SCHEMA,
    )
    summary = lake.append(Chunk(events(["a"]), "x.jsonl", first_row=1, rejects=reject), "x.jsonl")
    assert (summary.rows_read, summary.rows_written, summary.quarantined) == (2, 1, 1)
    assert lake.read_quarantine()["row"].to_pylist() == [7]


def test_killed_append_leaves_no_half_file_and_rerun_completes(tmp_path, monkeypatch):
    lake = Lake(tmp_path)
    real = pq.write_table
    calls = {"n": 0}

    def dying_write(table, where, **kw):
        calls["n"] += 1
        if calls["n"] == 2:  # die while writing the second day
            where.write(b"PAR1 half a file")  # the lake writes through a file it opened
            raise KeyboardInterrupt
        return real(table, where, **kw)

    monkeypatch.setattr(lake_module.pq, "write_table", dying_write)
    with pytest.raises(KeyboardInterrupt):
        lake.append(events(["a", "b", "c"], days=[2, 3, 4]), "in.csv")
    monkeypatch.setattr(lake_module.pq, "write_table", real)
    # every file in the lake is a complete Parquet file; the half file stayed in staging
    for f in lake.event_files():
        pq.read_table(f)
    assert not (tmp_path / "_staging").exists()
    summary = lake.append(events(["a", "b", "c"], days=[2, 3, 4]), "in.csv")
    # day files are written by a thread pool: the days queued beside the dying one may have landed
    assert summary.rows_written >= 1
    assert summary.rows_written + summary.duplicates == 3
    assert ids_of(lake) == ["a", "b", "c"]


def test_a_second_writer_is_refused(tmp_path):
    lake = Lake(tmp_path)
    with open(tmp_path / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(LakeError, match="another tokencensus process is writing"):
            lake.append(events(["a"]), "in.csv")
    assert lake.append(events(["a"]), "in.csv").rows_written == 1


def test_manifest_records_each_append(tmp_path):
    lake = Lake(tmp_path)
    lake.append(events(["a"]), "one.csv")
    lake.append(events(["a", "b"]), "two.csv")
    m = lake.manifest()
    assert [(e["source"], e["rows_written"], e["duplicates"]) for e in m] == [
        ("one.csv", 1, 0),
        ("two.csv", 1, 1),
    ]


def test_opening_a_missing_lake_without_create_says_how(tmp_path):
    with pytest.raises(LakeError, match=r"no lake at .*tokencensus ingest --lake"):
        Lake(tmp_path / "nope", create=False)


rows = st.lists(
    st.tuples(st.sampled_from("abcdefghij"), st.integers(1, 5), st.integers(-2, 50)), min_size=0, max_size=40
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(rows, min_size=1, max_size=4))
def test_nothing_is_lost_property(tmp_path_factory, batches):
    """Every row read is written, a duplicate, or quarantined; the lake holds each distinct valid
    request (id and content) exactly once, ids reused with other content included."""
    lake = Lake(tmp_path_factory.mktemp("lake"))
    distinct: set[tuple[str, int, int]] = set()
    for batch in batches:
        table = events([r[0] for r in batch], days=[r[1] for r in batch], tokens=[r[2] for r in batch])
        before = len(distinct)
        distinct |= {r for r in batch if r[2] >= 0}
        s = lake.append(table, "in.csv")
        assert s.rows_read == len(batch) == s.rows_written + s.duplicates + s.quarantined
        assert s.quarantined == sum(1 for r in batch if r[2] < 0)
        assert s.rows_written == len(distinct) - before
    got = lake.read_events(["request_id", "ts", "input_tokens"]).to_pylist()
    stored = [(r["request_id"].split("~")[0], r["ts"].day, r["input_tokens"]) for r in got]
    assert Counter(stored) == Counter(distinct)  # each once, nothing lost, nothing made up
    # stored ids stay unique within a day (identity is checked per day: the time is part of the content)
    assert len({(r["request_id"], r["ts"].day) for r in got}) == len(got)
    assert sum("~" in r["request_id"] for r in got) == len(distinct) - len({(i, d) for i, d, _ in distinct})


def test_a_run_holds_the_lock_between_its_appends(tmp_path):
    """An ingest of several files is one writer: another process cannot append between two files."""
    lake = Lake(tmp_path)
    with lake.writing():
        assert lake.append(events(["a"]), "one.csv").rows_written == 1
        with pytest.raises(LakeError, match="another tokencensus process is writing"):
            Lake(tmp_path).append(events(["x"]), "other.csv")
        assert lake.append(events(["b"]), "two.csv").rows_written == 1
    assert Lake(tmp_path).append(events(["x"]), "other.csv").rows_written == 1
    assert ids_of(lake) == ["a", "b", "x"]


def test_delete_by_id_or_condition_rewrites_only_the_days_that_match(tmp_path):
    lake = Lake(tmp_path)
    lake.append(events(["a", "b", "c", "d"], days=[2, 2, 3, 4], tokens=[1, 2, 3, 4]), "in.csv")
    untouched = sorted((lake.events_dir / "date=2025-06-04").glob("*.parquet"))
    assert lake.delete(request_ids=["b"]) == 1
    assert lake.delete(where="input_tokens = 3") == 1  # day 3 is left empty: its file goes
    assert ids_of(lake) == ["a", "d"]
    assert sorted((lake.events_dir / "date=2025-06-04").glob("*.parquet")) == untouched
    assert lake.read_events().schema == EVENT_SCHEMA
    deletes = [e["delete"] for e in lake.manifest() if "delete" in e]
    assert [d["rows_deleted"] for d in deletes] == [1, 1]
    with pytest.raises(LakeError, match="not a condition on the events"):
        lake.delete(where="no_such_column = 1")
    with pytest.raises(LakeError, match="say what to delete"):
        lake.delete()
    # deleting a poison row makes room to ingest it again, corrected
    assert lake.append(events(["b"], tokens=[2]), "in.csv").rows_written == 1


def test_a_day_left_and_come_back_to_still_finds_its_requests(tmp_path, monkeypatch):
    """The writer forgets the ids of days a flush does not touch (flat memory on long logs); a log
    that returns to such a day later still finds the requests already written there."""
    monkeypatch.setattr(lake_module, "FLUSH_ROWS", 2)
    lake = Lake(tmp_path)
    chunks = [
        events(["a", "b"], days=[2, 2]),
        events(["c", "d"], days=[3, 3]),
        events(["a", "e"], days=[2, 2]),  # "a" again, after day 2 was let go
    ]
    summary = lake.append(iter(chunks), "in.csv")
    assert (summary.rows_written, summary.duplicates) == (5, 1)
    assert ids_of(lake) == ["a", "b", "c", "d", "e"]


def test_a_reused_id_deleted_and_ingested_again_lands_once_each(tmp_path):
    """`lake delete --request-id abc` takes abc's other requests (abc~...) too; the same log again
    brings back each request once, and a suffixed request whose bare id is gone is still found."""
    lake = Lake(tmp_path)
    both = events(["abc", "abc"], tokens=[1, 2])
    lake.append(both, "in.csv")
    assert lake.delete(request_ids=["abc"]) == 2
    again = lake.append(both, "in.csv")
    assert (again.rows_written, again.duplicates) == (2, 0)
    assert lake.delete(where="input_tokens = 1") == 1  # the bare "abc" goes, "abc~..." stays
    third = lake.append(both, "in.csv")
    assert (third.rows_written, third.duplicates) == (1, 1)
    got = sorted(r["input_tokens"] for r in lake.read_events(["input_tokens"]).to_pylist())
    assert got == [1, 2]


def test_a_file_that_cannot_be_read_on_keeps_the_rows_before(tmp_path):
    """A reader's clear error mid-file: the rows read before it land (and are in the manifest)."""
    from tokencensus.errors import InputError

    def reader():
        yield events(["a", "b"])
        raise InputError("in.csv: the file could not be read on")

    lake = Lake(tmp_path)
    with pytest.raises(InputError, match="could not be read on"):
        lake.append(reader(), "in.csv")
    assert ids_of(lake) == ["a", "b"]
    assert lake.manifest()[-1]["rows_written"] == 2


def test_another_bad_row_at_the_same_line_is_quarantined_too(tmp_path):
    """A rotated log under the same name with another bad row on the same line is another row."""
    lake = Lake(tmp_path)
    lake.append(events(["a"], tokens=[-1]), "logs/proxy.csv")
    lake.append(events(["b"], tokens=[-2]), "logs/proxy.csv")
    lake.append(events(["b"], tokens=[-2]), "logs/proxy.csv")  # the same again: stored once
    assert lake.read_quarantine().num_rows == 2
