"""Telling a log's format from its first bytes: Parquet magic, a CSV header, or the first JSON record.

Rules, first match wins:

* Parquet: chat columns (``conversation``) → wildchat; anything else → parquet.
* JSON (the first non-blank character is ``{`` or ``[``), by the first record's keys:
  ``resourceSpans`` → otel; ``conversations`` → sharegpt; ``conversation`` → wildchat;
  ``id``, ``type`` and ``startTime`` with ``traceId`` (or ``usageDetails``, ...), bare or in an API
  page ``{"data": [...]}`` → langfuse; ``tokens_prompt``/``native_tokens_prompt`` → openrouter-json;
  ``request_id`` with ``spend`` or ``startTime`` → litellm; ``id``, ``call_type`` and ``startTime``
  without ``request_id`` (a StandardLoggingPayload) → litellm-payload; an Anthropic Messages body
  (``"type": "message"`` with ``usage.input_tokens``) or error body (``"type": "error"``), a
  request/response pair whose response is one of those, a Message Batches result line or a stream
  event (``message_start`` ...) → anthropic (before openai-jsonl, which takes any pair); a
  ``chat.completion.chunk`` or a Responses API stream event (``type: response.*`` with a
  ``response`` object) → openai-stream; a chat.completions/responses body, a Batch API line or a
  request/response pair → openai-jsonl; last, a top-level ``messages`` list of role/content
  messages (a fine-tuning or chat dataset line) → sharegpt.
* CSV, by the header: ``generation_id`` + ``tokens_prompt`` → openrouter-csv; ``id``, ``traceId`` and
  ``startTime`` with ``type``/``usageDetails``/``promptTokens``/``level`` → langfuse; ``request_id`` with
  ``spend`` or ``startTime`` → litellm; no ``request_id`` but a request count
  (``request_count``/``requests``) → aggregated; the canonical columns ``request_id``, ``ts``,
  ``model`` → csv.

Anything else is an :class:`~tokencensus.errors.InputError` naming the file and listing the formats.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tokencensus.errors import InputError
from tokencensus.ingest import anthropic, langfuse, litellm_payload, openai_jsonl, openai_stream, openrouter
from tokencensus.ingest.streams import csv_header, first_json_record, head_bytes

_CANONICAL = {"request_id", "ts", "model"}


def detect_format(path: Path, *, mapping_given: bool = False) -> str:
    """The ``--format`` name of the log at ``path``.

    With ``mapping_given`` an unrecognised CSV or Parquet file is taken as the generic format
    (the mapping says where its columns are).
    """
    path = Path(path)
    check_readable(path)
    head = head_bytes(path, 1 << 16)
    if head[:4] == b"PAR1":
        return _parquet_kind(path)
    if _is_binary(head):
        raise InputError(
            f"{path}: binary data, not a text log (no CSV header or JSON record found); "
            f"tokencensus reads {_listing()}"
        )
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
    if text[:1] in ("{", "["):
        kind = _json_kind(_first_record(path))
        if kind:
            return kind
        raise InputError(
            f"{path}: JSON, but its first record matches no known log format; pass --format "
            f"(one of {_listing()})"
        )
    header = csv_header(path)
    kind = _csv_kind(header)
    if kind:
        return kind
    if mapping_given:
        return "csv"
    shown = ", ".join(header[:15]) + (", ..." if len(header) > 15 else "")
    raise InputError(
        f"{path}: cannot tell the log format from its header ({shown}); pass --format (one of "
        f"{_listing()}), and --mapping for a generic CSV"
    )


def check_readable(path: Path) -> None:
    """An :class:`InputError` unless ``path`` is a non-empty regular file."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a regular file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty; nothing to ingest")


def _listing() -> str:
    from tokencensus.ingest import FORMATS  # the registry; imported late, it imports this module

    return ", ".join(FORMATS)


def _is_binary(head: bytes) -> bool:
    """Binary unless the first line is clean text, or at most 1% of the head is undecodable or control
    characters: a stray NUL or bad byte, or a garbage tail after good lines, is a bad row, not a
    binary file. (``head`` comes through :func:`~tokencensus.ingest.streams.open_binary`: a BOM is
    gone, UTF-16 is already UTF-8.)"""
    first = head.lstrip()[:4096].split(b"\n", 1)[0]
    if first and _odd(first) == 0:
        return False
    return _odd(head) > max(4, len(head) // 100)


def _odd(data: bytes) -> int:
    text = data.decode("utf-8", errors="replace")
    return text.count("\ufffd") + sum(1 for ch in text if ch < " " and ch not in "\t\r\n\f")


def _parquet_kind(path: Path) -> str:
    from tokencensus.ingest.generic import parquet_file

    names = set(parquet_file(path).schema_arrow.names)
    if "conversation" in names and not _CANONICAL <= names:
        return "wildchat"
    return "parquet"


def _first_record(path: Path) -> Any:
    return first_json_record(path)


def _json_kind(value: Any) -> str | None:
    if isinstance(value, list):
        return _json_kind(value[0]) if value else None
    if not isinstance(value, dict):
        return None
    keys = set(value)
    if "resourceSpans" in keys or "resource_spans" in keys:
        return "otel"
    if isinstance(value.get("conversations"), list):
        return "sharegpt"
    if isinstance(value.get("conversation"), list):
        return "wildchat"
    if langfuse.looks_like(value):  # before openrouter-json: an API page is {"data": [...]} too
        return "langfuse"
    if openrouter.looks_like_generation(value):
        return "openrouter-json"
    if "request_id" in keys and ("spend" in keys or "startTime" in keys):
        return "litellm"
    if litellm_payload.looks_like(value):
        return "litellm-payload"
    if anthropic.looks_like(value):  # before openai-jsonl: its looks_like takes any request/response pair
        return "anthropic"
    if openai_stream.looks_like(value):  # before openai-jsonl: a chunk has choices and usage too
        return "openai-stream"
    if openai_jsonl.looks_like(value):
        return "openai-jsonl"
    if _is_messages(value.get("messages")):  # last: spend logs and proxies keep `messages` too
        return "sharegpt"
    return None


def _is_messages(value: Any) -> bool:
    """An OpenAI-style chat (a fine-tuning or dataset line): a list of {"role", "content"} messages."""
    return isinstance(value, list) and bool(value) and all(isinstance(m, dict) and "role" in m for m in value)


def _csv_kind(header: list[str]) -> str | None:
    columns = set(header)
    if openrouter.is_activity_header(header):
        return "openrouter-csv"
    if langfuse.is_export_header(header):
        return "langfuse"
    if "request_id" in columns and ("spend" in columns or "startTime" in columns):
        return "litellm"
    if "request_id" not in columns and columns & {"request_count", "requests"}:
        return "aggregated"
    if _CANONICAL <= columns:
        return "csv"
    return None
