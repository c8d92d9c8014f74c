"""How the report writes numbers: counts (1.2T), percents (31%), ratios (4.2×), prices ($0.68).

Fixed formats, never the locale's, so the same data gives the same text everywhere.
"""

from __future__ import annotations

import math

import pandas as pd

_UNITS = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))


def missing(value: object) -> bool:
    """True for None, pandas' NA and NaN (a blanked or absent cell)."""
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def fmt_count(value: float | int | None) -> str:
    """1.2T, 340B, 5.6M, 12K, 950 — two significant digits below 10 of a unit, whole units above."""
    if missing(value):
        return ""
    v = float(value)  # type: ignore[arg-type]
    sign, v = ("-" if v < 0 else ""), abs(v)
    for i, (size, unit) in enumerate(_UNITS):
        if v >= size * 0.9995:
            scaled = v / size
            text = f"{scaled:.1f}" if scaled < 9.95 else f"{scaled:.0f}"
            if text == "1000" and i > 0:  # 999.6B rounds up to the next unit
                return sign + "1" + _UNITS[i - 1][1]
            return sign + text.removesuffix(".0") + unit
    return sign + f"{v:.0f}"


def fmt_int(value: float | int | None) -> str:
    """An exact count with thousands separators: 12,345."""
    if missing(value):
        return ""
    return f"{int(value):,}"  # type: ignore[arg-type]


def fmt_pct(value: float | None) -> str:
    """31%, 4.5%, 0.3%, <0.1%, 0% — whole percents from 10%, one decimal below."""
    if missing(value):
        return ""
    p = float(value) * 100  # type: ignore[arg-type]
    if p == 0:
        return "0%"
    if abs(p) < 0.05:
        return "<0.1%"
    if abs(p) < 9.95:
        return f"{p:.1f}%"
    return f"{p:.0f}%"


def fmt_points(value: float | None) -> str:
    """A change of a share in percentage points: +3.2 pts, −12 pts."""
    if missing(value):
        return ""
    p = float(value) * 100  # type: ignore[arg-type]
    text = f"{abs(p):.1f}" if abs(p) < 9.95 else f"{abs(p):.0f}"
    if text in ("0.0", "0"):
        return "0 pts"
    return f"{'+' if p > 0 else '−'}{text} pts"


def fmt_ratio(value: float) -> str:
    """4.2×, 12×."""
    return f"{value:.1f}×" if value < 9.95 else f"{value:.0f}×"


def fmt_price(value: float | None) -> str:
    """USD per million tokens: $12, $3.40, $0.068."""
    if missing(value):
        return ""
    v = float(value)  # type: ignore[arg-type]
    if v >= 9.995:
        return f"${v:,.0f}"
    if v >= 0.995:
        return f"${v:.2f}"
    return f"${v:.2g}" if v > 0 else "$0"


def fmt_signed(value: float, digits: int = 2) -> str:
    """A signed number with a real minus sign: −0.41, 0.12."""
    text = f"{abs(value):.{digits}f}"
    return f"−{text}" if value < 0 and float(text) != 0 else text


def fmt_tokens(value: float | None) -> str:
    """A per-request token count: 1,466 (whole tokens; small means keep one decimal)."""
    if missing(value):
        return ""
    v = float(value)  # type: ignore[arg-type]
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}".removesuffix(".0")


SIGNIFICANT_DIGITS = 12


def significant(values: pd.Series) -> pd.Series:
    """Floats rounded to 12 significant digits: parallel engines sum floats in a varying order, so
    the last bits of a spend or a share change from run to run; published to 12 digits, the same
    data gives the same report, byte for byte."""
    return values.map(lambda v: float(f"{v:.{SIGNIFICANT_DIGITS}g}") if pd.notna(v) else v).astype("float64")
