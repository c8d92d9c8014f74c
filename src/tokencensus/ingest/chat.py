"""Researchers' chat datasets: ShareGPT, WildChat and LMSYS-Chat-1M.

A conversation becomes one request per assistant turn, as a gateway would have logged it: the
request's input is every message before that turn (the context the model was sent), its output the
assistant's message. Token counts are estimated with a real tokenizer (:mod:`tokens`) and marked
``tokens_estimated``. ``request_id`` is ``<conversation id>#<turn>`` (turns counted from 1); the
quarantine row is the line (JSON) or record (Parquet) number of the conversation.

* ShareGPT (``{"id", "conversations": [{"from": "human"|"gpt", "value"}]}``) has no timestamps,
  users or model names: every conversation is dated :data:`UNDATED` and attributed to ``chatgpt``
  unless the mapping gives constants (``ts = "=2023-04-01"``, ``model = "=gpt-4"``).
* WildChat / LMSYS-Chat (``conversation_hash``/``conversation_id``, ``model``, ``timestamp``,
  ``conversation: [{"role", "content", ...}]``, ``hashed_ip``, ``country``): a message's own
  ``timestamp`` wins over the conversation's; ``hashed_ip`` (else ``user_id``) is the user; country
  names become ISO codes. LMSYS has no timestamps: :data:`UNDATED` again, unless mapped.

The user message of each turn goes to the samples table; nothing else of the text is kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from tokencensus.errors import ConfigError
from tokencensus.ingest import columns as parse
from tokencensus.ingest.format import Batch, ReadOptions
from tokencensus.ingest.samples import content_text, samples_table
from tokencensus.ingest.streams import JSON_BATCH_RECORDS, Reject, batched, head_bytes, json_records
from tokencensus.ingest.tabular import Mapper, raw_table
from tokencensus.ingest.tokens import count_tokens

UNDATED = datetime(2023, 4, 1, tzinfo=UTC)
"""Timestamp given to conversations of datasets without one (ShareGPT V3 was collected up to April 2023)."""
SHAREGPT_MODEL = "chatgpt"
"""Model name given to ShareGPT conversations (shared ChatGPT chats) unless the mapping says otherwise."""
_USER_ROLES = {"human", "user", "prompter"}
_ASSISTANT_ROLES = {"gpt", "assistant", "chatgpt", "bard", "bing", "model", "bot"}
_FIELDS = ("request_id", "ts", "user_id", "model_raw", "country", "input_tokens", "output_tokens")


def read_sharegpt(path: Path, options: ReadOptions) -> Iterator[Batch]:
    """ShareGPT conversations (JSON Lines or a JSON array)."""
    defaults = _defaults(options, model=SHAREGPT_MODEL)
    yield from _read_json(path, defaults, _sharegpt_turns)


def read_wildchat(path: Path, options: ReadOptions) -> Iterator[Batch]:
    """WildChat / LMSYS-Chat conversations (JSON Lines, a JSON array, or Parquet)."""
    defaults = _defaults(options, model=None)
    if head_bytes(path, 4) == b"PAR1":
        yield from _read_parquet(path, defaults)
    else:
        yield from _read_json(path, defaults, _wildchat_turns)


def _defaults(options: ReadOptions, model: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"ts": UNDATED, "model": model}
    for key, value in options.mapping.items():
        if key not in ("ts", "model") or not value.startswith("="):
            raise ConfigError(
                "mapping: chat datasets take only constants for ts and model "
                f'(ts = "=2023-04-01"), not {key} = {value!r}'
            )
        if key == "ts":
            parsed, bad = parse.as_timestamp(pa.array([value[1:]]))
            if bad is not None:
                raise ConfigError(f"mapping: ts constant {value[1:]!r} is not a timestamp")
            out["ts"] = parsed[0].as_py()
        else:
            out["model"] = value[1:]
    return out


Turn = tuple[str, str]  # (role kind: "user" | "assistant" | "other", text)


def _role(name: object) -> str:
    key = str(name).lower()
    if key in _USER_ROLES:
        return "user"
    if key in _ASSISTANT_ROLES:
        return "assistant"
    return "other"


def _sharegpt_turns(
    record: dict[str, Any], defaults: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    conversation = record.get("conversations") or record.get("items") or []
    messages = [
        {"role": _role(m.get("from", m.get("role"))), "text": content_text(m.get("value", m.get("content")))}
        for m in conversation
        if isinstance(m, dict)
    ]
    meta = {
        "id": record.get("id"),
        "model": record.get("model") or defaults["model"],
        "ts": defaults["ts"],
        "user": None,
        "country": None,
    }
    return meta, messages


def _wildchat_turns(
    record: dict[str, Any], defaults: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    conversation = record.get("conversation") or []
    messages = []
    for m in conversation:
        if not isinstance(m, dict):
            continue
        messages.append(
            {"role": _role(m.get("role")), "text": content_text(m.get("content")), "ts": m.get("timestamp")}
        )
    meta = {
        "id": record.get("conversation_hash") or record.get("conversation_id") or record.get("id"),
        "model": defaults["model"] or record.get("model"),
        "ts": record.get("timestamp") or defaults["ts"],
        "user": record.get("hashed_ip") or record.get("user_id"),
        "country": record.get("country"),
    }
    return meta, messages


def _read_json(path: Path, defaults: dict[str, Any], turns: Any) -> Iterator[Batch]:
    for items in batched(json_records(path, keep_text=False), JSON_BATCH_RECORDS // 10):
        records: list[tuple[int, Any]] = []
        rejects: list[Reject] = []
        for item in items:
            if isinstance(item, Reject):
                rejects.append(item)
            elif isinstance(item[1], list):  # a whole-file array read as one document
                records.extend((item[0], r) for r in item[1])
            else:
                records.append(item)
        yield _batch(records, rejects, defaults, turns)


def _read_parquet(path: Path, defaults: dict[str, Any]) -> Iterator[Batch]:
    from tokencensus.ingest.generic import parquet_batches, parquet_file

    names = parquet_file(path).schema_arrow.names
    wanted = [
        c
        for c in (
            "conversation_hash",
            "conversation_id",
            "id",
            "model",
            "timestamp",
            "conversation",
            "hashed_ip",
            "user_id",
            "country",
        )
        if c in names
    ]
    for table, rows in parquet_batches(path, wanted):
        for start in range(0, table.num_rows, JSON_BATCH_RECORDS // 10):
            part = table.slice(start, JSON_BATCH_RECORDS // 10)
            records = list(zip(rows[start : start + part.num_rows].tolist(), part.to_pylist(), strict=True))
            yield _batch(records, [], defaults, _wildchat_turns)


def _batch(
    records: list[tuple[int, Any]], rejects: list[Reject], defaults: dict[str, Any], turns: Any
) -> Batch:
    out: dict[str, list[Any]] = {f: [] for f in _FIELDS}
    rows: list[int] = []
    samples_ids: list[str | None] = []
    samples_text: list[str | None] = []
    texts: list[str] = []
    spans: list[tuple[list[int], int]] = []  # per request: indices of context texts, index of output
    for row, record in records:
        if not isinstance(record, dict):
            rejects.append(Reject(row, "record", "conversation is not a JSON object"))
            continue
        meta, messages = turns(record, defaults)
        if not meta["id"]:
            rejects.append(Reject(row, "request_id", "conversation has no id"))
            continue
        base = len(texts)
        texts.extend(m["text"] or "" for m in messages)
        turn = 0
        last_user: str | None = None
        for i, message in enumerate(messages):
            if message["role"] == "user":
                last_user = message["text"]
            if message["role"] != "assistant" or i == 0:
                continue
            turn += 1
            rid = f"{meta['id']}#{turn}"
            rows.append(row)
            out["request_id"].append(rid)
            out["ts"].append(message.get("ts") or meta["ts"])
            out["user_id"].append(meta["user"])
            out["model_raw"].append(meta["model"])
            out["country"].append(meta["country"])
            spans.append((list(range(base, base + i)), base + i))
            samples_ids.append(rid)
            samples_text.append(last_user)
        if turn == 0:
            rejects.append(Reject(row, "conversation", "conversation has no assistant reply after a prompt"))
    counts = count_tokens(texts)
    for context, answer in spans:
        out["input_tokens"].append(sum(counts[j] for j in context))
        out["output_tokens"].append(counts[answer])
    raw = raw_table(out, len(rows))
    m = Mapper(raw)
    for name in ("request_id", "user_id", "model_raw", "country"):
        m.set(name, m.text(name, "model" if name == "model_raw" else name))
    m.set("ts", m.ts("ts"))
    m.set("input_tokens", m.int("input_tokens", "input_tokens"))
    m.set("output_tokens", m.int("output_tokens", "output_tokens"))
    m.constant("tokens_estimated", True, pa.bool_())
    return m.batch(np.array(rows, dtype=np.int64), rejects, samples=samples_table(samples_ids, samples_text))
