"""The LLM classifier: any OpenAI-compatible chat endpoint (vLLM, Ollama, OpenRouter, ...).

Prompts (already scrubbed by ``classify``) go ``batch_size`` at a time in one request that asks for
a JSON list ``[{"i": 1, "category": "...", "confidence": 0.9}, ...]``. Failed calls (connection
errors, 429, 5xx, unparsable answers) are retried ``retries`` times with exponential backoff; a
prompt still unanswered gets ``other`` with confidence 0. The **cost guard** estimates each call's
tokens (characters / 4 in, 30 per prompt out) and raises :class:`ConfigError` *before* a call that
would take the run past ``max_usd`` (at ``usd_per_mtok_in`` / ``usd_per_mtok_out``, by default the
catalog's prices for the model; a model it cannot price needs them given) or ``max_calls``.
Uses the standard library only (urllib); the API key comes from ``api_key`` or ``OPENAI_API_KEY``
and never appears in errors.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Sequence

import numpy as np

from tokencensus.classify.classifiers import Prediction
from tokencensus.classify.taxonomy import OTHER, load_taxonomy
from tokencensus.errors import ConfigError

_MAX_PROMPT_CHARS = 2_000


def _catalog_prices(model: str, price_in: float | None, price_out: float | None) -> tuple[float, float]:
    """The prices the cost guard uses: those given, else the catalog's for ``model``; a model the
    catalog cannot price is an error (a guard at $0 a token would never stop a run)."""
    from tokencensus.catalog import load_catalog

    catalog = load_catalog()
    slug = catalog.resolve_one(model)
    row = catalog.get(slug) if slug else {}
    found_in, found_out = row.get("input_price"), row.get("output_price")
    price_in = price_in if price_in is not None else found_in
    price_out = price_out if price_out is not None else found_out
    if price_in is None or price_out is None:
        raise ConfigError(
            f"the catalog has no price for --llm-model {model!r}, so --max-usd cannot guard the run; pass "
            "--llm-price-in and --llm-price-out (USD per 1M tokens; 0 and 0 for a free local model)"
        )
    return float(price_in), float(price_out)


class LLMClassifier:
    def __init__(
        self,
        base_url: str = "http://localhost:8000/v1",
        model: str = "",
        api_key: str | None = None,
        batch_size: int = 20,
        retries: int = 3,
        backoff_s: float = 1.0,
        timeout_s: float = 60.0,
        max_usd: float = 5.0,
        max_calls: int = 10_000,
        usd_per_mtok_in: float | None = None,
        usd_per_mtok_out: float | None = None,
    ) -> None:
        if not model:
            raise ConfigError("the llm classifier needs a model name (--llm-model), e.g. qwen2.5:7b-instruct")
        if usd_per_mtok_in is None or usd_per_mtok_out is None:
            usd_per_mtok_in, usd_per_mtok_out = _catalog_prices(model, usd_per_mtok_in, usd_per_mtok_out)
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.batch_size, self.retries = model, max(1, batch_size), retries
        self.backoff_s, self.timeout_s = backoff_s, timeout_s
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", "")
        self.max_usd, self.max_calls = max_usd, max_calls
        self.price_in, self.price_out = usd_per_mtok_in, usd_per_mtok_out
        self.spent_usd, self.calls = 0.0, 0
        self.name = f"llm:{model}"
        self.taxonomy = load_taxonomy()
        self.system = (
            "You label user prompts sent to an AI assistant with exactly one category id. Categories:\n"
            + "\n".join(f"- {c.id}: {c.description}" for c in self.taxonomy.categories)
            + '\nAnswer with JSON only: a list of {"i": <number>, "category": <id>, "confidence": <0..1>}.'
        )

    def _guard(self, batch: Sequence[str]) -> None:
        tokens_in = (len(self.system) + sum(len(t) for t in batch)) / 4
        cost = tokens_in * self.price_in / 1e6 + 30 * len(batch) * self.price_out / 1e6
        if self.calls + 1 > self.max_calls or self.spent_usd + cost > self.max_usd:
            raise ConfigError(
                f"the llm classifier's cost guard stopped the run after {self.calls} calls "
                f"(${self.spent_usd:.4f} estimated; limits {self.max_calls} calls, ${self.max_usd}); "
                "raise --max-usd / max_calls or classify fewer prompts"
            )
        self.spent_usd += cost
        self.calls += 1

    def _call(self, batch: Sequence[str]) -> list[tuple[str, float]]:
        listing = "\n\n".join(f"[{i + 1}] {t[:_MAX_PROMPT_CHARS]}" for i, t in enumerate(batch))
        body = json.dumps(
            {
                "model": self.model,
                "temperature": 0,
                "messages": [
                    {"role": "system", "content": self.system},
                    {"role": "user", "content": listing},
                ],
            }
        ).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        for attempt in range(self.retries + 1):
            try:
                req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
                with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                    content = json.loads(resp.read())["choices"][0]["message"]["content"]
                return self._parse(content, len(batch))
            except (urllib.error.URLError, TimeoutError, KeyError, ValueError, IndexError) as exc:
                if isinstance(exc, urllib.error.HTTPError) and exc.code < 500 and exc.code != 429:
                    raise ConfigError(
                        f"the llm endpoint {self.url} refused the request (HTTP {exc.code})"
                    ) from None
                if attempt < self.retries:
                    time.sleep(self.backoff_s * 2**attempt)
        return [(OTHER, 0.0)] * len(batch)

    def _parse(self, content: str, n: int) -> list[tuple[str, float]]:
        match = re.search(r"\[.*\]", content, re.S)
        if not match:
            raise ValueError("no JSON list in the answer")
        out: list[tuple[str, float]] = [(OTHER, 0.0)] * n
        for item in json.loads(match.group(0)):
            i = int(item["i"]) - 1
            cat = str(item.get("category", OTHER))
            if 0 <= i < n and cat in self.taxonomy.ids:
                out[i] = (cat, float(min(max(float(item.get("confidence", 0.5)), 0.0), 1.0)))
        return out

    def predict(self, texts: Sequence[str]) -> Prediction:
        cats: list[str] = []
        conf: list[float] = []
        for i in range(0, len(texts), self.batch_size):
            batch = texts[i : i + self.batch_size]
            self._guard(batch)
            for c, p in self._call(batch):
                cats.append(c)
                conf.append(p)
        return Prediction(cats, np.array(conf, dtype=np.float64))
