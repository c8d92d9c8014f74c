"""The one exception tree of tokencensus.

Every error a user can cause derives from :class:`TokencensusError`; the CLI turns it into
``Error: <message>`` and exit status 1 in exactly one place (``cli.main``). Messages say *where*
(file, row, field) and *how to fix*.

::

    TokencensusError
    ├── ConfigError              a bad option, setting or argument
    ├── MissingDependencyError   an optional extra is not installed (message has the pip line)
    ├── InputError               an input file cannot be read at all (missing, empty, wrong format)
    │   └── SchemaError          rows or columns violate the canonical schema
    ├── LakeError                the lake directory is missing, locked or inconsistent
    ├── CatalogError             the model catalog file is malformed
    └── AnalysisError            an analysis was asked for something the data cannot answer
"""

from __future__ import annotations

from dataclasses import dataclass


class TokencensusError(Exception):
    """Root of every error tokencensus raises on purpose."""


class ConfigError(TokencensusError):
    """A bad option, setting or argument."""


class MissingDependencyError(TokencensusError):
    """An optional extra is needed; the message carries the exact pip line."""

    def __init__(self, feature: str, extra: str, package: str) -> None:
        self.feature, self.extra, self.package = feature, extra, package
        super().__init__(
            f"{feature} needs the optional package {package!r}; install it with: "
            f"pip install 'tokencensus[{extra}]'"
        )


class InputError(TokencensusError):
    """An input file cannot be read at all."""


@dataclass(frozen=True)
class Violation:
    """One field of one row that breaks the canonical schema."""

    source: str
    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}, row {self.row}, field {self.field!r}: {self.reason}"


class SchemaError(InputError):
    """Rows or columns violate the canonical schema; ``violations`` lists each (first ones)."""

    def __init__(self, message: str, violations: list[Violation] | None = None) -> None:
        self.violations = violations or []
        shown = "".join(f"\n  {v}" for v in self.violations[:10])
        more = len(self.violations) - 10
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(message + shown + tail)


class LakeError(TokencensusError):
    """The lake directory is missing, locked or inconsistent."""


class CatalogError(TokencensusError):
    """The model catalog file is malformed."""


class AnalysisError(TokencensusError):
    """An analysis was asked for something the data cannot answer."""
