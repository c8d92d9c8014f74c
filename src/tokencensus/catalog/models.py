"""The model catalog: loading and validating models.csv, and looking models up.

models.csv has one row per canonical slug (OpenRouter-style ``author/model``) with the attributes
the study segments by, plus one explicit ``unknown`` row that unresolvable names map to (so they are
reported, never silently dropped). aliases.csv (alias, slug, source) holds the spellings that rules
alone cannot map; :class:`~tokencensus.catalog.aliases.AliasIndex` combines both.
"""

from __future__ import annotations

import csv
import math
import os
import tempfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tokencensus.catalog.aliases import PRIORITY, AliasIndex
from tokencensus.definitions import SIZE_CLASSES, UNKNOWN, size_class
from tokencensus.errors import CatalogError

ORIGINS: tuple[str, ...] = ("CN", "US", "EU", "other")
"""Where the lab is based; ``unknown`` is reserved for the ``unknown`` row."""

CATALOG_SCHEMA = pa.schema(
    [
        pa.field("slug", pa.string()),
        pa.field("name", pa.string()),
        pa.field("author", pa.string()),
        pa.field("open_weights", pa.bool_()),
        pa.field("origin", pa.string()),
        pa.field("params_b", pa.float64()),
        pa.field("active_params_b", pa.float64()),
        pa.field("size_class", pa.string()),
        pa.field("reasoning", pa.bool_()),
        pa.field("tools", pa.bool_()),
        pa.field("release_date", pa.date32()),
        pa.field("input_price", pa.float64()),
        pa.field("output_price", pa.float64()),
        pa.field("context_length", pa.int64()),
    ]
)
"""Column types of the catalog table; prices are USD per million tokens."""

ALIAS_SCHEMA = pa.schema(
    [pa.field("alias", pa.string()), pa.field("slug", pa.string()), pa.field("source", pa.string())]
)
"""aliases.csv: a spelling, the slug it means, and where the pair came from (see ``PRIORITY``)."""

COLUMNS: tuple[str, ...] = tuple(CATALOG_SCHEMA.names)
PACKAGED_CATALOG = Path(__file__).with_name("models.csv")
PACKAGED_ALIASES = Path(__file__).with_name("aliases.csv")


def unknown_row() -> dict[str, Any]:
    """The explicit row for models the catalog does not know."""
    return {
        "slug": UNKNOWN,
        "name": "Unknown",
        "author": UNKNOWN,
        "open_weights": None,
        "origin": UNKNOWN,
        "params_b": None,
        "active_params_b": None,
        "size_class": "unknown",
        "reasoning": False,
        "tools": False,
        "release_date": None,
        "input_price": None,
        "output_price": None,
        "context_length": None,
    }


# ── parsing with located errors ─────────────────────────────────────────────────────────────────


class _Where:
    """File and line of the row being parsed, so every error names both."""

    def __init__(self, path: Path, line: int) -> None:
        self.path, self.line = path, line

    def fail(self, field: str, value: str, expected: str) -> CatalogError:
        return CatalogError(f"{self.path}, line {self.line}, field {field!r}: {value!r} is not {expected}")


def _bool(where: _Where, field: str, value: str, *, nullable: bool = False) -> bool | None:
    v = value.strip().lower()
    if v in ("true", "1", "yes"):
        return True
    if v in ("false", "0", "no"):
        return False
    if v == "" and nullable:
        return None
    raise where.fail(field, value, "true or false" + (" (or empty)" if nullable else ""))


def _float(where: _Where, field: str, value: str) -> float | None:
    if value.strip() == "":
        return None
    try:
        number = float(value)
    except ValueError:
        raise where.fail(field, value, "a number (or empty)") from None
    if math.isnan(number) or number < 0:
        raise where.fail(field, value, "a non-negative number (or empty)")
    return number


def _int(where: _Where, field: str, value: str) -> int | None:
    if value.strip() == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise where.fail(field, value, "a whole number (or empty)") from None
    if number < 0:
        raise where.fail(field, value, "a non-negative whole number (or empty)")
    return number


def _date(where: _Where, field: str, value: str) -> date | None:
    if value.strip() == "":
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise where.fail(field, value, "a date written YYYY-MM-DD (or empty)") from None


