"""Langfuse observations: pages of ``GET /api/public/observations`` and the UI's CSV export.

JSON: a page as the API answers (``{"data": [...], "meta": {...}}``), JSON Lines of pages or of
observations, or a bare array of observations (the UI's JSON export). CSV: the UI's export of the
observations table, whose columns are the keys of the rows its batch export writes: the API's
field names (``id``, ``traceId``, ``type``, ``startTime``, ``usageDetails`` as JSON text, ...;
dates written as JSON strings, in quotes, which are unquoted here). The older generations-table
export (no ``type`` column, ``promptTokens``/``completionTokens``, costs written as ``$0.00012``)
is read too. Fields used::

    id → request_id                  startTime → ts (ISO 8601, UTC)
    endTime − startTime → latency_ms  completionStartTime − startTime → ttft_ms
    model (else providedModelName, else internalModel) → model_raw
    usageDetails → tokens, Langfuse's own rule: input = the keys starting with "input" (input,
        input_cached_tokens, input_audio, ...) plus Anthropic-style *_input_tokens keys
        (cache_read_input_tokens, which Langfuse keeps apart); output = the keys starting with
        "output" (output_reasoning_tokens included: output counts reasoning) plus *_output_tokens;
        cached = the cache-read keys (input_cached_tokens, input_cache_read, cache_read_input_tokens);
        reasoning = the keys naming reasoning. Without usageDetails: inputUsage/outputUsage, else
        usage.input/usage.output, else promptTokens/completionTokens; none at all: 0.
    costDetails.total (else the sum of costDetails) → cost_usd; else calculatedTotalCost; else
        totalCost unless it is Langfuse's 0 for "no price known" (costDetails empty)
    userId (the trace's user: the export joins it in, some API versions return it on each
        observation), else metadata.user_id / userId / langfuse_user_id → user_id
    modelParameters.finishReason (else metadata.finish_reason / finishReason) → finish_reason
    output.tool_calls (an assistant message, or a list of them) → tool_calls
    level "ERROR" → finish_reason error, error_type "langfuse level ERROR", with the HTTP status,
        exception class or error code found in statusMessage in brackets (never its text)

``latency`` and ``timeToFirstToken`` are not read: their unit differs between the API (seconds)
and the export (milliseconds), and the old export wrote ``timeToFirstToken`` negated.

Identity: the observation ``id``; one without an id gets a content id over traceId, startTime, model
and usage. Only ``GENERATION`` observations are LLM calls: SPAN, EVENT, AGENT, TOOL, EMBEDDING, ...
are counted in ``Batch.skipped`` (an observation without a ``type``, as in the generations export,
is a generation). Langfuse records no app, provider or streaming flag: those stay null (a
``--mapping`` constant can give an app).
``input`` feeds the samples table only; input, output, metadata and statusMessage are never copied
into the events or the quarantine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from tokencensus.errors import InputError
from tokencensus.identity import content_id
from tokencensus.ingest.failures import error_code
from tokencensus.ingest.format import Batch, ReadOptions
from tokencensus.ingest.samples import content_text, samples_table, user_text
from tokencensus.ingest.streams import (
    JSON_BATCH_RECORDS,
    Reject,
    batched,
    csv_batches,
    csv_header,
    dig,
    head_bytes,
    json_records,
)
from tokencensus.ingest.tabular import Mapper, raw_table

TIMES = ("startTime", "endTime", "completionStartTime")
_NESTED = ("usageDetails", "costDetails", "usage", "metadata", "modelParameters", "input", "output")
CSV_COLUMNS = (
    "id",
    "type",
    "traceId",
    *TIMES,
    "model",
    "providedModelName",
    "internalModel",
    "level",
    "statusMessage",
    "userId",
    "inputUsage",
    "outputUsage",
    "promptTokens",
    "completionTokens",
    "calculatedTotalCost",
    "totalCost",
    *_NESTED,
)
"""Export columns read (the export has more: names, prices, scores, comments, ...)."""
_COLUMNS: tuple[str, ...] = (
    "_id",
    *TIMES,
    "_model",
    "_user",
    "_in",
    "_out",
    "_cached",
    "_reasoning",
    "_cost",
    "_finish",
    "_tool_calls",
    "_failed",
    "_error",
)
"""The raw columns one observation is turned into (see :func:`_derive`), mapped by :func:`_batch`."""
GENERATION = "GENERATION"
LEVEL_ERROR = "ERROR"


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    """Observations from an API page / JSON export, or the UI's CSV export."""
    text = head_bytes(path, 1 << 12).lstrip()
    if text[:1] in (b"{", b"["):
        yield from _read_json(path, options)
    else:
        yield from _read_csv(path, options)


