"""What a log format is to ingest: a name, a reader that yields :class:`Batch` es, and its options.

A reader maps one file to the canonical columns (``model_raw`` carries the log's model name; the
pipeline resolves ``model``) piece by piece. It never validates: it records the rows it could not
*parse* (a token count that is not a number, a line that is not JSON) and leaves the schema rules to
:func:`tokencensus.schema.validate`, so that every bad row is reported once, with the first reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from tokencensus.ingest.streams import Reject


@dataclass
class RowErrors:
    """Per row of a batch: the first field that could not be parsed and why (None = parsed)."""

    field: np.ndarray
    reason: np.ndarray

    @property
    def mask(self) -> np.ndarray:
        """True for rows with an error."""
        return unset(self.field) == 0


def unset(values: np.ndarray) -> np.ndarray:
    """1 where an object array holds None, else 0 (int8; numpy has no typed "is None")."""
    return np.fromiter((v is None for v in values), dtype=np.int8, count=len(values))


@dataclass
class Batch:
    """A piece of one input file, mapped to canonical column names but not yet validated.

    ``rows`` holds each row's line (or record) number in the file; ``records`` the rows as read
    (without prompt text) for the quarantine; ``samples`` the prompt text of the batch's requests
    (request_id, text) for the samples table.
    """

    table: pa.Table
    rows: np.ndarray
    records: pa.Table | None = None
    errors: RowErrors | None = None
    rejects: list[Reject] = field(default_factory=list)
    samples: pa.Table | None = None
    skipped: dict[str, int] = field(default_factory=dict)
    """Records read that are not requests (an embeddings span, a Langfuse SPAN), by what they are:
    counted in the summary, never quarantined."""


@dataclass(frozen=True)
class ReadOptions:
    """Options a reader may use: a column mapping (canonical → source column, or ``=constant``),
    and the timestamp format (``strptime`` pattern or ``epoch_s``/``epoch_ms``/...)."""

    mapping: dict[str, str] = field(default_factory=dict)
    ts_format: str | None = None


Reader = Callable[[Path, ReadOptions], Iterator[Batch]]


@dataclass(frozen=True)
class Format:
    """A log format: its ``--format`` name, a one-line description, and its reader."""

    name: str
    description: str
    read: Reader
    text: bool = False
    """True when the format carries prompt text (then nothing raw is copied into the quarantine)."""
    note: str = ""
    """Printed under the ingest summary when a file of this format was read (defaults it applied)."""
    mapped: bool = False
    """True when the reader maps source columns itself (``--mapping`` column entries); for every other
    format the mapping may only hold constants, which fill in what the log leaves out."""
