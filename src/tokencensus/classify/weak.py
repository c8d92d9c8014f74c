"""Weak supervision: real, unlabelled chat prompts labelled by rules, as extra training data.

The public labelled sources lack whole categories (translation, work writing, creative writing,
roleplay) and give others a single source. Real chat prompts (``shared/data/chat_logs``, ShareGPT)
cover them, without labels. Each category here has *labelling functions*: patterns that, when they
match a prompt, vote for that category (in English and, where a request is commonly phrased in
another language, in it too). A prompt is labelled only when the votes name exactly one category
(general_qa's plain-question rules give way to any topic's); a prompt no rule or several categories'
rules match is left unlabelled (abstains). The rules were
written from the taxonomy's definitions, not tuned on the evaluation sources.

The labels are noisy, so these prompts are training data only: the classifier's scores are always
measured on sources labelled by their metadata (:mod:`.corpus`). Every human turn of a conversation
is a candidate (a request to translate or rewrite often follows the first turn).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tokencensus.classify.corpus import LabelledPrompt
from tokencensus.ingest.samples import MAX_SAMPLE_CHARS

SOURCE = "sharegpt_weak"
CHAT_FILE = Path("chat_logs") / "sharegpt_v3_first3000.jsonl"
FALLBACK = "general_qa"
"""Its rules (a plain question) give way to any topic's: "what are the symptoms of ...?" is health."""
MIN_CHARS = 20
"""Shorter turns ("continue", "more") say nothing about the use case on their own."""

