"""Malformed inputs give clear errors or quarantine exactly the bad rows; no good row is lost."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import pyarrow as pa
import pytest

from tests.conftest import shared_file
from tests.ingest.support import (
    SECRET_PROMPT,
    ingest,
    litellm_rows,
    openai_records,
    otel_export,
    otel_spans,
    wildchat_records,
    write_csv,
    write_jsonl,
    write_litellm_csv,
)
from tokencensus.errors import ConfigError, InputError
from tokencensus.ingest import detect_format, read_samples
from tokencensus.lake import Lake

HEADER = ["request_id", "ts", "model", "input_tokens", "output_tokens", "cost_usd"]


def good_row(i: int) -> list[object]:
    return [f"r{i}", f"2025-06-{1 + i % 28:02d}T10:00:00Z", "gpt-4o", 100 + i, 10 + i, 0.5]


def quarantine(lake_dir: Path) -> list[dict]:
    return sorted(Lake(lake_dir).read_quarantine().to_pylist(), key=lambda r: r["row"])


def test_wrong_types_negative_tokens_and_bad_timestamps_are_quarantined(tmp_path: Path) -> None:
    rows = [good_row(i) for i in range(10)]
    rows[2][3] = "abc"  # line 4
    rows[4][1] = "yesterday"  # line 6
    rows[5][4] = -7  # line 7
    rows[7][5] = "free"  # line 9
    rows[8][3] = "12.5"  # line 10
    path = write_csv(tmp_path / "log.csv", HEADER, rows)
    summary = ingest([path], tmp_path / "lake")
    assert summary.total.rows_read == 10
    assert summary.total.rows_written == 5
    assert summary.total.quarantined == 5
    landed = sorted(Lake(tmp_path / "lake").read_events()["request_id"].to_pylist())
    assert landed == sorted(f"r{i}" for i in (0, 1, 3, 6, 9))
    q = quarantine(tmp_path / "lake")
    assert [(r["row"], r["field"]) for r in q] == [
        (4, "input_tokens"),
        (6, "ts"),
        (7, "output_tokens"),
        (9, "cost_usd"),
        (10, "input_tokens"),
    ]
    assert q[0]["reason"] == "input_tokens (column 'input_tokens') is not an integer"
    assert q[1]["reason"] == "ts (column 'ts') is not a timestamp"
    assert q[2]["reason"] == "output_tokens is negative"
    assert {r["source"] for r in q} == {str(path)}
    assert json.loads(q[0]["record"])["input_tokens"] == "abc"  # the row as read, to fix and re-ingest


def test_truncated_real_export_keeps_every_complete_row(tmp_path: Path) -> None:
    source = shared_file("openrouter/activity_export_sample.csv")
    data = source.read_bytes()
    lines = data.split(b"\n")
    cut = tmp_path / "activity_truncated.csv"
    cut.write_bytes(b"\n".join(lines[:1001]) + b"\n" + lines[1001][:40])  # header + 1000 rows + half a row
    summary = ingest([cut], tmp_path / "lake")
    assert summary.total.rows_read == 1001
    assert summary.total.rows_written + summary.total.quarantined == 1001
    q = quarantine(tmp_path / "lake")
    truncated = [r for r in q if r["field"] == "line"]
    assert len(truncated) == 1
    assert truncated[0]["row"] == 1002
    assert "truncated" in truncated[0]["reason"]
    assert summary.total.rows_written == 1000 - sum(r["field"] == "reasoning_tokens" for r in q)


def test_ragged_blank_and_non_utf8_lines(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    body = [",".join(map(str, good_row(i))) for i in range(6)]
    body[1] = "r1,2025-06-02T10:00:00Z,gpt-4o,5"  # too few fields: line 3
    body[3] = "r3,2025-06-04T10:00:00Z,gpt-4o,5,1,0.5,surplus"  # too many: line 5
    text = ",".join(HEADER) + "\n" + "\n".join(body[:2]) + "\n\n" + "\n".join(body[2:]) + "\n"
    raw = text.encode().replace(b"r4,", b"r\xff4,")  # invalid UTF-8 in the id of r4: line 7
    path.write_bytes(raw)
    summary = ingest([path], tmp_path / "lake")
    assert sorted(Lake(tmp_path / "lake").read_events()["request_id"].to_pylist()) == ["r0", "r2", "r5"]
    q = quarantine(tmp_path / "lake")
    assert [(r["row"], r["field"]) for r in q] == [(3, "line"), (6, "line"), (7, "request_id")]
    assert "not valid UTF-8" in q[2]["reason"]
    assert summary.total.rows_read == 6  # the blank line (4) is not a row


def test_unknown_columns_are_ignored(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "log.csv",
        [*HEADER, "colour", "weather"],
        [[*good_row(i), "red", "rain"] for i in range(3)],
    )
    assert ingest([path], tmp_path / "lake").total.rows_written == 3


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.csv.*empty"):
        ingest([empty], tmp_path / "lake")
    with pytest.raises(InputError, match=r"empty\.csv.*empty"):
        ingest([empty], tmp_path / "lake", fmt="openrouter-csv")
    header_only = write_csv(tmp_path / "header.csv", HEADER, [])
    summary = ingest([header_only], tmp_path / "lake")
    assert summary.total.rows_read == 0
    assert Lake(tmp_path / "lake").is_empty()


def test_binary_garbage_is_an_input_error_naming_the_file(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(InputError, match=r"garbage\.csv: binary data.*openrouter-csv"):
        detect_format(garbage)
    for fmt in ("csv", "openrouter-csv", "litellm"):
        with pytest.raises(InputError, match=r"garbage\.csv"):
            ingest([garbage], tmp_path / "lake", fmt=fmt)
    with pytest.raises(InputError, match=r"garbage\.csv: not a readable Parquet file"):
        ingest([garbage], tmp_path / "lake", fmt="parquet")
    assert Lake(tmp_path / "lake").is_empty()


def test_unrecognised_files_and_options(tmp_path: Path) -> None:
    odd = write_csv(tmp_path / "odd.csv", ["a", "b"], [[1, 2]])
    with pytest.raises(InputError, match=r"odd\.csv: cannot tell the log format.*--mapping"):
        detect_format(odd)
    with pytest.raises(InputError, match=r"odd\.csv.*needs the column\(s\) request_id, ts, model"):
        ingest([odd], tmp_path / "lake", fmt="csv")
    with pytest.raises(ConfigError, match="unknown --format 'nope'"):
        ingest([odd], tmp_path / "lake", fmt="nope")
    with pytest.raises(InputError, match="no such file"):
        ingest([tmp_path / "missing.csv"], tmp_path / "lake")
    weird_json = write_jsonl(tmp_path / "odd.jsonl", [{"hello": 1}])
    with pytest.raises(InputError, match=r"odd\.jsonl: JSON, but its first record"):
        detect_format(weird_json)
    bad_mapping = tmp_path / "m.toml"
    bad_mapping.write_text('colour = "c"\n')
    from tokencensus.ingest import load_mapping

    with pytest.raises(ConfigError, match=r"m\.toml: 'colour' is not a canonical column"):
        load_mapping(bad_mapping)


def test_every_file_is_checked_before_anything_is_written(tmp_path: Path) -> None:
    good = write_csv(tmp_path / "good.csv", HEADER, [good_row(1)])
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        ingest([good, empty], tmp_path / "lake")
    assert Lake(tmp_path / "lake").is_empty()


def test_bad_json_lines_are_quarantined_with_their_line(tmp_path: Path) -> None:
    records = openai_records()
    path = tmp_path / "pairs.jsonl"
    lines = [json.dumps(r) for r in records]
    lines.insert(
        1, '{"request": {"messages": [{"role": "user", "content": "' + SECRET_PROMPT + '"}]'
    )  # line 2
    lines.append(json.dumps(records[0])[:50])  # a truncated last line: line 6
    path.write_text("\n".join(lines))
    summary = ingest([path], tmp_path / "lake")
    assert summary.total.rows_written == 4
    q = quarantine(tmp_path / "lake")
    assert [(r["row"], r["field"]) for r in q] == [(2, "line"), (6, "line")]
    assert all("not valid JSON" in r["reason"] for r in q)
    assert all(r["record"] is None for r in q)  # a format with prompt text copies no raw line


def test_truncated_json_array_keeps_the_complete_records(tmp_path: Path) -> None:
    path = tmp_path / "spend.json"
    text = json.dumps(litellm_rows(), indent=1)
    path.write_text(text[: text.index('"chatcmpl-a3"') + 40])
    summary = ingest([path], tmp_path / "lake", fmt="litellm")
    assert sorted(Lake(tmp_path / "lake").read_events()["request_id"].to_pylist()) == [
        "chatcmpl-a1",
        "chatcmpl-a2",
    ]
    (q,) = quarantine(tmp_path / "lake")
    assert "truncated" in q["reason"]
    assert q["row"] > 1
    assert summary.total.rows_read == 3


def test_reingesting_is_a_no_op(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "log.csv", HEADER, [good_row(i) for i in range(20)])
    first = ingest([path], tmp_path / "lake")
    again = ingest([path], tmp_path / "lake")
    assert first.total.rows_written == 20
    assert again.total.rows_written == 0
    assert again.total.duplicates == 20
    assert Lake(tmp_path / "lake").read_events().num_rows == 20


def test_prompt_text_never_leaves_the_samples_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    litellm_path = write_litellm_csv(tmp_path / "spend.csv")
    with litellm_path.open("a") as handle:  # a ragged line that carries the prompt
        handle.write(f'chatcmpl-z,acompletion,"{SECRET_PROMPT}"\n')
    otel_path = tmp_path / "traces.json"
    otel_path.write_text(json.dumps(otel_export(otel_spans())))
    openai_path = write_jsonl(tmp_path / "pairs.jsonl", openai_records())
    with openai_path.open("a") as handle:
        handle.write('{"broken": "' + SECRET_PROMPT + '"\n')
    chat_path = write_jsonl(tmp_path / "wildchat.jsonl", wildchat_records())
    bad_rows = litellm_rows()
    bad_rows[0]["prompt_tokens"] = "lots"  # a parse failure on a row whose messages hold the prompt
    bad_path = write_jsonl(tmp_path / "spend_bad.jsonl", bad_rows)
    summary = ingest(
        [litellm_path, otel_path, openai_path, chat_path, bad_path], tmp_path / "lake", sample_rate=1.0
    )
    lake = Lake(tmp_path / "lake")
    assert summary.total.quarantined >= 3
    for table in (lake.read_events(), lake.read_quarantine()):
        for column in table.columns:
            assert not any(SECRET_PROMPT in str(v) for v in column.to_pylist())
    assert SECRET_PROMPT not in str(summary)
    assert SECRET_PROMPT not in json.dumps(lake.manifest())
    out = capsys.readouterr()
    assert SECRET_PROMPT not in out.out + out.err
    texts = read_samples(tmp_path / "lake")["text"].to_pylist()
    assert texts.count(SECRET_PROMPT) >= 4  # it is kept where it belongs


def test_hash_users_uses_a_salted_sha256(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_litellm_csv(tmp_path / "spend.csv")
    monkeypatch.setenv("TOKENCENSUS_USER_SALT", "pepper")
    ingest([path], tmp_path / "lake", hash_users=True)
    users = {r["request_id"]: r["user_id"] for r in Lake(tmp_path / "lake").read_events().to_pylist()}
    assert users["chatcmpl-a1"] == hashlib.sha256(b"pepper\x00customer-9").hexdigest()
    monkeypatch.delenv("TOKENCENSUS_USER_SALT")
    ingest([path], tmp_path / "lake2", hash_users=True)
    salt_file = tmp_path / "lake2" / "_user_salt"
    assert oct(salt_file.stat().st_mode & 0o777) == "0o600"
    salt = salt_file.read_text().strip()
    again = {r["request_id"]: r["user_id"] for r in Lake(tmp_path / "lake2").read_events().to_pylist()}
    assert again["chatcmpl-a1"] == hashlib.sha256(salt.encode() + b"\x00customer-9").hexdigest()
    assert "customer-9" not in again.values()


def test_progress_reports_rows_done(tmp_path: Path) -> None:
    a = write_csv(tmp_path / "a.csv", HEADER, [good_row(i) for i in range(5)])
    b = write_csv(tmp_path / "b.csv", HEADER, [good_row(i + 100) for i in range(7)])
    seen: list[int] = []
    ingest([a, b], tmp_path / "lake", progress=seen.append)
    assert seen == sorted(seen)
    assert seen[-1] == 12


def test_directories_are_expanded(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    write_csv(logs / "a.csv", HEADER, [good_row(1)])
    write_csv(logs / "b.csv", HEADER, [good_row(2)])
    summary = ingest([logs], tmp_path / "lake")
    assert [Path(f.source).name for f in summary.files] == ["a.csv", "b.csv"]
    assert os.path.exists(tmp_path / "lake" / "events")
    assert isinstance(Lake(tmp_path / "lake").read_events(), pa.Table)


# -- the malformed-input corpus (tests/data/malformed/cases.toml) -------------------------------------

CORPUS = Path(__file__).parents[1] / "data" / "malformed"


def _cases() -> list[dict]:
    import tomllib

    return tomllib.loads((CORPUS / "cases.toml").read_text())["case"]


def _case_file(case: dict, tmp_path: Path) -> Path:
    if case.get("generated"):
        import importlib.util

        spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.generate(case["file"], tmp_path / "generated")
    return CORPUS / case["file"]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["file"])
def test_malformed_corpus_case(case: dict, tmp_path: Path) -> None:
    """Every corpus file: detected, and its good rows land while exactly its bad rows are quarantined,
    or (a bad option) a clear error before anything is written."""
    from tokencensus.errors import TokencensusError
    from tokencensus.ingest import load_mapping

    path = _case_file(case, tmp_path)
    lake_dir = tmp_path / "lake"
    if "error" in case:
        with pytest.raises(TokencensusError) as info:  # noqa: PT012 (a bad mapping fails while loading)
            mapping = load_mapping(CORPUS / case["mapping"]) if "mapping" in case else None
            ingest([path], lake_dir, mapping=mapping)
        assert case["error"] in str(info.value)
        assert Lake(lake_dir).is_empty()
        return
    assert detect_format(path) == case["format"]
    mapping = load_mapping(CORPUS / case["mapping"]) if "mapping" in case else None
    summary = ingest([path], lake_dir, mapping=mapping)
    events = Lake(lake_dir).read_events()
    q = quarantine(lake_dir)
    assert (events.num_rows, len(q)) == (case["landed"], case["quarantined"])
    assert summary.total.rows_written == case["landed"]
    if "reason" in case:
        assert any(case["reason"] in r["reason"] for r in q), [r["reason"] for r in q]


def test_every_corpus_file_ends_in_a_summary_or_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the CLI: exit 0 with a summary, or `Error: <file>: ...` and exit 1; never a traceback."""
    from tokencensus.cli import main

    for case in _cases():
        if case.get("generated"):
            continue
        args = ["ingest", "--lake", str(tmp_path / case["file"]), str(CORPUS / case["file"])]
        if "mapping" in case:
            args += ["--mapping", str(CORPUS / case["mapping"])]
        code = 0
        try:
            main(args)
        except SystemExit as exc:
            code = int(exc.code or 0)
        err = capsys.readouterr().err
        assert "Traceback" not in err
        if "error" in case:
            assert code == 1, err
            assert "Error: " in err, err
            assert case["file"].split(".")[0] in err, err
        else:
            assert code == 0, err


