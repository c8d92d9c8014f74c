"""Model-name normalisation and alias resolution: whatever a log calls a model → a catalog slug.

Logs spell one model many ways: ``anthropic/claude-sonnet-4.5`` (OpenRouter id),
``anthropic/claude-4.5-sonnet-20250929`` (OpenRouter permaslug), ``claude-sonnet-4-5`` (Anthropic
API), ``bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0``, ``vertex_ai/claude-sonnet-4-5@20250929``,
``openrouter/anthropic/claude-sonnet-4.5:thinking``. :class:`AliasIndex` maps them all to one slug:

1. :func:`split_name` normalises case and whitespace, drops gateway prefixes (``openrouter/``,
   ``bedrock/``, regions, ...), routing suffixes (``:free``, ``:thinking``), revision tags (``:0``)
   and Bedrock vendor prefixes (``us.anthropic.``), and returns an author hint and the model part.
2. :func:`model_key` reduces the model part to its letter and digit runs, so ``4-5``, ``4.5`` and
   ``4_5`` compare equal and ``llama3.1`` equals ``llama-3.1``.
3. The key is looked up under the author hint, then without an author (only where exactly one
   model carries that key). Failing that, trailing stamps are stripped one at a time (dates,
   ``-v1``, ``-latest``, ``-preview``, ...) and finally ``-instruct`` / ``-it`` are tried.

Every form is looked up before a shorter one, so a snapshot the catalog lists (as a slug or an alias)
wins: ``gpt-4o-2024-08-06`` stays apart from ``gpt-4o``, while ``gpt-4.1-2025-04-14`` falls back to
``gpt-4.1``. A form that two models claim resolves to ``None`` at once, never stripped further.
Stripping only ever shortens a name to one the catalog knows, so a name never lands on a different
model family; a name that still matches nothing resolves to ``None`` and the caller reports it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

# Path segments that name a gateway, cloud or serving provider, not the model's author. They carry
# no information about the model, so they are dropped wherever they lead the name.
GATEWAYS: frozenset[str] = frozenset(
    """openrouter bedrock bedrock_converse bedrock_mantle converse invoke vertex_ai vertex_ai_beta
    vertex_ai-language-models azure azure_ai together_ai together fireworks_ai fireworks groq
    deepinfra anyscale replicate ollama ollama_chat hosted_vllm vllm nvidia_nim sagemaker
    sagemaker_chat cloudflare databricks friendliai lm_studio github github_copilot nscale sambanova
    cerebras novita hyperbolic nebius featherless_ai litellm_proxy lambda_ai vercel_ai_gateway gmi
    kyma aihubmix empiriolabs oci baseten snowflake watsonx wandb dashscope volcengine ovhcloud
    scaleway llamagate opencode_go qwen_ai_platform qwencloud inferenceapis streamlake
    text-completion-openai openai_compatible custom_openai huggingface heroku gradient_ai
    clarifai datarobot lemonade morph_ai nlp_cloud perplexity_ai predibase cloudflare-workers-ai
    workers-ai chatgpt accounts models""".split()
)

# Provider prefixes and Hugging Face organisations → the OpenRouter author of the same lab.
AUTHOR_ALIASES: dict[str, str] = {
    "meta": "meta-llama",
    "meta_llama": "meta-llama",
    "llama": "meta-llama",
    "mistral": "mistralai",
    "codestral": "mistralai",
    "text-completion-codestral": "mistralai",
    "xai": "x-ai",
    "gemini": "google",
    "palm": "google",
    "deepseek-ai": "deepseek",
    "zai": "z-ai",
    "zai-org": "z-ai",
    "zhipuai": "z-ai",
    "moonshot": "moonshotai",
    "minimaxai": "minimax",
    "cohere_chat": "cohere",
    "cohereforai": "cohere",
    "coherelabs": "cohere",
    "ai21labs": "ai21",
    "ai21_chat": "ai21",
    "ibm": "ibm-granite",
    "liquidai": "liquid",
    "xiaomimimo": "xiaomi",
    "perplexity-ai": "perplexity",
    "meituan-longcat": "meituan",
    "primeintellect": "prime-intellect",
    "bytedance-seed": "bytedance-seed",
    "alibaba-nlp": "alibaba",
    "featherless-ai": "featherless",
    "nvidia_nim": "nvidia",
}

# Bedrock model ids put the vendor before a dot (``anthropic.claude-...``, ``us.meta.llama3-...``).
_BEDROCK_VENDORS = (
    "anthropic|meta|amazon|mistral|cohere|ai21|deepseek|qwen|openai|writer|google|moonshot|moonshotai|"
    "minimax|zai|nvidia"
)
_BEDROCK = re.compile(rf"^(?:(?:us|eu|apac|global|jp|au|ca|us-gov)\.)?({_BEDROCK_VENDORS})\.(.+)$")
_REGION = re.compile(
    r"^(?:us|eu|apac|global|jp|au|ca|us-gov|[a-z]{2}(?:-gov)?-[a-z]+-\d+|\d+-months?-commitment)$"
)

_FINE_TUNE = re.compile(r"^ft:([^:]+)(?::.*)?$")  # OpenAI fine-tunes: ft:<base>:<org>:<name>:<id>
_OLLAMA_SIZE = re.compile(r":(\d+(?:\.\d+)?b)(?:-cloud)?$")  # ollama tags: llama3.1:8b
_REVISION = re.compile(r":\d+$")  # bedrock revisions: -v1:0
_NUMBERED_REVISION = re.compile(r"-\d+:\d+$")  # bedrock: openai.gpt-oss-120b-1:0
_VARIANT = re.compile(r":[a-z][a-z0-9_.-]*$")  # routing variants: :free, :thinking, :nitro, :latest
_AT_STAMP = re.compile(r"@(\d[\w.-]*)$")  # vertex: claude-3-5-sonnet@20240620, jamba-1.5@001
_AT_TAG = re.compile(r"@[a-z][\w.-]*$")  # vertex: @latest, @default
_TOKENS = re.compile(r"[a-z]+|\d+|\+")

# Trailing stamps that version a model without changing what it is, tried one at a time (in this
# order) only after the full name failed: exact ids such as ``deepseek-chat-v3-0324`` match first.
_DATE_STAMPS: tuple[re.Pattern[str], ...] = (
    re.compile(r"-\d{4}-\d{2}-\d{2}$"),  # -2024-08-06
    re.compile(r"-\d{2}-\d{4}$"),  # -09-2025
    re.compile(r"-\d{2}-\d{2}$"),  # -05-20
    re.compile(r"-\d{3,8}$"),  # -20250929, -251201, -0324, -001, groq -8192
)
_STAMPS: tuple[re.Pattern[str], ...] = (
    re.compile(r"-v\d+$"),  # bedrock -v1 / -v2 after the :0 revision is gone
    *_DATE_STAMPS,
    # Serving and release-channel words. Not "-reasoning": phi-4-mini-reasoning is its own model.
    re.compile(
        r"-(?:latest|preview|exp|experimental|beta|turbo|versatile|instant|fast|fp8|fp4|bf16|"
        r"dynamic|hf|maas|tput|non-reasoning)$"
    ),
)
# Last resort: names that drop the chat-tuning suffix the catalog id carries (groq, ollama).
_APPENDS = ("-instruct", "-it")
# Spellings rewritten before matching: Azure's ``gpt-35``, Fireworks' ``v3p1`` / ``qwen2p5``.
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^gpt-35"), "gpt-3.5"),
    (re.compile(r"^(?:databricks|snowflake)-"), ""),  # databricks-claude-sonnet-4-5
    (re.compile(r"^meta-(?=llama)"), ""),  # Meta-Llama-3.1-8B-Instruct
    (re.compile(r"-v(\d+)p(\d+)"), r"-\1.\2"),
    (re.compile(r"(\d)p(\d)"), r"\1.\2"),
    (re.compile(r"^open-(?=mi[sx]tral|codestral)"), ""),  # Mistral API: open-mistral-nemo
)

# Priorities of alias sources: a lower number wins when two sources give one key different slugs.
PRIORITY: dict[str, int] = {
    "slug": 0,
    "curated": 1,
    "renamed": 2,
    "snapshot": 3,  # a dated id folded onto the undated one serving the same weights
    "canonical": 4,
    "undated": 5,  # a permaslug without its date: claude-4.5-sonnet
    "hf": 6,
    "name": 7,
}


def normalize(name: str) -> str:
    """Lower-case ``name``, trim it and collapse inner whitespace to single spaces."""
    return " ".join(name.strip().lower().split())


def model_key(text: str) -> str:
    """The comparison key of a model name: its letter and digit runs joined by ``-``.

    ``claude-sonnet-4.5``, ``claude-sonnet-4-5`` and ``Claude Sonnet 4.5`` share one key, and so do
    ``llama3.1-70b`` and ``llama-3.1-70b``; ``1.5b`` and ``15b`` do not.
    """
    # "+" is a word in names ("Command R+" is command-r-plus), not punctuation.
    return "-".join("plus" if t == "+" else t for t in _TOKENS.findall(text.lower()))


def canonical_author(author: str) -> str:
    """The OpenRouter author for a provider prefix or Hugging Face organisation."""
    author = author.strip().lower()
    return AUTHOR_ALIASES.get(author, author)


def strip_suffixes(name: str) -> str:
    """Drop fine-tune, routing-variant, revision and ``@`` suffixes from a normalised name."""
    s = name.lstrip("~")
    m = _FINE_TUNE.match(s)
    if m:
        s = m.group(1)
    while True:
        before = s
        s = _OLLAMA_SIZE.sub(r"-\1", s)
        s = _NUMBERED_REVISION.sub("", s)
        s = _REVISION.sub("", s)
        s = _VARIANT.sub("", s)
        s = _AT_STAMP.sub(r"-\1", s)
        s = _AT_TAG.sub("", s)
        if s == before:
            return s


def split_name(name: str) -> tuple[str | None, str]:
    """Split a raw model name into (author hint, model part).

    Gateways and regions are dropped from the front; Bedrock's ``vendor.`` prefix becomes the
    author hint. The author hint is mapped through :data:`AUTHOR_ALIASES` but not checked against
    any catalog (that is :class:`AliasIndex`'s job).
    """
    s = strip_suffixes(normalize(name))
    segments = [seg for seg in s.split("/") if seg]
    while len(segments) > 1 and (segments[0] in GATEWAYS or _REGION.match(segments[0])):
        segments.pop(0)
    if not segments:
        return None, ""
    tail = segments[-1]
    author: str | None = None
    if len(segments) >= 2 and segments[-2] not in GATEWAYS and not _REGION.match(segments[-2]):
        author = canonical_author(segments[-2])
    m = _BEDROCK.match(tail)
    if m:
        author, tail = canonical_author(m.group(1)), m.group(2)
    return author, tail


def drop_date_stamp(name: str) -> str:
    """``name`` without one trailing date or numeric version stamp (``-20250929``, ``-07-25``)."""
    for pattern in _DATE_STAMPS:
        shorter = pattern.sub("", name)
        if shorter != name and shorter:
            return shorter
    return name


def candidate_tails(tail: str) -> list[str]:
    """Model parts to try in order: as given, rewritten, then with stamps stripped, then appended."""
    forms = [tail]
    for pattern, replacement in _REWRITES:
        # Each rewrite applies to every form so far: "llama-v3p1" and "deepseek-v3p1" need different ones.
        forms += [g for g in (pattern.sub(replacement, f) for f in forms) if g not in forms]
    out: list[str] = []
    for form in forms:
        current = form
        out.append(current)
        stripped = True
        while stripped:
            stripped = False
            for pattern in _STAMPS:
                shorter = pattern.sub("", current)
                if shorter != current and shorter:
                    current = shorter
                    out.append(current)
                    stripped = True
                    break
    # Appending is tried on the form as given and on its fully stripped form only.
    for base in dict.fromkeys((forms[-1], out[-1])):
        out.extend(base + suffix for suffix in _APPENDS)
    return list(dict.fromkeys(out))


_AMBIGUOUS = ""  # marks a key that two slugs claim at the same priority: it resolves to nothing


@dataclass
class _Claims:
    """The slugs claiming one key at the best priority seen so far."""

    priority: int
    slugs: set[str] = field(default_factory=set)


def _claim(index: dict[str, _Claims], key: str, slug: str, priority: int) -> None:
    current = index.get(key)
    if current is None or priority < current.priority:
        index[key] = _Claims(priority, {slug})
    elif priority == current.priority:
        current.slugs.add(slug)


def _settle(index: dict[str, _Claims]) -> dict[str, str]:
    return {k: (next(iter(c.slugs)) if len(c.slugs) == 1 else _AMBIGUOUS) for k, c in index.items()}


class AliasIndex:
    """Resolves raw model names to catalog slugs.

    Built from the catalog's slugs and (alias, slug, source) rows; ``source`` is one of
    :data:`PRIORITY`'s keys and decides which claim wins when two sources disagree. A key claimed
    by two slugs at the same priority is ambiguous and resolves to ``None``.
    """

    def __init__(self, slugs: Iterable[str], aliases: Iterable[tuple[str, str, str]] = ()) -> None:
        self.slugs: frozenset[str] = frozenset(slugs)
        self.authors: frozenset[str] = frozenset(s.split("/", 1)[0] for s in self.slugs if "/" in s)
        full: dict[str, _Claims] = {}
        bare: dict[str, _Claims] = {}
        entries = [(slug, slug, "slug") for slug in self.slugs]
        entries += [(a, s, src) for a, s, src in aliases if s in self.slugs]
        for alias, slug, source in entries:
            priority = PRIORITY.get(source, max(PRIORITY.values()) + 1)
            author, tail = split_name(alias)
            if not tail:
                continue
            key = model_key(tail)
            if not key:
                continue
            _claim(full, f"{author or slug.split('/', 1)[0]}/{key}", slug, priority)
            _claim(bare, key, slug, priority)
            whole = model_key(normalize(alias))
            if whole != key:
                # Display names ("Anthropic: Claude Sonnet 4.5") and author-prefixed bare names.
                _claim(bare, whole, slug, priority)
        self._full = _settle(full)
        self._bare = _settle(bare)
        self._cache: dict[str, str | None] = {}

    def resolve(self, name: str | None) -> str | None:
        """The catalog slug for ``name``, or ``None`` when nothing (or more than one model) matches."""
        if name is None:
            return None
        if name in self._cache:  # logs repeat a few names millions of times
            return self._cache[name]
        result = self._resolve(name)
        self._cache[name] = result
        return result

    def _resolve(self, name: str) -> str | None:
        normalized = normalize(name)
        if not normalized:
            return None
        if normalized in self.slugs:
            return normalized
        author, tail = split_name(normalized)
        if not tail:
            return None
        if author is not None and author not in self.authors:
            author = None  # a host or unknown organisation: say nothing about the model
        for candidate in candidate_tails(tail):
            key = model_key(candidate)
            if not key:
                continue
            if author is not None:
                for full_key in (f"{author}/{key}", f"{author}/{model_key(author)}-{key}"):
                    hit = self._full.get(full_key)
                    if hit is not None:
                        return hit or None
            hit = self._bare.get(key)
            if hit is not None:
                return hit or None
        whole = self._bare.get(model_key(normalized))
        return whole or None