def _parse_row(where: _Where, raw: dict[str, str]) -> dict[str, Any]:
    slug = raw["slug"].strip()
    if not slug or slug != slug.lower() or (slug != UNKNOWN and "/" not in slug):
        raise where.fail("slug", raw["slug"], "a lower-case 'author/model' id")
    author = raw["author"].strip()
    if slug != UNKNOWN and author != slug.split("/", 1)[0]:
        raise where.fail(
            "author", raw["author"], f"the part of the slug before '/' ({slug.split('/', 1)[0]!r})"
        )
    origin = raw["origin"].strip()
    allowed = (UNKNOWN,) if slug == UNKNOWN else ORIGINS
    if origin not in allowed:
        raise where.fail("origin", raw["origin"], "one of " + ", ".join(allowed))
    params = _float(where, "params_b", raw["params_b"])
    declared = raw["size_class"].strip()
    if declared not in SIZE_CLASSES:
        raise where.fail("size_class", raw["size_class"], "one of " + ", ".join(SIZE_CLASSES))
    if declared != size_class(params):
        raise where.fail(
            "size_class",
            raw["size_class"],
            f"{size_class(params)!r}, the class of params_b={raw['params_b']!r}",
        )
    row: dict[str, Any] = {
        "slug": slug,
        "name": raw["name"].strip() or slug,
        "author": author,
        "open_weights": _bool(where, "open_weights", raw["open_weights"], nullable=True),
        "origin": origin,
        "params_b": params,
        "active_params_b": _float(where, "active_params_b", raw["active_params_b"]),
        "size_class": declared,
        "reasoning": _bool(where, "reasoning", raw["reasoning"]),
        "tools": _bool(where, "tools", raw["tools"]),
        "release_date": _date(where, "release_date", raw["release_date"]),
        "input_price": _float(where, "input_price", raw["input_price"]),
        "output_price": _float(where, "output_price", raw["output_price"]),
        "context_length": _int(where, "context_length", raw["context_length"]),
    }
    if row["open_weights"] is False and params is not None:
        raise where.fail("params_b", raw["params_b"], "empty: closed models have no published size")
    if row["active_params_b"] is not None and params is not None and row["active_params_b"] > params:
        raise where.fail("active_params_b", raw["active_params_b"], f"at most params_b ({params:g})")
    return row


def _read_csv(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) pairs of a CSV whose header must be exactly ``columns``."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"{path}: cannot open the catalog file: {exc.strerror or exc}") from exc
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != columns:
            raise CatalogError(
                f"{path}, line 1: the header must be exactly {','.join(columns)} (found {header!r})"
            )
        rows = []
        for values in reader:
            if not values or all(not v.strip() for v in values):
                continue
            if len(values) != len(columns):
                raise CatalogError(
                    f"{path}, line {reader.line_num}: {len(values)} fields, expected {len(columns)}"
                )
            rows.append((reader.line_num, dict(zip(columns, values, strict=True))))
    return rows


def read_catalog_csv(path: Path) -> pa.Table:
    """Parse and validate a models.csv; CatalogError names the file, line and field of a bad row."""
    rows: list[dict[str, Any]] = []
    first_line: dict[str, int] = {}
    for line, raw in _read_csv(path, COLUMNS):
        where = _Where(path, line)
        row = _parse_row(where, raw)
        if row["slug"] in first_line:
            raise where.fail("slug", raw["slug"], f"unique (also on line {first_line[row['slug']]})")
        first_line[row["slug"]] = line
        rows.append(row)
    if UNKNOWN not in first_line:
        rows.append(unknown_row())  # the explicit row exists even in a hand-made catalog
    return pa.Table.from_pylist(rows, schema=CATALOG_SCHEMA)


def read_aliases_csv(path: Path) -> pa.Table:
    """Parse aliases.csv (alias, slug, source); CatalogError names the file, line and field."""
    rows = []
    for line, raw in _read_csv(path, tuple(ALIAS_SCHEMA.names)):
        where = _Where(path, line)
        alias, slug, source = raw["alias"].strip(), raw["slug"].strip(), raw["source"].strip()
        if not alias:
            raise where.fail("alias", raw["alias"], "a non-empty model name")
        if "/" not in slug:
            raise where.fail("slug", raw["slug"], "an 'author/model' slug")
        if source not in PRIORITY:
            raise where.fail("source", raw["source"], "one of " + ", ".join(PRIORITY))
        rows.append({"alias": alias, "slug": slug, "source": source})
    return pa.Table.from_pylist(rows, schema=ALIAS_SCHEMA)


