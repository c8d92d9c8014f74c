"""Researchers' chat datasets: ShareGPT, OpenAI-style ``messages``, WildChat and LMSYS-Chat-1M.

A conversation becomes one request per assistant turn, as a gateway would have logged it: the
request's input is every message before that turn (the context the model was sent), its output the
assistant's message. Token counts are estimated with a real tokenizer (:mod:`tokens`) and marked
``tokens_estimated``. The quarantine row is the line (JSON) or record (Parquet) number of the
conversation.

Identity: ``request_id`` is ``<conversation id>#<turn>`` (turns counted from 1). A conversation
without an id (most fine-tuning sets) is named by a hash of its messages, ``conv:<16 hex>``, so the
same conversation gets the same ids in every run.

* ShareGPT (``{"id"?, "conversations": [{"from": "human"|"gpt"|"function_call"|"observation", "value"}]}``)
  and OpenAI-style ``{"messages": [{"role", "content"}]}`` files (LLaMA-Factory, most fine-tuning
  sets; ``content`` may be a list of parts). Tool use: a ShareGPT ``function_call`` turn is a tool
  call of the assistant turn it leads to (the model called the tool, read the ``observation`` and
  answered), so it adds to that request's ``tool_calls`` and output; an OpenAI assistant message
  with ``tool_calls`` (or ``function_call``) is a request that ends in tool calls, one per call.
  Tool results (``observation``, ``tool``, ``function`` messages) are context. These datasets have no
  timestamps, users or model names: each conversation without a date gets :data:`UNDATED` and one
  without a model ``chatgpt`` (the catalog resolves it), unless the mapping gives constants
  (``ts = "=2024-01-01"``, ``model = "=gpt-4"``).
* WildChat / LMSYS-Chat (``conversation_hash``/``conversation_id``, ``model``, ``timestamp``,
  ``conversation: [{"role", "content", ...}]``, ``hashed_ip``, ``country``): a message's own
  ``timestamp`` wins over the conversation's; ``hashed_ip`` (else ``user_id``) is the user; country
  names become ISO codes. A conversation without a timestamp is dated :data:`UNDATED` (per
  conversation: a file may mix dated and undated ones).

The user message of each turn goes to the samples table; nothing else of the text is kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tokencensus.errors import ConfigError
from tokencensus.identity import content_id
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
_CALL_ROLES = {"function_call", "tool_call", "tool_calls"}
"""ShareGPT turns in which the model calls a tool (LLaMA-Factory, Glaive): part of the next answer."""
_FIELDS = (
    "request_id",
    "ts",
    "user_id",
    "model_raw",
    "country",
    "input_tokens",
    "output_tokens",
    "tool_calls",
    "finish_reason",
)


def read_sharegpt(path: Path, options: ReadOptions) -> Iterator[Batch]:
    """ShareGPT or OpenAI-style ``messages`` conversations (JSON Lines or a JSON array)."""
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
            continue  # other constants are filled in by the pipeline; columns are refused there
        if key == "ts":
            parsed, bad = parse.as_timestamp(pa.array([value[1:]]))
            if bad is not None:
                raise ConfigError(f"mapping: ts constant {value[1:]!r} is not a timestamp")
            out["ts"] = parsed[0].as_py()
        else:
            out["model"] = value[1:]
    return out


def _role(name: object) -> str:
    key = str(name).lower()
    if key in _USER_ROLES:
        return "user"
    if key in _ASSISTANT_ROLES:
        return "assistant"
    if key in _CALL_ROLES:
        return "call"
    return "other"


def _calls(message: dict[str, Any]) -> int:
    """Tool calls an OpenAI-style assistant message makes (``tool_calls`` list, legacy ``function_call``)."""
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        return len(calls)
    return 1 if isinstance(message.get("function_call"), dict) else 0


def _message(m: dict[str, Any]) -> dict[str, Any]:
    text = content_text(m.get("value", m.get("content")))
    calls = _calls(m)
    if calls:  # the call itself is output the model wrote
        text = "\n".join(
            [text, *(json.dumps(c, sort_keys=True) for c in m.get("tool_calls") or [m["function_call"]])]
        )
    return {"role": _role(m.get("from", m.get("role"))), "text": text, "calls": calls}


def _sharegpt_turns(
    record: dict[str, Any], defaults: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    conversation = record.get("conversations") or record.get("messages") or record.get("items") or []
    messages = [_message(m) for m in conversation if isinstance(m, dict)]
    meta = {
        "id": record.get("id"),
        "model": record.get("model") or defaults["model"],
        "ts": record.get("timestamp") or record.get("created_at"),
        "user": None,
        "country": None,
    }
    return meta, messages


class _Anonymous:
    """Ids for the conversations of one file that carry none: ``conv:<hash of the messages>``, with
    ``-2``, ``-3``, ... for the second and later copies of the same conversation (datasets repeat
    conversations, and each copy is a sample of its own)."""

    def __init__(self) -> None:
        self.copies: dict[str, int] = {}

    def id(self, messages: list[dict[str, Any]]) -> str | None:
        if not messages:
            return None
        base = content_id("conv", [(m["role"], m["text"]) for m in messages])
        n = self.copies[base] = self.copies.get(base, 0) + 1
        return base if n == 1 else f"{base}-{n}"


def _wildchat_turns(
    record: dict[str, Any], defaults: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    conversation = record.get("conversation") or []
    messages = []
    for m in conversation:
        if not isinstance(m, dict):
            continue
        messages.append({**_message(m), "ts": m.get("timestamp")})
    meta = {
        "id": record.get("conversation_hash")
        or record.get("conversation_id")
        or record.get("id"),
        "model": defaults["model"] or record.get("model"),
        "ts": record.get("timestamp"),
        "user": record.get("hashed_ip") or record.get("user_id"),
        "country": record.get("country"),
    }
    return meta, messages


def _read_json(path: Path, defaults: dict[str, Any], turns: Any) -> Iterator[Batch]:
    anonymous = _Anonymous()
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
        yield _batch(records, rejects, defaults, turns, anonymous)


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
    anonymous = _Anonymous()
    for table, rows in parquet_batches(path, wanted):
        for start in range(0, table.num_rows, JSON_BATCH_RECORDS // 10):
            part = table.slice(start, JSON_BATCH_RECORDS // 10)
            records = list(zip(rows[start : start + part.num_rows].tolist(), part.to_pylist(), strict=True))
            yield _batch(records, [], defaults, _wildchat_turns, anonymous)


def _batch(
    records: list[tuple[int, Any]],
    rejects: list[Reject],
    defaults: dict[str, Any],
    turns: Any,
    anonymous: _Anonymous,
) -> Batch:
    out: dict[str, list[Any]] = {f: [] for f in _FIELDS}
    rows: list[int] = []
    samples_ids: list[str | None] = []
    samples_text: list[str | None] = []
    texts: list[str] = []
    spans: list[tuple[list[int], list[int]]] = []  # per request: indices of its input and output texts
    for row, record in records:
        if not isinstance(record, dict):
            rejects.append(Reject(row, "record", "conversation is not a JSON object"))
            continue
        meta, messages = turns(record, defaults)
        meta["id"] = meta["id"] or anonymous.id(messages)
        if not meta["id"]:
            rejects.append(Reject(row, "conversation", "conversation has no messages"))
            continue
        base = len(texts)
        texts.extend(m["text"] or "" for m in messages)
        turn = 0
        last_user: str | None = None
        calls: list[int] = []  # tool-call turns since the last answer: part of the next request
        for i, message in enumerate(messages):
            role = message["role"]
            if role == "user":
                last_user = message["text"]
            if role == "call" and i > 0:
                calls.append(i)
                if i < len(messages) - 1:
                    continue  # the answer that follows the tool's result closes the request
            elif role != "assistant" or i == 0:
                continue
            turn += 1
            rid = f"{meta['id']}#{turn}"
            rows.append(row)
            out["request_id"].append(rid)
            out["ts"].append(message.get("ts") or meta["ts"])
            out["user_id"].append(meta["user"])
            out["model_raw"].append(meta["model"])
            out["country"].append(meta["country"])
            answer = [i] if role == "assistant" else []
            spans.append(
                (
                    [j for j in range(base, base + i) if j - base not in calls],
                    [base + j for j in calls + answer],
                )
            )
            n_calls = sum(messages[j]["calls"] or 1 for j in calls) + (message["calls"] if answer else 0)
            out["tool_calls"].append(n_calls)
            out["finish_reason"].append("tool_calls" if message["calls"] or not answer else None)
            calls = []
            samples_ids.append(rid)
            samples_text.append(last_user)
        if turn == 0:
            rejects.append(Reject(row, "conversation", "conversation has no assistant reply after a prompt"))
    counts = count_tokens(texts)
    for context, output in spans:
        out["input_tokens"].append(sum(counts[j] for j in context))
        out["output_tokens"].append(sum(counts[j] for j in output))
    raw = raw_table(out, len(rows))
    m = Mapper(raw)
    for name in ("request_id", "user_id", "model_raw", "country", "finish_reason"):
        m.set(name, m.text(name, "model" if name == "model_raw" else name))
    dated = m.ts("ts")
    undated = pa.scalar(defaults["ts"], pa.timestamp("us", tz="UTC"))
    m.set("ts", pa.repeat(undated, m.n) if dated is None else pc.fill_null(dated, undated))
    for name in ("input_tokens", "output_tokens", "tool_calls"):
        m.set(name, m.int(name, name))
    m.constant("tokens_estimated", True, pa.bool_())
    return m.batch(np.array(rows, dtype=np.int64), rejects, samples=samples_table(samples_ids, samples_text))