RULES: dict[str, tuple[str, ...]] = {
    "translation": (
        r"\btranslat(e|ion)\b.{0,60}\b(into|to|in)\s+(english|chinese|spanish|french|german|japanese|korean"
        r"|italian|portuguese|russian|arabic|hindi|vietnamese|thai|turkish|dutch|polish|indonesian)",
        r"^\s*translate\b",
        r"翻译|翻譯|번역(해|하여|해서)|翻訳|traduc|übersetz|переве(ди|сти)|tradu(is|ire|zir)",
    ),
    "programming": (
        r"```",
        r"\b(def|class|function|import|return|const|var|public static)\b.*[({;:]",
        r"\b(python|javascript|typescript|java|c\+\+|c#|golang|rust|php|ruby|kotlin|swift|sql|html|css"
        r"|react|node\.?js|django|flask|api|regex|json)\b.*\b(code|function|script|error|bug|query|class)\b",
        r"\b(traceback|exception|stack trace|compile error|syntax error|segfault|undefined is not)\b",
        r"\b(python|javascript|typescript|java|c\+\+|c#|php|golang|rust|kotlin|swift|ruby|scala|sql|mysql"
        r"|postgres|mongodb|html|css|react|angular|vue|node\.?js|django|flask|spring boot|laravel"
        r"|wordpress plugin|vba|regex|git|docker|kubernetes|bash|powershell|api endpoint|json|xml|npm|pip"
        r"|webpack|unity|pandas|numpy)\b.{0,80}\b(how (do|can|to)|why (does|is)|error|fails?|not working"
        r"|implement|convert|parse|query|install|deploy|debug|function|method|class|loop|array|list|string"
        r"|variable)\b",
    ),
    "creative_writing": (
        r"\bwrite (me )?an? (short |funny |sad |creative )?(story|poem|song|haiku|sonnet|limerick|rap"
        r"|fairy tale|screenplay|script for a (movie|play|film)|novel|fable)\b",
        r"\b(poem|lyrics|short story|fiction|plot twist|chapter \d+ of)\b",
    ),
    "writing": (
        r"\b(write|draft|compose)\b.{0,40}\b(email|e-mail|letter|cover letter|memo|report|essay|resume|cv"
        r"|proposal|speech|summary|announcement|press release|job description)\b",
        r"\b(proofread|rephrase|paraphrase|reword|rewrite (this|the following|it)|make (it|this) more "
        r"(formal|concise|professional)|summari[sz]e (this|the following)|correct (the )?grammar)\b",
    ),
    "marketing": (
        r"\b(marketing|seo|ad copy|advertis\w*|campaign|social media post|instagram|facebook ads|landing page"
        r"|slogan|tagline|brand voice|copywriting|product description|email marketing|lead generation"
        r"|conversion rate|target audience)\b",
    ),
    "finance": (
        r"\b(invest(ing|ment|or)s?|stock market|stocks?|portfolio|dividend|tax(es)?|accounting|bookkeeping"
        r"|mortgage|loan|interest rate|inflation|cryptocurrenc\w*|bitcoin|budget(ing)?|financial statements?"
        r"|balance sheet|cash flow|valuation|hedge fund|401k|retirement savings)\b",
    ),
    "legal": (
        r"\b(legal|lawyer|attorney|lawsuit|contract clause|court|judge|statute|jurisdiction|liabilit\w+"
        r"|copyright|trademark|gdpr|terms of service|plaintiff|defendant|legislation|regulations?)\b",
    ),
    "health": (
        r"\b(symptoms?|diagnos\w+|disease|doctor|medical|medication|treatment|patients?|therapy|nutrition"
        r"|diet|calories|workout|exercise routine|mental health|anxiety|depression|pain in my|blood pressure"
        r"|diabetes|cancer|vaccine|pregnan\w+)\b",
    ),
    "education": (
        r"\b(solve|calculate|equation|derivative|integral|probability|homework|exam|quiz me|lesson plan"
        r"|teach me|explain to a (child|student|beginner)|students?|curriculum|syllabus)\b",
        r"\d+\s*[x×*/+-]\s*\d+\s*=",
    ),
    "science": (
        r"\b(physics|chemistry|biology|molecule|atoms?|quantum|photosynthesis|evolution|genetics?|dna"
        r"|electrons?|gravity|planets?|astronomy|chemical reaction|thermodynamics|ecosystem)\b",
    ),
    "technology": (
        r"\b(iphone|android phone|laptop|windows (10|11)|macos|router|wi-?fi|printer|bluetooth|smartphone"
        r"|graphics card|gpu|cpu|ram|ssd|usb|operating system|chatgpt|artificial intelligence|blockchain"
        r"|cloud computing|cybersecurity|vpn)\b",
    ),
    "roleplay": (
        r"\b(role-?play|stay in character|you are (now )?(a|an|my) \w+ (character|named)"
        r"|pretend (to be|you are)|text-based (adventure|game)|dungeon master|let's play a game"
        r"|you will act as (a|my) (character|girlfriend|boyfriend))\b",
    ),
    "trivia": (r"\b(trivia|quiz (me|questions?)|pub quiz|riddle|jeopardy)\b",),
    "general_qa": (
        r"^\s*(what is|what are|why do|why does|why is|how does|how do|can you explain|is it true)\b"
        r"[^\n]{0,120}\?\s*$",
        r"^\s*(who (was|is|won|invented|wrote|discovered)|what year did|what is the capital of|how many \w+ "
        r"(are there|does a)|which country)\b[^\n]{0,120}$",
    ),
}
_COMPILED = {cat: tuple(re.compile(p, re.IGNORECASE) for p in pats) for cat, pats in RULES.items()}


def votes(text: str) -> set[str]:
    """The categories whose rules match ``text`` (its first :data:`MAX_SAMPLE_CHARS` characters)."""
    head = text[:MAX_SAMPLE_CHARS]
    return {cat for cat, pats in _COMPILED.items() if any(p.search(head) for p in pats)}


def weak_label(text: str) -> str | None:
    """The one category the rules name, or ``None`` (no rule, or rules of several categories)."""
    if len(text.strip()) < MIN_CHARS:
        return None
    found = votes(text)
    if len(found) > 1:  # a question on a topic is that topic's: general_qa only when nothing else is
        found.discard(FALLBACK)
    return found.pop() if len(found) == 1 else None


def load_weak(data_dir: str | Path) -> list[LabelledPrompt]:
    """Weakly labelled human turns of the chat logs under ``data_dir`` (empty when they are absent)."""
    path = Path(data_dir) / CHAT_FILE
    if not path.exists():
        return []
    out = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            row = json.loads(line)
            for i, turn in enumerate(row.get("conversations") or []):
                text = turn.get("value")
                if turn.get("from") != "human" or not isinstance(text, str) or text in seen:
                    continue
                seen.add(text)
                if category := weak_label(text):
                    out.append(
                        LabelledPrompt(SOURCE, f"{row.get('id')}:{i}", text[:MAX_SAMPLE_CHARS], category)
                    )
    return out
