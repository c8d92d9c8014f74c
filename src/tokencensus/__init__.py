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
    tc.run_demo("demo")                                  # simulate → ingest → classify → report

The study's definitions are in :mod:`tokencensus.definitions`, the analyses (Ibis expressions over the
enriched events) in :mod:`tokencensus.analyses`. Names load on first use, so importing the package
is cheap. (No export shares its name with a module: importing ``tokencensus.x`` binds ``x`` on the
package, which would shadow a function of that name. Hence ``simulator`` and ``dashboard``.)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from tokencensus.classify.evaluate import run_evaluation as evaluate_classifier
    from tokencensus.dashboard import serve
    from tokencensus.demo import run_demo
    from tokencensus.lake import Lake
    from tokencensus.simulator import SimConfig, simulate
    from tokencensus.study import Study

_EXPORTS = {
    "Lake": ("tokencensus.lake", "Lake"),
    "Study": ("tokencensus.study", "Study"),
    "SimConfig": ("tokencensus.simulator", "SimConfig"),
    "simulate": ("tokencensus.simulator", "simulate"),
    "run_demo": ("tokencensus.demo", "run_demo"),
    "serve": ("tokencensus.dashboard", "serve"),
    "evaluate_classifier": ("tokencensus.classify.evaluate", "run_evaluation"),
}

__all__ = [
    "Lake",
    "SimConfig",
    "Study",
    "__version__",
    "evaluate_classifier",
    "run_demo",
    "serve",
    "simulate",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tokencensus' has no attribute {name!r}")
    module, attr = _EXPORTS[name]
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