def test_unexpected_reader_errors_name_the_file_without_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug a strange file reveals: `Error: <file>: reading failed (Type)`, no text of the row;
    --debug shows the traceback."""
    from tokencensus import ingest as ingest_module
    from tokencensus.cli import main
    from tokencensus.ingest import generic

    def broken(_path: Path, _options: object):
        raise ValueError(SECRET_PROMPT)
        yield  # pragma: no cover

    fmt = ingest_module.FORMATS["csv"]
    monkeypatch.setitem(ingest_module.FORMATS, "csv", fmt.__class__(**{**fmt.__dict__, "read": broken}))
    path = write_csv(tmp_path / "log.csv", HEADER, [good_row(1)])
    with pytest.raises(SystemExit) as exit_info:
        main(["ingest", "--lake", str(tmp_path / "lake"), str(path)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1
    assert "log.csv" in err
    assert "ValueError" in err
    assert SECRET_PROMPT not in err
    assert "Traceback" not in err
    monkeypatch.delenv("TOKENCENSUS_DEBUG", raising=False)
    with pytest.raises(ValueError, match=re.escape(SECRET_PROMPT)):  # --debug lets the reader's error through
        main(["--debug", "ingest", "--lake", str(tmp_path / "lake"), str(path)])
    monkeypatch.delenv("TOKENCENSUS_DEBUG", raising=False)
    assert generic  # imported for the registry


def test_data_pages_are_streamed_element_by_element(tmp_path: Path) -> None:
    from tokencensus.ingest.streams import json_records

    page = tmp_path / "page.json"
    records = [{"id": f"gen-{i}", "n": i} for i in range(3)]
    page.write_text(json.dumps({"meta": {"page": 1}, "data": records, "tail": [1, 2]}, indent=1))
    items = list(json_records(page))
    assert [v for _, v in items] == records
    assert [row for row, _ in items] == [6, 10, 14]  # the line each element starts on
    many = [{"id": f"gen-{i}", "pad": "p" * 100} for i in range(2000)]  # one line past the sniffed head
    compact = tmp_path / "compact.json"
    compact.write_text(json.dumps({"data": many}) + "\n")
    assert [v for _, v in json_records(compact)] == many
    truncated = tmp_path / "cut.json"
    text = json.dumps({"data": records}, indent=1)
    truncated.write_text(text[: text.index('"gen-2"') + 3])
    items = list(json_records(truncated))
    assert [v for v in items if not hasattr(v, "reason")] == [(3, records[0]), (7, records[1])]
    assert "truncated" in items[-1].reason


def test_long_lines_are_read_in_linear_time_and_overlong_ones_skipped() -> None:
    import io as _io

    from tokencensus.ingest.streams import _lines, _Overlong

    line = b"x" * (9 << 20)  # longer than the 4 MB read size: carried over several reads
    data = b"a\n" + line + b"\nb\n" + line + line + b"\nc"
    out = list(_lines(_io.BytesIO(data)))
    assert out[0] == b"a"
    assert out[1] == line
    assert out[2] == b"b"
    assert out[3] == line + line
    assert out[4] == b"c"
    out = list(_lines(_io.BytesIO(data), limit=10 << 20))
    assert isinstance(out[3], _Overlong)
    assert out[3].size == 2 * len(line)
    assert out[4] == b"c"


def test_a_mapping_ts_format_that_reads_nothing_fails_fast(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "log.csv", HEADER, [good_row(i) for i in range(4)])
    with pytest.raises(ConfigError, match=r"log\.csv: ts_format '%d/%m/%Y' reads none of the 4 timestamps"):
        ingest([path], tmp_path / "lake", mapping={"ts_format": "%d/%m/%Y"})
    with pytest.raises(ConfigError, match=r"ts_format '%Q' is not a valid timestamp pattern"):
        ingest([path], tmp_path / "lake", mapping={"ts_format": "%Q"})
    assert Lake(tmp_path / "lake").is_empty()


def test_a_binary_line_deep_in_a_file_is_named_by_its_line(tmp_path: Path, monkeypatch) -> None:
    """Lines are numbered only from the first binary line on (counted again from the start then):
    the number must be right however many blocks came before."""
    from tokencensus.ingest import streams

    monkeypatch.setattr(streams._Source, "CHUNK", 64)  # many small blocks
    lines = [b"request_id,ts,model,input_tokens"]
    lines += [b"r%d,2025-06-01T10:00:00Z,gpt-4o,%d" % (i, i) for i in range(2, 120)]
    lines[76] = b"\x00\x01\x02\xff\xfe garbage \x03"  # line 77
    path = tmp_path / "log.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    source = streams.open_binary(path, drop_binary=True)
    while source.read(1 << 10):
        pass
    assert source.dropped == [77]


def test_crlf_lines_after_a_long_first_line_are_numbered_once(tmp_path: Path) -> None:
    """A CRLF file is not taken for CR-only line ends when its first line is long (> 64 KiB)."""
    long_line = json.dumps({"id": "gen-0", "note": "x" * 70_000})
    lines = [long_line, *[json.dumps({"n": i}) for i in range(3)], "not json"]
    path = tmp_path / "log.jsonl"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    from tokencensus.ingest.streams import Reject, json_records

    rejects = [r for r in json_records(path) if isinstance(r, Reject)]
    assert [r.row for r in rejects] == [5]


def test_mapping_options_a_format_would_ignore_are_refused() -> None:
    from tokencensus.ingest import FORMATS
    from tokencensus.ingest.pipeline import check_format

    with pytest.raises(ConfigError, match=r"\[where\] type.*only .*csv"):
        check_format("openai-jsonl", FORMATS, {"where.type": "GENERATION"})
    with pytest.raises(ConfigError, match="latency_unit"):
        check_format("langfuse", FORMATS, {"latency_unit": "s"})
    assert check_format("openai-jsonl", FORMATS, {"provider": "=ollama"}).name == "openai-jsonl"