def observation_records(value: Any) -> list[Any]:
    """The observations of one JSON value: an observation, a list, or a page ``{"data": [...]}``."""
    if isinstance(value, list):
        return [r for item in value for r in observation_records(item)]
    if isinstance(value, dict) and isinstance(value.get("data"), list | dict):
        return observation_records(value["data"])
    return [value]


def looks_like(value: Any) -> bool:
    """True for a Langfuse observation, a list of them, or an API page of them."""
    records = observation_records(value)
    if not records or not isinstance(records[0], dict):
        return False
    keys = set(records[0])
    marks = {"traceId", "usageDetails", "parentObservationId", "calculatedTotalCost", "promptTokens"}
    return {"id", "type", "startTime"} <= keys and bool(keys & marks)


def is_export_header(header: list[str]) -> bool:
    """True for the header of a Langfuse observations (or generations) CSV export."""
    columns = set(header)
    return {"id", "traceId", "startTime"} <= columns and bool(
        columns & {"type", "usageDetails", "promptTokens", "level"}
    )


# -- reading -----------------------------------------------------------------------------------------


class _Collector:
    """Observations of one batch, mapped to raw columns; skipped ones counted by type."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.rejects: list[Reject] = []
        self.skipped: dict[str, int] = {}
        self.values: dict[str, list[Any]] = {c: [] for c in _COLUMNS}
        self.prompts: list[str | None] = []
        self.problems: list[tuple[str, str] | None] = []

    def add(self, row: int, record: dict[str, Any]) -> None:
        kind = record.get("type")
        if isinstance(kind, str) and kind.strip() and kind.strip().upper() != GENERATION:
            label = f"Langfuse {kind.strip().upper()} observation (not an LLM call)"
            self.skipped[label] = self.skipped.get(label, 0) + 1
            return
        derived, problem = _derive(record)
        self.rows.append(row)
        for key in _COLUMNS:
            self.values[key].append(derived.get(key))
        self.problems.append(problem)
        self.prompts.append(_prompt(record.get("input")))

    def batch(self, options: ReadOptions) -> Batch:
        batch = _batch(self, options)
        batch.skipped = self.skipped
        return batch


def _read_json(path: Path, options: ReadOptions) -> Iterator[Batch]:
    for items in batched(json_records(path, keep_text=False), JSON_BATCH_RECORDS):
        collector = _Collector()
        for item in items:
            if isinstance(item, Reject):
                collector.rejects.append(item)
                continue
            row, value = item
            for record in observation_records(value):
                if not isinstance(record, dict):
                    collector.rejects.append(Reject(row, "record", "record is not a JSON object"))
                    continue
                collector.add(row, record)
        yield collector.batch(options)


def _read_csv(path: Path, options: ReadOptions) -> Iterator[Batch]:
    header = csv_header(path)
    missing = [c for c in ("id", "startTime") if c not in header]
    if missing:
        raise InputError(
            f"{path}: not a Langfuse observations export: column(s) {', '.join(missing)} missing "
            f"(found {', '.join(header[:12])}{', ...' if len(header) > 12 else ''}); pick the right --format"
        )
    for raw in csv_batches(path, CSV_COLUMNS, keep_text=False):
        collector = _Collector()
        collector.rejects.extend(raw.rejects)
        columns = {name: raw.table.column(name).to_pylist() for name in raw.table.column_names}
        for i, row in enumerate(raw.rows.tolist()):
            record: dict[str, Any] = {}
            for name, values in columns.items():
                value = values[i]
                if isinstance(value, bytes):  # a block that is not UTF-8: decode what can be
                    value = value.decode("utf-8", errors="replace")
                if name in _NESTED:
                    value = _csv_json(value)
                elif name in TIMES:
                    value = _unquote(value)
                record[name] = value
            collector.add(int(row), record)
        yield collector.batch(options)


_BAD_JSON = object()
"""Marks an export cell that should hold JSON and does not."""


def _csv_json(value: Any) -> Any:
    """A JSON column of the export (objects and lists written as JSON text); other text stays text."""
    if not isinstance(value, str) or value[:1] not in ("{", "[", '"'):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return _BAD_JSON


def _unquote(value: Any) -> Any:
    # The export writes dates with JSON.stringify, so the cell holds "2026-04-04T06:21:09.835Z" in quotes.
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


# -- one observation -----------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    """A number from a JSON number or numeric text (``"$0.0012"`` from the old export); raises ValueError."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("boolean")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return float(value.strip().lstrip("$").replace(",", ""))
    raise ValueError("not a number")


