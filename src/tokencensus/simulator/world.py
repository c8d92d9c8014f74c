"""The simulated world's fixed vocabulary: categories, countries, apps and serving providers.

These are the planted *distributions* that do not depend on the seed. Numbers are plausible
round figures after the OpenRouter "State of AI" study, not measurements.
"""

from __future__ import annotations

import numpy as np

CATEGORIES: tuple[str, ...] = (
    "programming",
    "roleplay",
    "translation",
    "general_qa",
    "writing",
    "education",
    "creative_writing",
    "adult",
    "technology",
    "science",
    "health",
    "finance",
    "legal",
    "marketing",
    "trivia",
    "other",
)
"""Request categories, in a fixed order (index = category code)."""

PROGRAMMING = CATEGORIES.index("programming")

# Mean input / output length of a category relative to the week's base length. Programming prompts
# carry whole files and agent transcripts; roleplay carries long histories and writes long replies;
# translation and trivia are short both ways.
INPUT_MULT = np.array([2.6, 1.4, 0.35, 0.5, 0.8, 0.7, 0.8, 1.2, 1.0, 0.9, 0.6, 0.8, 1.5, 0.6, 0.3, 0.7])
OUTPUT_MULT = np.array([1.2, 1.7, 0.5, 0.8, 1.5, 1.0, 1.9, 1.6, 1.0, 1.1, 0.9, 0.9, 1.0, 1.2, 0.4, 0.8])

# Category mix (request shares, before the programming trend) of three kinds of model.
_OPEN_MIX = [0.10, 0.50, 0.04, 0.06, 0.03, 0.02, 0.06, 0.06, 0.03, 0.02, 0.01, 0.01, 0.005, 0.01, 0.02, 0.035]
_CODER_MIX = [0.55, 0.03, 0.02, 0.07, 0.05, 0.03, 0.02, 0.0, 0.09, 0.04, 0.01, 0.02, 0.01, 0.02, 0.01, 0.03]
_GENERAL_MIX = [
    0.18,
    0.08,
    0.07,
    0.15,
    0.09,
    0.07,
    0.04,
    0.01,
    0.07,
    0.05,
    0.03,
    0.03,
    0.02,
    0.04,
    0.03,
    0.04,
]
CATEGORY_PROFILES: dict[str, np.ndarray] = {
    "open": np.array(_OPEN_MIX) / sum(_OPEN_MIX),
    "coder": np.array(_CODER_MIX) / sum(_CODER_MIX),
    "general": np.array(_GENERAL_MIX) / sum(_GENERAL_MIX),
}
"""open: open-weights models (roleplay-heavy); coder: Anthropic-like; general: other closed models."""

CODER_AUTHORS = frozenset({"anthropic"})

# (ISO alpha-2, continent, share of users). Sums to 1.
COUNTRIES: tuple[tuple[str, str, float], ...] = (
    ("US", "North America", 0.300),
    ("CN", "Asia", 0.060),
    ("IN", "Asia", 0.060),
    ("DE", "Europe", 0.040),
    ("GB", "Europe", 0.040),
    ("BR", "South America", 0.035),
    ("JP", "Asia", 0.030),
    ("FR", "Europe", 0.030),
    ("CA", "North America", 0.030),
    ("KR", "Asia", 0.025),
    ("SG", "Asia", 0.020),
    ("RU", "Europe", 0.020),
    ("AU", "Oceania", 0.018),
    ("VN", "Asia", 0.016),
    ("ID", "Asia", 0.016),
    ("TR", "Asia", 0.015),
    ("NL", "Europe", 0.015),
    ("ES", "Europe", 0.015),
    ("IT", "Europe", 0.015),
    ("PL", "Europe", 0.012),
    ("MX", "North America", 0.012),
    ("TW", "Asia", 0.012),
    ("HK", "Asia", 0.010),
    ("UA", "Europe", 0.010),
    ("PH", "Asia", 0.010),
    ("NG", "Africa", 0.010),
    ("AR", "South America", 0.009),
    ("SE", "Europe", 0.008),
    ("CH", "Europe", 0.008),
    ("IL", "Asia", 0.008),
    ("EG", "Africa", 0.006),
    ("ZA", "Africa", 0.006),
    ("NZ", "Oceania", 0.004),
    ("KE", "Africa", 0.004),
    ("CO", "South America", 0.006),
    ("TH", "Asia", 0.011),
    ("AE", "Asia", 0.008),
    ("PK", "Asia", 0.006),
    ("MY", "Asia", 0.008),
    ("CL", "South America", 0.005),
    ("PT", "Europe", 0.006),
)

APPS: tuple[str, ...] = (
    "Cline",
    "Roo Code",
    "Kilo Code",
    "Aider",
    "Continue",
    "OpenHands",
    "Zed",
    "Goose",
    "SillyTavern",
    "Janitor AI",
    "Chub AI",
    "RisuAI",
    "Agnai",
    "LibreChat",
    "Open WebUI",
    "OpenRouter Chat",
    "TypingMind",
    "LobeChat",
    "Chatbox",
    "Msty",
    "n8n",
    "Dify",
    "Langflow",
    "Flowise",
    "Make",
    "Immersive Translate",
    "Bob Translate",
    "NovelCrafter",
    "Sudowrite",
    "Obsidian Copilot",
    "Raycast",
    "Quizlet AI",
)
"""Calling applications (the ``app`` column)."""

