"""The public labelled prompts in ``shared/data/prompts``, mapped onto the taxonomy.

Read from disk at evaluation/training time; never copied into the repository. Mapping of the
sources' own labels to taxonomy categories (decided before measuring, and kept fixed):

=====================  =========================================  ======================
source                 its label                                  category
=====================  =========================================  ======================
mt_bench               writing / roleplay / math / coding / stem  writing / roleplay /
                                                                  education / programming /
                                                                  science
mt_bench               reasoning, extraction, humanities          left out: each mixes several
                                                                  of our categories
vicuna                 generic, knowledge, common-sense, fermi,   general_qa
                       counterfactual
vicuna                 roleplay / writing / coding / math         roleplay / writing /
                                                                  programming / education
arena_hard             coding / math / creative_writing           programming / education /
                                                                  creative_writing
gsm8k                  (math word problems)                       education
humaneval              (Python tasks)                             programming
awesome_chatgpt        for_devs = TRUE / FALSE (TEXT prompts)     programming / roleplay
=====================  =========================================  ======================

Only the first user turn is used. Each prompt is in the *train* or the *test* split by hash of
``source:id`` (:data:`TEST_SHARE` in test), so splits are stable across runs and machines.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from tokencensus.errors import InputError
from tokencensus.ingest.samples import MAX_SAMPLE_CHARS, sample_fraction

TEST_SHARE = 0.3

_MT = {
    "writing": "writing",
    "roleplay": "roleplay",
    "math": "education",
    "coding": "programming",
    "stem": "science",
}
_VICUNA = {
    "generic": "general_qa",
    "knowledge": "general_qa",
    "common-sense": "general_qa",
    "fermi": "general_qa",
    "counterfactual": "general_qa",
    "roleplay": "roleplay",
    "writing": "writing",
    "coding": "programming",
    "math": "education",
}
_ARENA = {"coding": "programming", "math": "education", "creative_writing": "creative_writing"}


@dataclass(frozen=True)
class LabelledPrompt:
    source: str
    uid: str
    text: str
    category: str

    @property
    def split(self) -> str:
        return "test" if sample_fraction(f"{self.source}:{self.uid}") < TEST_SHARE else "train"


def _jsonl(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_corpus(data_dir: str | Path) -> list[LabelledPrompt]:
    """Every labelled prompt under ``data_dir/prompts`` (``data_dir`` is ``shared/data``)."""
    root = Path(data_dir) / "prompts"
    if not root.is_dir():
        raise InputError(
            f"{root} not found: pass --data pointing at the shared data directory (with prompts/)"
        )
    out: list[LabelledPrompt] = []

    def add(source: str, uid: object, text: object, category: str | None) -> None:
        if category and isinstance(text, str) and text.strip():
            out.append(LabelledPrompt(source, str(uid), text[:MAX_SAMPLE_CHARS], category))

    for row in _jsonl(root / "mt_bench_questions.jsonl"):
        add("mt_bench", row["question_id"], row["turns"][0], _MT.get(str(row["category"])))  # type: ignore[index]
    for row in _jsonl(root / "vicuna_bench_questions.jsonl"):
        add("vicuna", row["question_id"], row["turns"][0], _VICUNA.get(str(row["category"])))  # type: ignore[index]
    for row in _jsonl(root / "arena_hard_v2_questions.jsonl"):
        add("arena_hard", row["uid"], row["prompt"], _ARENA.get(str(row.get("subcategory"))))
    for i, row in enumerate(_jsonl(root / "gsm8k_test.jsonl")):
        add("gsm8k", i, row["question"], "education")
    for row in _jsonl(root / "humaneval.jsonl"):
        add("humaneval", row["task_id"], row["prompt"], "programming")
    csv.field_size_limit(sys.maxsize)
    with (root / "awesome_chatgpt_prompts.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row.get("type") == "TEXT":
                cat = "programming" if str(row.get("for_devs") or "").upper() == "TRUE" else "roleplay"
                add("awesome_chatgpt", row["act"], row["prompt"], cat)
    return out