def _whole(value: float | None) -> int | float | None:
    return int(value) if value is not None and value.is_integer() else value


def _usage(details: dict[str, Any]) -> dict[str, int | float | None]:
    """Token counts from a non-empty usageDetails object (see the module docstring); raises ValueError."""
    sums: dict[str, float] = {"_in": 0.0, "_out": 0.0}
    cached: float | None = None
    reasoning: float | None = None
    for raw_key, raw_value in details.items():
        key = str(raw_key).lower()
        value = _number(raw_value)
        if value is None or key == "total":
            continue
        if key.startswith("input") or key.endswith("input_tokens") or key == "prompt_tokens":
            sums["_in"] += value
        elif key.startswith("output") or key.endswith("output_tokens") or key == "completion_tokens":
            sums["_out"] += value
        if not key.startswith("output") and ("cache_read" in key or "cached" in key):
            cached = (cached or 0.0) + value
        if "reasoning" in key:
            reasoning = (reasoning or 0.0) + value
    return {
        "_in": _whole(sums["_in"]),
        "_out": _whole(sums["_out"]),
        "_cached": _whole(cached),
        "_reasoning": _whole(reasoning),
    }


def _cost(record: dict[str, Any]) -> Any:
    details = record.get("costDetails")
    if isinstance(details, dict) and details:
        if "total" in details:
            return details["total"]
        return sum(_number(v) or 0.0 for v in details.values())
    calculated = record.get("calculatedTotalCost")
    if calculated is not None and calculated != "":
        return calculated
    total = record.get("totalCost")
    try:
        zero = _number(total) == 0.0
    except ValueError:
        return total  # not a number: the float parser reports the row
    # The API derives totalCost from costDetails and writes 0 when it has no price: unknown, not free.
    return None if zero else _strip_dollar(total)


def _strip_dollar(value: Any) -> Any:
    return value.strip().lstrip("$").replace(",", "") if isinstance(value, str) else value




def _first(*values: Any) -> Any:
    for value in values:
        if value is not None and value != "":
            return value
    return None


def _tool_calls(output: Any) -> int | None:
    """Tool calls in the generation's output: an assistant message, or a list of messages/items."""
    messages = output if isinstance(output, list) else [output]
    n = 0
    for message in messages:
        if not isinstance(message, dict):
            continue
        calls = message.get("tool_calls")
        if isinstance(calls, list):
            n += len(calls)
        elif message.get("type") in ("tool_use", "function_call", "tool_call"):
            n += 1
    return n or None