_CODING = ("Cline", "Roo Code", "Kilo Code", "Aider", "Continue", "OpenHands", "Zed", "Goose")
_ROLEPLAY = ("SillyTavern", "Janitor AI", "Chub AI", "RisuAI", "Agnai")
_CHAT = ("LibreChat", "Open WebUI", "OpenRouter Chat", "TypingMind", "LobeChat", "Chatbox", "Msty", "Raycast")
_AUTOMATION = ("n8n", "Dify", "Langflow", "Flowise", "Make")
_WRITING = ("NovelCrafter", "Sudowrite", "Obsidian Copilot")
_AFFINITY: dict[str, tuple[tuple[str, ...], float]] = {
    # category: (apps it favours, share of its requests they take); the rest spreads over chat
    # and automation apps, and a share has no app name at all (a bare API key).
    "programming": (_CODING, 0.75),
    "roleplay": (_ROLEPLAY, 0.8),
    "adult": (_ROLEPLAY, 0.85),
    "creative_writing": ((*_WRITING, "SillyTavern"), 0.4),
    "writing": (_WRITING, 0.3),
    "translation": (("Immersive Translate", "Bob Translate"), 0.6),
    "education": (("Quizlet AI", "Obsidian Copilot"), 0.25),
    "marketing": (_AUTOMATION, 0.4),
    "technology": (_CODING + _AUTOMATION, 0.3),
}
NO_APP_SHARE = 0.2


def app_table() -> np.ndarray:
    """P(app | category): shape (categories, apps + 1); the last column is 'no app' (null)."""
    index = {a: i for i, a in enumerate(APPS)}
    general = _CHAT + _AUTOMATION
    table = np.zeros((len(CATEGORIES), len(APPS) + 1))
    for c, cat in enumerate(CATEGORIES):
        favoured, weight = _AFFINITY.get(cat, ((), 0.0))
        rest = 1.0 - NO_APP_SHARE - weight
        for a in favoured:
            table[c, index[a]] += weight / len(favoured)
        for a in general:
            table[c, index[a]] += rest / len(general)
        table[c, -1] = NO_APP_SHARE
    return table / table.sum(axis=1, keepdims=True)


OPEN_HOSTS: tuple[str, ...] = (
    "DeepInfra",
    "Together",
    "Fireworks",
    "Novita",
    "Chutes",
    "Groq",
    "Parasail",
    "SiliconFlow",
    "Baseten",
    "Nebius",
    "Hyperbolic",
    "Cerebras",
    "AtlasCloud",
    "Lambda",
)
"""Third-party hosts that serve open-weights models."""

# author (lower case) → (first-party API, other providers of its closed models with their share)
FIRST_PARTY: dict[str, tuple[str, tuple[tuple[str, float], ...]]] = {
    "openai": ("OpenAI", (("Azure", 0.15),)),
    "anthropic": ("Anthropic", (("Amazon Bedrock", 0.2), ("Google Vertex", 0.1))),
    "google": ("Google AI Studio", (("Google Vertex", 0.35),)),
    "x-ai": ("xAI", ()),
    "xai": ("xAI", ()),
    "mistralai": ("Mistral", ()),
    "mistral": ("Mistral", ()),
    "deepseek": ("DeepSeek", ()),
    "qwen": ("Alibaba Cloud", ()),
    "alibaba": ("Alibaba Cloud", ()),
    "moonshotai": ("Moonshot AI", ()),
    "moonshot": ("Moonshot AI", ()),
    "z-ai": ("Z.AI", ()),
    "zhipu": ("Z.AI", ()),
    "thudm": ("Z.AI", ()),
    "minimax": ("MiniMax", ()),
    "cohere": ("Cohere", ()),
    "amazon": ("Amazon Bedrock", ()),
    "perplexity": ("Perplexity", ()),
    "ai21": ("AI21", ()),
    "baidu": ("Baidu Qianfan", ()),
    "bytedance": ("Volcengine", ()),
    "bytedance-seed": ("Volcengine", ()),
    "tencent": ("Tencent Cloud", ()),
    "meituan": ("Meituan", ()),
    "inception": ("Inception", ()),
    "microsoft": ("Azure", ()),
    "nvidia": ("NVIDIA", ()),
}

AUTHOR_POPULARITY: dict[str, float] = {
    "openai": 4.0,
    "anthropic": 4.0,
    "google": 4.0,
    "deepseek": 4.0,
    "qwen": 2.5,
    "x-ai": 2.5,
    "xai": 2.5,
    "moonshotai": 2.5,
    "z-ai": 2.5,
    "meta-llama": 2.0,
    "mistralai": 2.0,
    "minimax": 1.5,
}
"""Popularity multiplier of a model by author (others: 1)."""

HOURLY = 1.0 + 0.6 * np.cos(2 * np.pi * (np.arange(24) - 15) / 24)
"""Diurnal pattern of requests by UTC hour (peaks mid-afternoon UTC: US morning, EU afternoon)."""
HOURLY = HOURLY / HOURLY.sum()

WEEKDAY = np.array([1.0, 1.0, 1.0, 1.0, 0.95, 0.75, 0.75])
"""Relative request volume Monday..Sunday."""
