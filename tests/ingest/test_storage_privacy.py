"""What is stored at rest holds no PII (issue #15, part 2): scrubbed samples, owner-only files,
hashed users and no secrets in the quarantine, a quarantine that stores a bad row once, and a purge."""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path

from tests.ingest.support import StubCatalog
from tokencensus.ingest import ingest_paths, read_samples
from tokencensus.lake import Lake

EMAIL = "maria.gonzalez@example.com"
KEY = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"


def _log(tmp_path: Path) -> Path:
    """Three requests of users known by e-mail, one row with a broken token count."""
    path = tmp_path / "proxy.jsonl"
    lines = []
    for i, tokens in enumerate([12, "twelve", 30]):
        lines.append(
            {
                "request": {
                    "model": "gpt-4o",
                    "user": EMAIL,
                    "messages": [{"role": "user", "content": f"mail {EMAIL} my key {KEY} please {i}"}],
                },
                "response": {
                    "id": f"chatcmpl-{i}",
                    "object": "chat.completion",
                    "created": 1_740_000_000 + i,
                    "model": "gpt-4o",
                    "choices": [{"index": 0, "finish_reason": "stop", "message": {"content": "ok"}}],
                    "usage": {"prompt_tokens": tokens, "completion_tokens": 3},
                },
            }
        )
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return path


def _stored_bytes(lake: Path) -> bytes:
    return b"".join(p.read_bytes() for p in lake.rglob("*") if p.is_file() and not p.name.startswith("_user"))


def test_samples_are_scrubbed_and_private_and_users_hashed_everywhere(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    summary = ingest_paths([_log(tmp_path)], lake, catalog=StubCatalog(), hash_users=True, sample_rate=1.0)
    assert (summary.total.rows_written, summary.total.quarantined) == (2, 1)
    texts = read_samples(lake.root)["text"].to_pylist()
    assert len(texts) == 3
    assert all("[EMAIL]" in t and "[SECRET]" in t for t in texts)
    stored = _stored_bytes(lake.root)
    assert EMAIL.encode() not in stored
    assert KEY.encode() not in stored
    assert b"maria" not in stored
    quarantined = lake.read_quarantine().to_pylist()
    assert [q["field"] for q in quarantined] == ["input_tokens"]
    private = list((lake.root / "samples").glob("*.parquet")) + list(lake.quarantine_dir.glob("*.parquet"))
    assert private
    assert {p.stat().st_mode & 0o777 for p in private} == {0o600}
    assert lake.quarantine_dir.stat().st_mode & 0o777 == 0o700


def test_quarantine_records_are_scrubbed_without_hashing(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["request_id", "ts", "model", "input_tokens", "user_id"])
        writer.writerow(["a", "2025-03-03T10:00:00Z", "gpt-4o", "-5", EMAIL])
    lake = Lake(tmp_path / "lake")
    ingest_paths([path], lake, catalog=StubCatalog(), fmt="csv")
    record = json.loads(lake.read_quarantine()["record"][0].as_py())
    assert record["user_id"] == "[EMAIL]"
    assert record["input_tokens"] == "-5"


def test_a_bad_row_is_quarantined_once(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    path = _log(tmp_path)
    first = ingest_paths([path], lake, catalog=StubCatalog())
    again = ingest_paths([path], lake, catalog=StubCatalog())
    assert first.total.quarantined == again.total.quarantined == 1  # each run says what it rejected
    assert lake.read_quarantine().num_rows == 1  # the lake keeps it once


def test_purge_drops_old_samples_and_quarantine_but_keeps_events(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    ingest_paths([_log(tmp_path)], lake, catalog=StubCatalog(), sample_rate=1.0)
    old = time.time() - 40 * 86_400
    for f in [*(lake.root / "samples").glob("*.parquet"), *lake.quarantine_dir.glob("*.parquet")]:
        os.utime(f, (old, old))
    assert lake.purge(60) == {"samples": 0, "quarantine": 0}
    assert lake.purge(30) == {"samples": 1, "quarantine": 1}
    assert read_samples(lake.root).num_rows == 0
    assert lake.read_quarantine().num_rows == 0
    assert lake.read_events().num_rows == 2
    assert lake.manifest()[-1]["purge"] == {
        "older_than_days": 30,
        "files_deleted": {"samples": 1, "quarantine": 1},
    }


def test_a_re_ingest_with_another_user_hashing_adds_nothing(tmp_path: Path) -> None:
    """The user is not part of a request's identity: its stored form depends on --hash-users."""
    lake = Lake(tmp_path / "lake")
    path = _log(tmp_path)
    ingest_paths([path], lake, catalog=StubCatalog(), hash_users=True)
    again = ingest_paths([path], lake, catalog=StubCatalog()).total
    assert (again.rows_written, again.duplicates, again.collisions) == (0, 2, 0)


def test_a_sample_is_stored_once_across_flushes_and_runs(tmp_path: Path, monkeypatch) -> None:
    """The writer knows stored samples by their ids' hashes (read from the request_id column once),
    so a later run, or a later chunk after a flush, keeps only the requests not stored yet."""
    import pyarrow as pa

    from tokencensus.ingest import samples as samples_module

    monkeypatch.setattr(samples_module, "_FLUSH_ROWS", 3)
    Lake(tmp_path / "lake")

    def offer(writer: samples_module.SampleWriter, ids: range) -> None:
        writer.add(pa.table({"request_id": [f"r{i}" for i in ids], "text": [f"prompt {i}" for i in ids]}))

    first = samples_module.SampleWriter(tmp_path / "lake", rate=1.0)
    offer(first, range(0, 5))  # flushed (5 ≥ 3)
    offer(first, range(3, 8))  # r3, r4 are known after the flush: r5..r7 are new
    first.flush()
    second = samples_module.SampleWriter(tmp_path / "lake", rate=1.0)
    offer(second, range(6, 10))  # a later run: r8, r9 only
    second.flush()
    stored = read_samples(tmp_path / "lake").column("request_id").to_pylist()
    assert sorted(stored) == sorted(f"r{i}" for i in range(10))
    assert len(stored) == 10
    assert (first.written, second.written) == (8, 2)
