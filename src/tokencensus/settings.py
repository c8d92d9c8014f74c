"""Every user-facing setting, declared once: name, type, default and help.

The CLI builds its options from these, and a test checks that each one is documented in README.md.
A setting comes, first to last, from its command-line option, its environment variable
(:func:`env_var`: ``TOKENCENSUS_MIN_USERS`` for ``--min-users``), the config file
(:func:`read_config`: ``tokencensus.toml``), and its default.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from tokencensus import definitions
from tokencensus.errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One setting: its CLI option name, default (whose type is the setting's) and one-line help."""

    name: str
    default: T
    help: str

    @property
    def env(self) -> str:
        """The environment variable that sets it (:func:`env_var`)."""
        return env_var(self.name)


ENV_PREFIX = "TOKENCENSUS_"
CONFIG_FILE = "tokencensus.toml"
"""The config file read from the working directory when present."""
CONFIG_ENV = "TOKENCENSUS_CONFIG"
"""Names another config file (``--config`` wins over it)."""


def env_var(name: str) -> str:
    """``TOKENCENSUS_`` and the option's name in capitals, dashes as underscores."""
    return ENV_PREFIX + name.upper().replace("-", "_")


LAKE = Setting("lake", "tokencensus-lake", "Directory of the Parquet lake (created on first ingest).")
BACKENDS = ("duckdb", "pyspark")
"""Engines the analyses run on (engine.connect knows each; kept here so the CLI need not import Ibis)."""
ENCODERS = ("use", "minilm", "static")
"""The embedding classifier's encoders, the default first (classify.classifiers.embedding has one class
per name)."""
REPORT_FORMATS = ("html", "md", "json", "png")
"""Formats ``tokencensus report --format`` writes (report.FORMATS; here so the CLI need not import
pandas)."""
BACKEND = Setting(
    "backend",
    "duckdb",
    "Engine the analyses run on: duckdb, or pyspark (Apache Spark; see docs/backends.md).",
)
MIN_USERS = Setting(
    "min-users",
    definitions.MIN_USERS,
    "Privacy floor k: cells backed by fewer distinct users are suppressed in reports.",
)
TOP_N = Setting("top-n", 10, "How many models the leaderboard and the top-model chart show.")
OUT = Setting(
    "out", "tokencensus-report", "Directory the report (report.html + figures/*.csv) is written to."
)
TITLE = Setting("title", "State of AI — tokencensus", "The report's title (its page title and heading).")
ORG = Setting(
    "org", "", "Whose traffic the report describes, shown under the title (e.g. 'the Acme AI gateway')."
)
PERIOD = Setting(
    "period",
    "",
    "Report only the requests of these UTC days: START..END, ISO dates, both inclusive; an open end "
    "(2025-01-01..) runs to the data's edge. Empty: all the data.",
)
DEMO_OUT = Setting("demo-out", "tokencensus-demo", "Directory the demo writes its logs, lake and report to.")
REQUESTS = Setting("requests", 1_000_000, "Simulated requests (the demo's size).")
USERS = Setting("users", 60_000, "Simulated users.")
SAMPLE_RATE = Setting(
    "sample-rate",
    0.1,
    "Share of requests whose prompt text (when the log has it) is kept for classification.",
)
CLASSIFIER = Setting(
    "classifier",
    "default",
    "Classifier: default (ships with the package), embedding (sentence embeddings: the "
    "multilingual encoder, or MiniLM with the embedding extra) or llm.",
)
ENCODER = Setting(
    "encoder",
    ENCODERS[0],
    "Encoder of the embedding classifier: use (Universal Sentence Encoder, multilingual: 16 languages; the "
    "best measured), minilm (English MiniLM) or static (distilled from MiniLM, fast).",
)
CLASSIFY_RATE = Setting(
    "rate", 0.0025, "Share of requests to classify (nested in the ingest sample; by hash of request_id)."
)
MIN_PER_MODEL = Setting(
    "min-per-model", 30, "Label at least this many prompts of every model (when it has them)."
)
FLOOR = Setting("floor", definitions.CONFIDENCE_FLOOR, "Labels below this confidence count as 'other'.")
LLM_URL = Setting("llm-url", "http://localhost:8000/v1", "OpenAI-compatible base URL (llm classifier).")
LLM_MODEL = Setting("llm-model", "", "Model name at the endpoint (llm classifier).")
MAX_USD = Setting("max-usd", 5.0, "Cost guard of the llm classifier: stop before spending more.")
LLM_PRICE_IN = Setting(
    "llm-price-in",
    -1.0,
    "USD per 1M input tokens at the llm endpoint, for --max-usd; -1: the catalog's price of --llm-model "
    "(a model it does not know needs a price; 0 for a free local model).",
)
LLM_PRICE_OUT = Setting(
    "llm-price-out", -1.0, "USD per 1M output tokens at the llm endpoint, for --max-usd; -1: the catalog's."
)
EVAL_DATA = Setting(
    "data",
    "../shared/data",
    "The shared data directory (prompts/, prompts_extra/, chat_logs/) for eval-classifier, or a labelled "
    "JSONL file (text, category) to score the shipped classifier on.",
)
HOST = Setting(
    "host",
    "127.0.0.1",
    "Address `tokencensus serve` listens on; anything but loopback exposes the data (no authentication).",
)
PORT = Setting("port", 8765, "Port `tokencensus serve` listens on (0: any free port).")
SEED = Setting("seed", 7, "Random seed of the simulator (same seed, same data).")