def _derive(record: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, str] | None]:
    """Raw canonical values of one observation, and the first problem found (field, reason)."""
    out: dict[str, Any] = {t: record.get(t) for t in TIMES}
    problem: tuple[str, str] | None = None
    for name in _NESTED:
        if record.get(name) is _BAD_JSON:
            record = {**record, name: None}
            if name in ("usageDetails", "costDetails", "usage"):
                problem = problem or (name, f"{name} (column {name!r}) is not valid JSON")
    details = record.get("usageDetails")
    usage: dict[str, Any] = {}
    if isinstance(details, dict) and details:
        try:
            usage = _usage(details)
        except ValueError:
            problem = problem or ("input_tokens", "usageDetails holds a value that is not a number")
    if not usage:
        usage = {
            "_in": _first(
                record.get("inputUsage"), dig(record.get("usage"), "input"), record.get("promptTokens")
            ),
            "_out": _first(
                record.get("outputUsage"), dig(record.get("usage"), "output"), record.get("completionTokens")
            ),
        }
    out.update(usage)
    try:
        out["_cost"] = _cost(record)
    except ValueError:
        problem = problem or ("cost_usd", "costDetails holds a value that is not a number")
    metadata = record.get("metadata")
    out["_user"] = _first(
        record.get("userId"),
        dig(metadata, "user_id"),
        dig(metadata, "userId"),
        dig(metadata, "langfuse_user_id"),
    )
    out["_model"] = _first(record.get("model"), record.get("providedModelName"), record.get("internalModel"))
    parameters = record.get("modelParameters")
    out["_finish"] = _first(
        dig(parameters, "finishReason"),
        dig(parameters, "finish_reason"),
        dig(metadata, "finish_reason"),
        dig(metadata, "finishReason"),
    )
    out["_tool_calls"] = _tool_calls(record.get("output"))
    failed = str(record.get("level") or "").strip().upper() == LEVEL_ERROR
    out["_failed"] = failed
    if failed:
        code = error_code(record.get("statusMessage"))
        out["_error"] = "langfuse level ERROR" + (f" ({code})" if code else "")
    rid = record.get("id")
    if rid is None or rid == "":
        rid = content_id(
            "langfuse",
            record.get("traceId"),
            out["startTime"],
            out["_model"],
            out.get("_in"),
            out.get("_out"),
        )
    out["_id"] = rid
    return out, problem


def _prompt(value: Any) -> str | None:
    """The user text of a generation's input: a string, a message list, or ``{"messages": [...]}``."""
    return _input_text(value) or None


def _input_text(value: Any) -> str | None:
    if isinstance(value, dict):
        if isinstance(value.get("messages"), list):
            return user_text(value["messages"])
        for key in ("prompt", "input", "content", "text"):
            if isinstance(value.get(key), str | list):
                return content_text(value[key]) if isinstance(value[key], list) else value[key]
        return None
    if isinstance(value, str | list):
        return user_text(value)
    return None


def _batch(c: _Collector, options: ReadOptions) -> Batch:
    n = len(c.rows)
    m = Mapper(raw_table(c.values, n), ts_format=options.ts_format)
    m.set("request_id", m.text("_id", "request_id"))
    m.set_times("startTime", "endTime", "completionStartTime")
    m.set("user_id", m.text("_user", "user_id"))
    m.set("model_raw", m.text("_model", "model"))
    m.set_usage("_in", "_out")  # a generation whose usage Langfuse does not know is still a request
    m.set("cached_tokens", m.int("_cached", "cached_tokens"))
    m.set("reasoning_tokens", m.int("_reasoning", "reasoning_tokens"))
    m.set("tool_calls", m.int("_tool_calls", "tool_calls"))
    m.set_finish("_finish", "_failed")
    m.set("error_type", m.text("_error", "error_type"))
    m.set("cost_usd", m.float("_cost", "cost_usd"))
    for problem in {p for p in c.problems if p is not None}:
        m.fail(np.array([p == problem for p in c.problems], dtype=bool), *problem)
    samples = None
    if any(c.prompts):
        ids = m.columns["request_id"].to_pylist() if "request_id" in m.columns else [None] * n
        samples = samples_table(ids, c.prompts)
    return m.batch(np.array(c.rows, dtype=np.int64), c.rejects, samples=samples)
