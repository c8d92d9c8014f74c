"""Real labelled prompts, mapped onto the taxonomy by their source's own metadata.

Read from ``shared/data`` at training and evaluation time; never copied into the repository (only
derived weights ship). Every prompt is labelled by what its *source* says about it (dataset, subject,
benchmark category, persona title), never by reading single prompts. The mapping was written down
before any score was measured and is kept fixed.

``prompts/`` (benchmarks and prompt collections):

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
awesome_chatgpt        for_devs = TRUE                            programming
awesome_chatgpt        the persona's title (``act``), by the      the persona's topic, see
                       first rule of :data:`AWESOME_ACTS` that    :data:`AWESOME_ACTS`; no rule:
                       matches                                    left out
=====================  =========================================  ======================

A persona prompt ("I want you to act as a legal advisor ...") asks for help on the persona's topic,
so it takes that topic's category; only personas that are play (characters, games) are roleplay.

``prompts_extra/`` (one source per file): the ``category`` each row carries, which its README derives
from the source's metadata (MMLU subject, Stack Overflow site, NLM question sets, Natural Questions,
Jeopardy!, the moderation set's sexual flag); see that README for the subject → category table.

Only the first user turn of a conversation is used. :func:`cap` keeps a stable subset of a large
(source, category) cell: the prompts that come first by hash of ``source:id``, on every run and machine.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tokencensus.errors import InputError
from tokencensus.ingest.samples import MAX_SAMPLE_CHARS, sample_fraction

EXTRA_DIR = "prompts_extra"

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

AWESOME_ACTS: tuple[tuple[str, str], ...] = (
    ("translation", r"translat"),
    ("legal", r"lawyer|legal|attorney|patent|\blaw\b"),
    (
        "health",
        r"doctor|dentist|dietitian|nutrition|psycholog|mental health|therap|medical|health|fitness"
        r"|personal trainer|yogi|diabetes|ayurveda|speech-language|hypno|meditation",
    ),
    ("finance", r"accountant|financ|invest|stock|tax\b|budget|trading|crypto|currency|pricing|revenue"),
    ("marketing", r"advertis|seo\b|marketing|social media|brand|sales|influencer|linkedin|promot|tiktok"),
    (
        "creative_writing",
        r"storytell|novelist|poet|poem|screenwriter|rapper|composer|song|lyric|story|children's book"
        r"|comedian",
    ),
    (
        "writing",
        r"essay|proofread|rephras|rewrit|summar|cover letter|title generator|tech writer|journalist"
        r"|\bbio\b|ghostwriter|note-taking|academic|paper|article|plagiarism",
    ),
    ("education", r"teacher|tutor|instructor|math|study|quiz|worksheet|learn|educat|flashcard|pronunciation"),
    ("science", r"chemi|scientif|physic|biolog|astronom|scien"),
    ("technology", r"\bit\b|tech|cyber|virtuali|network|computer|machine learning|\bllm\b"),
    (
        "roleplay",
        r"\bgame\b|character|adventure|player|pirate|drunk|lunatic|flirting|girl of|conch|friend"
        r"|spongebob|harry potter|gomoku|gnomist|magician",
    ),
    (
        "general_qa",
        r"travel|historian|etymolog|wikipedia|explain|chef|recipe|yes or no|diy|stylist|career|coach",
    ),
)
"""Persona title (``act``, lower case) → category of a non-developer awesome-chatgpt prompt: the first
rule whose pattern matches; a title no rule matches is left out."""


@dataclass(frozen=True)
class LabelledPrompt:
    source: str
    uid: str
    text: str
    category: str

    @property
    def key(self) -> str:
        return f"{self.source}:{self.uid}"


def _jsonl(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def awesome_category(act: str, for_devs: str) -> str | None:
    """The category of an awesome-chatgpt persona prompt (see :data:`AWESOME_ACTS`)."""
    if for_devs.strip().upper() == "TRUE":
        return "programming"
    title = act.strip().lower()
    return next((cat for cat, pattern in AWESOME_ACTS if re.search(pattern, title)), None)


def load_corpus(data_dir: str | Path) -> list[LabelledPrompt]:
    """Every labelled prompt under ``data_dir/prompts`` and ``data_dir/prompts_extra``.

    ``data_dir`` is ``shared/data``; a missing ``prompts_extra`` is skipped, a missing ``prompts`` is
    an error.
    """
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
        for i, persona in enumerate(csv.DictReader(f)):
            if persona.get("type") == "TEXT":
                cat = awesome_category(persona.get("act") or "", persona.get("for_devs") or "")
                add("awesome_chatgpt", f"{i}:{persona['act']}", persona["prompt"], cat)
    extra_dir = Path(data_dir) / EXTRA_DIR
    if extra_dir.is_dir():
        for path in sorted(extra_dir.glob("*.jsonl")):
            for i, row in enumerate(_jsonl(path)):
                add(path.stem, i, row.get("text"), str(row.get("category") or "") or None)
    return out


def load_labelled_jsonl(path: str | Path, categories: Sequence[str]) -> list[LabelledPrompt]:
    """A user's labelled prompts: JSONL rows with ``text`` and ``category`` (a taxonomy id).

    Optional ``source`` groups rows (default: the file name). A row that is not JSON, lacks a field or
    names an unknown category is an error naming the file, line and field.
    """
    path = Path(path)
    known = set(categories)
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read it ({exc})") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}, line {number}: not JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise InputError(f"{path}, line {number}: expected an object with 'text' and 'category'")
        text, category = row.get("text"), row.get("category")
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"{path}, line {number}, field 'text': missing or empty")
        if category not in known:
            raise InputError(
                f"{path}, line {number}, field 'category': {category!r} is not a taxonomy category "
                f"(one of: {', '.join(categories)})"
            )
        source = str(row.get("source") or path.stem)
        out.append(LabelledPrompt(source, str(number), text[:MAX_SAMPLE_CHARS], str(category)))
    if not out:
        raise InputError(f"{path}: no labelled prompts in it")
    return out


def cap(prompts: Sequence[LabelledPrompt], per_cell: int | None) -> list[LabelledPrompt]:
    """At most ``per_cell`` prompts of each (source, category), the same ones on every run."""
    if per_cell is None:
        return list(prompts)
    ranked = sorted(prompts, key=lambda p: sample_fraction(p.key))
    kept: Counter[tuple[str, str]] = Counter()
    chosen = set()
    for p in ranked:
        cell = (p.source, p.category)
        if kept[cell] < per_cell:
            kept[cell] += 1
            chosen.add(p.key)
    return [p for p in prompts if p.key in chosen]
