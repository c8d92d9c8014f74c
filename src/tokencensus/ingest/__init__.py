"""Ingest: read gateway logs in their own formats, map them to the canonical event, append to the lake.

Formats (``--format`` names; detected from the file when omitted, see :func:`detect_format`):

==================  =====================================================================
openrouter-csv      OpenRouter activity export (logs page CSV)
openrouter-json     OpenRouter /api/v1/generation records (JSON Lines, array, or {"data"})
litellm             LiteLLM proxy SpendLogs exported as CSV, JSON Lines or a JSON array
litellm-payload     LiteLLM StandardLoggingPayload (its GCS/S3/generic/file loggers), JSON
otel                OpenTelemetry GenAI spans, OTLP/JSON (one export a file, or one a line)
langfuse            Langfuse observations: GET /api/public/observations pages, UI export (CSV/JSON)
openai-jsonl        OpenAI-style request/response pairs (proxies, the Batch API output)
openai-stream       OpenAI stream logs: chat.completion chunks (assembled per response), Responses
                    API stream events (response.completed / failed / incomplete)
anthropic           Anthropic Messages API bodies, request/response pairs, errors, stream events
sharegpt            ShareGPT conversations (one row per assistant turn, tokens estimated)
wildchat            WildChat / LMSYS-Chat-1M style datasets (JSON Lines or Parquet)
aggregated          pre-aggregated usage (e.g. OpenRouter weekly top models): weighted rows
csv                 generic CSV: canonical column names, or --mapping
parquet             generic Parquet: canonical (the simulator's output), or --mapping
==================  =====================================================================

Every reader streams (memory stays flat on a file of any size), reports progress in rows, and sends
each row it cannot use to the lake's quarantine with the file, the line and the reason, while every
good row lands. Model names are resolved through the catalog; the summary lists the names it could
not resolve with their volume. Prompt text, where a log has it, goes only to the samples table
(:mod:`tokencensus.ingest.samples`). ``hash_users=True`` replaces user ids by a salted SHA-256
(salt: the ``salt`` argument, else ``$TOKENCENSUS_USER_SALT``, else one generated and kept in the
lake; see :func:`tokencensus.ingest.normalize.user_salt`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

from tokencensus.ingest import (
    aggregated,
    anthropic,
    chat,
    generic,
    langfuse,
    litellm,
    litellm_payload,
    openai_jsonl,
    openai_stream,
    openrouter,
    otel,
)
from tokencensus.ingest.detect import check_readable, detect_format
from tokencensus.ingest.format import Batch, Format, ReadOptions
from tokencensus.ingest.generic import load_mapping
from tokencensus.ingest.normalize import Catalog, default_catalog, user_salt
from tokencensus.ingest.pipeline import IngestSummary, check_format, expand, ingest_files
from tokencensus.ingest.samples import SAMPLE_RATE, read_samples
from tokencensus.ingest.streams import guarded
from tokencensus.lake import Lake

FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("openrouter-csv", "OpenRouter activity export CSV", openrouter.read_csv),
        Format("openrouter-json", "OpenRouter /api/v1/generation JSON records", openrouter.read_json),
        Format("litellm", "LiteLLM proxy spend logs (SpendLogs as CSV or JSON)", litellm.read, text=True),
        Format(
            "litellm-payload",
            "LiteLLM StandardLoggingPayload (GCS/S3/generic/file loggers) as JSON",
            litellm_payload.read,
            text=True,
        ),
        Format("otel", "OpenTelemetry GenAI spans as OTLP/JSON", otel.read, text=True),
        Format(
            "langfuse",
            "Langfuse observations (API pages, UI export CSV/JSON)",
            langfuse.read,
            text=True,
            note="langfuse: only GENERATION observations are requests; Langfuse records no app, "
            'provider or streaming flag (give an app with a --mapping constant: app = "=name")',
        ),
        Format(
            "openai-jsonl",
            "OpenAI-style request/response JSONL (proxies, Batch API)",
            openai_jsonl.read,
            text=True,
            note=openai_jsonl.NOTE,
        ),
        Format(
            "openai-stream",
            "OpenAI stream logs: chat.completion chunks, Responses API stream events",
            openai_stream.read,
            text=True,
            note=openai_stream.NOTE,
        ),
        Format(
            "anthropic",
            "Anthropic Messages API bodies, pairs, errors and stream events (JSONL)",
            anthropic.read,
            text=True,
            note="anthropic: Messages bodies carry no time; records without one need a ts constant "
            '(--mapping with ts = "=YYYY-MM-DD"), else they are rejected',
        ),
        Format(
            "sharegpt",
            "ShareGPT conversations (JSON Lines or JSON array)",
            chat.read_sharegpt,
            text=True,
            note="sharegpt: token counts estimated (cl100k); conversations without a date are dated "
            "2023-04-01 and without a model attributed to 'chatgpt' (set ts/model constants with --mapping)",
        ),
        Format(
            "wildchat",
            "WildChat / LMSYS-Chat conversations (JSON Lines or Parquet)",
            chat.read_wildchat,
            text=True,
            note="wildchat: token counts estimated (cl100k); conversations without a timestamp "
            "are dated 2023-04-01 (set a ts constant with --mapping)",
        ),
        Format(
            "aggregated", "pre-aggregated usage rows (requests > 1, no user)", aggregated.read, mapped=True
        ),
        Format("csv", "generic CSV (canonical columns, or --mapping)", generic.read_csv, mapped=True),
        Format(
            "parquet", "generic Parquet (canonical columns, or --mapping)", generic.read_parquet, mapped=True
        ),
    )
}
"""Every format, by its ``--format`` name."""


def ingest_paths(
    paths: Sequence[Path],
    lake: Lake,
    *,
    fmt: str | None = None,
    mapping: dict[str, str] | None = None,
    catalog: Catalog | None = None,
    hash_users: bool = False,
    progress: Callable[[int], None] | None = None,
    salt: str | None = None,
    sample_rate: float = SAMPLE_RATE,
) -> IngestSummary:
    """Read every file (directories: every file in them), map, validate and append it to ``lake``.

    ``fmt`` forces one format for all files (else each is detected); ``mapping`` maps canonical
    columns to source columns for the generic formats (see :func:`load_mapping`); ``catalog``
    resolves model names (default: the packaged catalog); ``progress`` is called with the number of
    input rows processed so far (all files together); ``sample_rate`` is the share of requests
    whose prompt text is kept for classification. Every file is checked (exists, not empty, format
    known) before anything is written. Raises :class:`~tokencensus.errors.InputError` for a file
    that cannot be read at all, :class:`~tokencensus.errors.ConfigError` for a bad option.
    """
    files = expand(paths)
    plans = []
    for path in files:
        check_readable(path)
        name = fmt or detect_format(path, mapping_given=bool(mapping))
        fmt_ = check_format(name, FORMATS, mapping)
        plans.append((path, dataclasses.replace(fmt_, read=guarded(fmt_.read))))
    options = ReadOptions(mapping=dict(mapping or {}))
    user_hash_salt = user_salt(lake.root, salt) if hash_users else None
    return ingest_files(
        plans,
        lake,
        options=options,
        catalog=catalog if catalog is not None else default_catalog(),
        salt=user_hash_salt,
        progress=progress,
        sample_rate=sample_rate,
    )


__all__ = [
    "FORMATS",
    "Batch",
    "Catalog",
    "Format",
    "IngestSummary",
    "ReadOptions",
    "detect_format",
    "ingest_paths",
    "load_mapping",
    "read_samples",
]
