"""The report's privacy floor: every published cell is backed by at least ``min_users`` distinct users.

:func:`suppress` is applied to every figure's frame before anything is computed from it, so
headlines, tables, charts, PNGs, Markdown, JSON and CSVs only ever see the published values.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import numpy as np
import pandas as pd

from tokencensus.errors import AnalysisError

SUPPRESSED = "suppressed"
"""Name of the boolean column :func:`suppress` adds, and the text tables show for a blanked cell."""

KEY_COLUMNS = frozenset({"week", "month", "cohort", "launch_cohort", "k", "rank"})
"""Columns that identify a cell rather than measure it (its week, cohort, month offset, rank):
never blanked, so a suppressed row still says which cell it is."""

GATED = {"top_model": "top1_users", "top1_share": "top1_users", "top5_share": "top5_users"}
"""Columns that sum cells other than their row's (the concentration figure's largest open-weights
models), published only when the count of users named here (the fewest behind those cells) clears
the floor too."""

DERIVED_TEXT = frozenset({"quadrant", "top_model", "headlined"})
"""Text columns computed from the cell's own values (a cost quadrant from its price and usage, the
largest model of a week, which of a category's raw and corrected shares is headlined): blanked with
the values they were derived from."""


def below_floor(users: pd.Series | np.ndarray, min_users: int) -> np.ndarray:
    """Which cells are sensitive: backed by fewer than ``min_users`` distinct users, or by an
    unknown number (missing users count as under the floor)."""
    counts = pd.to_numeric(pd.Series(users), errors="coerce").astype("float64").to_numpy()
    return np.isnan(counts) | (counts < min_users)


def suppress(
    df: pd.DataFrame,
    min_users: int,
    hidden: np.ndarray | None = None,
    blanked: Mapping[str, np.ndarray] | None = None,
) -> tuple[pd.DataFrame, int]:
    """Blank every cell backed by fewer than ``min_users`` distinct users; return it and the count.

    ``hidden`` (the rows :func:`tokencensus.report.disclosure.protect` chose: these and their
    complementary cells) replaces the row mask when given; ``blanked`` names value columns to blank
    in further rows (a value copied from a hidden cell of another figure).

    A suppressed row keeps its keys (week, segment, model, rank, k, ...) but its value columns
    (tokens, share, requests, users, ...), its flags (foundational, boomerang, left_censored: derived
    from the blanked values) and derived labels (:data:`DERIVED_TEXT`) become missing, and the
    added ``suppressed`` column is True. Integer columns become nullable ``Int64`` and flags nullable
    ``boolean`` so published values keep their type.
    """
    if "users" not in df.columns:
        raise AnalysisError(
            f"cannot apply the privacy floor: frame with columns {list(df.columns)} has no 'users' column; "
            "every analysis feeding the report must count distinct users per cell"
        )
    out = df.copy()
    primary = below_floor(out["users"], min_users)
    mask = primary if hidden is None else np.asarray(hidden, dtype=bool) | primary
    for col in out.columns:
        if col in KEY_COLUMNS:
            continue
        rows = mask | blanked[col] if blanked and col in blanked else mask
        if col in GATED and GATED[col] in out.columns:
            rows = rows | below_floor(out[GATED[col]], min_users)
        _blank(out, col, rows)
    out[SUPPRESSED] = mask
    return out, int(mask.sum())


def _blank(out: pd.DataFrame, col: str, mask: np.ndarray) -> None:
    """Make ``col`` missing in the ``mask`` rows, keeping published values' type."""
    series = out[col]
    if pd.api.types.is_bool_dtype(series):
        out[col] = series.astype("boolean")
        out.loc[mask, col] = pd.NA
    elif pd.api.types.is_integer_dtype(series):
        out[col] = series.astype("Int64")
        out.loc[mask, col] = pd.NA
    elif pd.api.types.is_numeric_dtype(series) or _numbers_as_objects(series):
        out[col] = pd.to_numeric(series).astype("float64")
        out.loc[mask, col] = math.nan
    elif col in DERIVED_TEXT:
        out[col] = series.astype(object)
        out.loc[mask, col] = None


def _numbers_as_objects(series: pd.Series) -> bool:
    """An object column holding only numbers and missing values (a backend's nullable integers or
    decimals)."""
    if series.dtype != object:
        return False
    present = series.dropna()
    return not present.empty and all(
        isinstance(v, numbers.Number) and not isinstance(v, (bool, np.bool_)) for v in present
    )


def suppression_note(n: int, min_users: int, primary: int | None = None, ranking: bool = False) -> str:
    """What a figure hides, as the sentence under it ("" when nothing): e.g. "5 cells suppressed: 3
    under 50 users, 2 more so that those cannot be worked out from published totals (blank in the
    CSV, not drawn)."; a ranking leaves its rows out instead."""
    if n == 0:
        return ""
    primary = n if primary is None else primary
    under = f"under {min_users} {users_word(min_users)}"
    if ranking:
        models = f"{n} {'model' if n == 1 else 'models'}"
        if primary == n:
            return f"{models} {under} left out of the ranking."
        why = f"so that cells {under} elsewhere cannot be worked out"
        if primary == 0:
            return f"{models} left out of the ranking, {why}."
        return f"{models} left out of the ranking: {primary} {under}, {n - primary} {why}."
    cells = f"{n} {'cell' if n == 1 else 'cells'}"
    if primary == n:
        return f"{cells} {under} suppressed (blank in the CSV, not drawn)."
    return (
        f"{cells} suppressed: {primary} {under}, {n - primary} more so that those cannot be worked out "
        "from published totals (blank in the CSV, not drawn)."
    )


def users_word(n: int) -> str:
    return "user" if n == 1 else "users"
