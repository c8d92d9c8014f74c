"""The demo's world: ``study.toml``, the simulator calibrated to the published OpenRouter study.

:func:`study_config` turns the file's ``[world]`` table into a :class:`SimConfig` (every number's
source is noted in the file); :func:`study_world` also gives what the config does not carry: the
study's window and each country's prompt languages (the demo writes sampled prompts in them).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from tokencensus.simulator.config import RetentionPlant, SimConfig

STUDY_FILE = "study.toml"


@dataclass(frozen=True)
class StudyWorld:
    """The calibrated world: the simulator's config, the study's window, prompt languages, figures."""

    config: SimConfig
    study_start: date
    """First day of the study's model-level window (the period starts earlier, for retention)."""
    languages: dict[str, dict[str, float]]
    """ISO country → {language code: share of its users' prompts}; other countries write English."""
    figures: list[dict[str, Any]]
    """The ``[[figure]]`` table: the study's published figures and their tolerances."""

    @property
    def study_end(self) -> date:
        """The day after the window's last day."""
        return self.config.end


@cache
def _document() -> dict[str, Any]:
    text = resources.files("tokencensus.simulator").joinpath(STUDY_FILE).read_text(encoding="utf-8")
    return tomllib.loads(text)


def _trajectory(value: Any) -> Any:
    """TOML ``[[date, value], ...]`` as a trajectory of (date, float) tuples; pairs stay pairs."""
    if value and isinstance(value[0], list):
        return tuple((d, float(v)) for d, v in value)
    return tuple(float(v) for v in value)


def study_world(requests: int = 1_000_000, users: int = 60_000, seed: int = 7) -> StudyWorld:
    """The calibrated world at the given size (the demo's default size is the file's reference)."""
    doc = _document()
    w = doc["world"]
    lengths, cats, geo, agentic = w["lengths"], w["categories"], w["geography"], w["agentic"]
    config = SimConfig(
        requests=requests,
        users=users,
        seed=seed,
        start=w["start"],
        weeks=int(w["weeks"]),
        max_models=int(w["max_models"]),
        exclude=tuple(w["exclude"]),
        volume_growth=float(w["volume_growth"]),
        popularity_sigma=float(w["popularity_sigma"]),
        reasoning_boost=float(w["reasoning_boost"]),
        half_life_days=float(w["half_life_days"]),
        new_user_rate=float(w["new_user_rate"]),
        chinese_open_share=_trajectory(w["chinese_open_share"]),
        row_open_share=_trajectory(w["row_open_share"]),
        open_author_tokens={k: float(v) for k, v in w["open_author_tokens"].items()},
        calibrate_from=w["calibrate_from"],
        author_popularity={k: float(v) for k, v in w["author_popularity"].items()},
        model_popularity={k: float(v) for k, v in w["model_popularity"].items()},
        author_mix={k: dict(v) for k, v in w["author_mix"].items()},
        tool_call_rate=_trajectory(agentic["tool_call_rate"]),
        tool_category_weight={k: float(v) for k, v in agentic["tool_category_weight"].items()},
        mean_input_tokens=_trajectory(lengths["mean_input_tokens"]),
        mean_output_tokens=_trajectory(lengths["mean_output_tokens"]),
        programming_share=_trajectory(cats["programming_share"]),
        countries=tuple((c, k, float(s)) for c, k, s in geo["countries"]),
        continent_growth={k: float(v) for k, v in geo["continent_growth"].items()},
        retention_plants=tuple(
            RetentionPlant(
                model=p["model"],
                cohort=p["cohort"],
                curve=tuple(float(v) for v in p["curve"]),
                later=tuple(float(v) for v in p["later"]),
                kind=p.get("kind", "foundational"),
            )
            for p in w["retention"]
        ),
    )
    return StudyWorld(
        config=config,
        study_start=w["study_start"],
        languages={c: {k: float(v) for k, v in shares.items()} for c, shares in w["languages"].items()},
        figures=list(doc.get("figure", [])),
    )


def study_config(requests: int = 1_000_000, users: int = 60_000, seed: int = 7) -> SimConfig:
    """The simulator's config of the calibrated world (see :func:`study_world`)."""
    return study_world(requests, users, seed).config