ALL: tuple[Setting, ...] = (
    LAKE,
    BACKEND,
    MIN_USERS,
    TOP_N,
    OUT,
    TITLE,
    ORG,
    PERIOD,
    DEMO_OUT,
    REQUESTS,
    USERS,
    SEED,
    SAMPLE_RATE,
    CLASSIFIER,
    ENCODER,
    CLASSIFY_RATE,
    MIN_PER_MODEL,
    FLOOR,
    LLM_URL,
    LLM_MODEL,
    MAX_USD,
    LLM_PRICE_IN,
    LLM_PRICE_OUT,
    EVAL_DATA,
    HOST,
    PORT,
)

BY_NAME: dict[str, Setting] = {s.name: s for s in ALL}


def read_config(path: str | Path, commands: Collection[str] = ()) -> dict[str, dict[str, Any]]:
    """A config file's settings: ``{"": top-level settings, "<command>": that command's}``.

    The file is TOML: settings by their option name (``min-users = 20``; ``min_users`` also reads),
    and tables per command (``[report]``, ``["lake delete"]``) that apply to that command only, over
    the top level. A key that is not a setting, a table that is not one of ``commands`` (when
    given), or a value of the wrong type raises :class:`ConfigError` naming the file and the key.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read ({exc.strerror or exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    out: dict[str, dict[str, Any]] = {"": {}}
    for key, value in data.items():
        if isinstance(value, dict):
            command = _name(key)
            if commands and command not in commands:
                raise ConfigError(
                    f"config file {path}: [{key}] is not a command; the commands are " + ", ".join(commands)
                )
            out[command] = {name: _checked(path, f"{key}.{name}", name, v) for name, v in value.items()}
        else:
            out[""][_name(key)] = _checked(path, key, key, value)
    for table in out.values():
        for key in list(table):
            table[_name(key)] = table.pop(key)
    return out


def _name(key: str) -> str:
    return key.replace("_", "-")


def _checked(path: Path, where: str, key: str, value: Any) -> Any:
    setting = BY_NAME.get(_name(key))
    if setting is None:
        raise ConfigError(
            f"config file {path}: {where!r} is not a setting; the settings are "
            + ", ".join(s.name for s in ALL)
        )
    kind = type(setting.default)
    fits = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        fits, value = True, float(value)
    if not fits:
        raise ConfigError(
            f"config file {path}: {where} = {value!r} should be {kind.__name__} (like the default, "
            f"{setting.default!r})"
        )
    return value
