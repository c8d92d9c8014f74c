"""Throughput of the classify pipeline on real prompts: scrub, language detection, default classifier,
and with ``--embedding`` the embedding classifier's multilingual encoder (USE) on the first 2,000 of each.

Run: ``PYTHONPATH=src python bench/bench_classify.py [--data ../shared/data] [--embedding]``. Prints
prompts/s per stage (no prompt text).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from tokencensus.classify.classifiers.default import DefaultClassifier
from tokencensus.classify.corpus import load_corpus
from tokencensus.classify.language import detect
from tokencensus.classify.scrub import scrub_texts


def _timed(label: str, fn, texts: list[str]) -> None:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn(texts)
    elapsed = time.perf_counter() - start
    print(f"{label:<34} {len(texts):>6} prompts  {len(texts) / elapsed:>9,.0f} prompts/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--embedding", action="store_true", help="also time the embedding classifier (USE)")
    args = parser.parse_args()
    labelled = [p.text for p in load_corpus(args.data)]
    chats = []
    with (Path(args.data) / "chat_logs" / "sharegpt_v3_first3000.jsonl").open(encoding="utf-8") as f:
        for line in f:
            turns = json.loads(line).get("conversations") or []
            first = next((t["value"] for t in turns if t.get("from") == "human"), "")
            if first:
                chats.append(first)
    classifier = DefaultClassifier()
    classifier.predict(labelled[:50])
    detect(labelled[:10])
    for name, texts in (("labelled prompts", labelled), ("ShareGPT first turns", chats)):
        _timed(f"scrub ({name})", scrub_texts, texts)
        _timed(f"language ({name})", detect, texts)
        _timed(f"default classifier ({name})", classifier.predict, texts)
    if args.embedding:
        from tokencensus.classify.classifiers.embedding import EmbeddingClassifier

        use = EmbeddingClassifier("use")
        use.predict(labelled[:20])
        for name, texts in (("labelled prompts", labelled), ("ShareGPT first turns", chats)):
            _timed(f"embedding USE ({name})", use.predict, texts[:2_000])


if __name__ == "__main__":
    main()