# ── writing ─────────────────────────────────────────────────────────────────────────────────────


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(round(value, 6))  # per-million prices: six decimals is a millionth of a dollar
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _write_rows(path: Path, columns: list[str], rows: Iterable[dict[str, Any]]) -> None:
    """Write atomically (temp file + rename) so a failed regeneration never leaves half a catalog."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_cell(row[c]) for c in columns])
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a packaged data file must be world-readable
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_catalog(table: pa.Table, path: Path) -> None:
    """Write a catalog table as models.csv (the ``unknown`` row last, the rest sorted by slug)."""
    missing = [c for c in COLUMNS if c not in table.column_names]
    if missing:
        raise CatalogError(f"cannot write {path}: the table lacks columns {', '.join(missing)}")
    rows = table.select(list(COLUMNS)).to_pylist()
    rows.sort(key=lambda r: (r["slug"] == UNKNOWN, r["slug"]))
    _write_rows(Path(path), list(COLUMNS), rows)


def write_aliases(table: pa.Table, path: Path) -> None:
    """Write an alias table (alias, slug, source) as aliases.csv."""
    _write_rows(Path(path), list(ALIAS_SCHEMA.names), table.select(ALIAS_SCHEMA.names).to_pylist())


# ── the catalog ─────────────────────────────────────────────────────────────────────────────────


class Catalog:
    """The model catalog: an Arrow table (:data:`CATALOG_SCHEMA`) plus alias resolution."""

    def __init__(self, table: pa.Table, aliases: pa.Table | None = None) -> None:
        self.table: pa.Table = table
        slugs = table.column("slug").to_pylist()
        self._rows: dict[str, dict[str, Any]] = dict(zip(slugs, table.to_pylist(), strict=True))
        pairs = [] if aliases is None else aliases.select(ALIAS_SCHEMA.names).to_pylist()
        self._index = AliasIndex(
            (s for s in slugs if s != UNKNOWN), ((p["alias"], p["slug"], p["source"]) for p in pairs)
        )

    def __len__(self) -> int:
        """Number of models, not counting the ``unknown`` row."""
        return len(self._rows) - (UNKNOWN in self._rows)

    def slugs(self) -> list[str]:
        """All slugs, in table order (the ``unknown`` row included)."""
        return list(self._rows)

    def get(self, slug: str) -> dict[str, Any]:
        """The attributes of ``slug`` (any spelling :meth:`resolve_one` maps); the unknown row otherwise."""
        row = self._rows.get(slug)
        if row is None:
            resolved = self.resolve_one(slug)
            row = self._rows.get(resolved) if resolved else None
        return dict(row if row is not None else self._rows.get(UNKNOWN, unknown_row()))

    def resolve_one(self, name: str | None) -> str | None:
        """The canonical slug for one raw model name, or None when it cannot be resolved."""
        return self._index.resolve(name)

    def resolve(self, names: Iterable[str | None] | pa.Array | pa.ChunkedArray) -> pa.Array:
        """Canonical slugs (a string array, null where unresolvable) for raw model names.

        Each distinct name is resolved once and the answers are mapped back by dictionary index,
        so a million-row column with a few hundred distinct names costs a few hundred lookups.
        """
        if isinstance(names, pa.ChunkedArray):
            names = names.combine_chunks() if names.num_chunks else pa.array([], pa.string())
        if not isinstance(names, pa.Array):
            names = pa.array(list(names), pa.string())
        if pa.types.is_dictionary(names.type):
            encoded = names
        else:
            if not (pa.types.is_string(names.type) or pa.types.is_large_string(names.type)):
                names = names.cast(pa.string())
            encoded = pc.dictionary_encode(names)
        distinct = encoded.dictionary.to_pylist()
        answers = pa.array([self.resolve_one(n) for n in distinct], pa.string())
        return answers.take(encoded.indices)


def load_catalog(path: str | Path | None = None, aliases: str | Path | None = None) -> Catalog:
    """Load and validate a catalog: models.csv at ``path`` (None: the packaged one).

    ``aliases`` is an aliases.csv (None: the packaged one, whose pairs apply wherever their slug is
    in the catalog). Bad rows raise :class:`~tokencensus.errors.CatalogError` naming the file, line
    and field: a duplicate slug, a bad boolean, an unknown origin, a size class that contradicts
    ``params_b``, a bad date, a negative price.
    """
    models_path = PACKAGED_CATALOG if path is None else Path(path)
    alias_path = PACKAGED_ALIASES if aliases is None else Path(aliases)
    table = read_catalog_csv(models_path)
    alias_table = read_aliases_csv(alias_path) if alias_path.exists() or aliases is not None else None
    return Catalog(table, alias_table)
