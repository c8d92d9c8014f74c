"""tokencensus: turn LLM-gateway request logs into a State-of-AI study.

The library does everything the ``tokencensus`` command does (the command calls only these)::

    import tokencensus as tc

    lake = tc.Lake("lake")                               # opens or creates a lake directory
    lake.ingest(["gateway.jsonl"], format="openai-jsonl")  # format detected when omitted
    lake.classify()                                      # a scrubbed sample of prompts → categories
    study = lake.study(min_users=50)                     # = tc.Study(lake, backend="duckdb", ...)
    study.figure("share_open")                           # a figure as published (pandas)
    study.expr("share_open")                             # the Ibis expression behind it
    study.report("report", formats=("html", "md"))       # the offline report

    tc.simulate(tc.SimConfig(requests=100_000))          # a market with planted truth
    tc.demo("demo")                                      # simulate → ingest → classify → report

The study's definitions are in :mod:`tokencensus.definitions`, the analyses (Ibis expressions over the
enriched events) in :mod:`tokencensus.analyses`. Names load on first use, so importing the package
is cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from tokencensus.classify.evaluate import run_evaluation as evaluate_classifier
    from tokencensus.demo import run_demo as demo
    from tokencensus.lake import Lake
    from tokencensus.serve import serve
    from tokencensus.simulate import SimConfig, simulate
    from tokencensus.study import Study

_EXPORTS = {
    "Lake": ("tokencensus.lake", "Lake"),
    "Study": ("tokencensus.study", "Study"),
    "SimConfig": ("tokencensus.simulate", "SimConfig"),
    "simulate": ("tokencensus.simulate", "simulate"),
    "demo": ("tokencensus.demo", "run_demo"),
    "serve": ("tokencensus.serve", "serve"),
    "evaluate_classifier": ("tokencensus.classify.evaluate", "run_evaluation"),
}

__all__ = ["Lake", "SimConfig", "Study", "__version__", "demo", "evaluate_classifier", "serve", "simulate"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tokencensus' has no attribute {name!r}")
    module, attr = _EXPORTS[name]
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
