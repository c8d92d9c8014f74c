"""Hashed text features, computed for a whole batch of prompts at once with numpy.

A prompt is lower-cased, its whitespace collapsed and cut to :data:`MAX_CHARS`; its features are
character 3-, 4- and 5-grams, words and word bigrams, each hashed (a polynomial rolling hash mod
2**64, the same on every machine and process) into ``2**bits`` buckets. The batch's text is turned
into one array of code points so every step is a vectorised numpy operation: no Python loop per
n-gram, which is what makes the default classifier fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

MAX_CHARS = 1_000
"""Characters of a prompt that are featurised (the gist is at the start; cost grows with length)."""
CHAR_NGRAMS = (3, 4, 5)
_WS = re.compile(r"\s+")
_BASE = np.uint64(0x100000001B3)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_SEP = 1  # code point separating prompts in the joined batch


@dataclass(frozen=True)
class Features:
    """Feature occurrences of a batch: ``doc[i]`` has bucket ``bucket[i]`` (repeats = counts).

    ``doc`` is sorted; ``norm[d]`` is 1/sqrt(number of occurrences in prompt d) (length normalisation).
    """

    n_docs: int
    doc: np.ndarray
    bucket: np.ndarray
    norm: np.ndarray


def normalise(text: str) -> str:
    return _WS.sub(" ", text[:MAX_CHARS].lower()).strip().replace("\x01", " ")


def _powers(n: int) -> list[np.uint64]:
    out, p = [], np.uint64(1)
    with np.errstate(over="ignore"):
        for _ in range(n):
            out.append(p)
            p = p * _BASE
    return out[::-1]


def featurise(texts: list[str], bits: int) -> Features:
    """Hashed features of every prompt of ``texts`` (see the module docstring)."""
    norm_texts = [normalise(t) for t in texts]
    joined = "\x01".join(norm_texts) + "\x01"
    cp = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    lengths = np.fromiter((len(t) + 1 for t in norm_texts), dtype=np.int64, count=len(texts))
    doc_of = np.repeat(np.arange(len(texts), dtype=np.int32), lengths)
    is_sep = cp == _SEP
    sep_cum = np.concatenate([[0], np.cumsum(is_sep)])
    hashes, docs = [], []
    with np.errstate(over="ignore"):
        for n in CHAR_NGRAMS:
            if len(cp) < n:
                continue
            m = len(cp) - n + 1
            h = np.full(m, np.uint64(n), dtype=np.uint64)
            for k, p in enumerate(_powers(n)):
                h = h + cp[k : k + m] * p
            ok = (sep_cum[n : n + m] - sep_cum[:m]) == 0
            hashes.append(h[ok])
            docs.append(doc_of[:m][ok])
        # Words: runs of letters/digits/underscore (any code point >= U+00C0 counts as a letter, except
        # general and CJK punctuation), hashed with prefix sums so every word costs O(1).
        word = (
            ((cp >= 48) & (cp <= 57))
            | ((cp >= 97) & (cp <= 122))
            | (cp == 95)
            | ((cp >= 0xC0) & ~((cp >= 0x2000) & (cp <= 0x206F)) & ~((cp >= 0x3000) & (cp <= 0x303F)))
        )
        edges = np.diff(np.concatenate([[False], word, [False]]).astype(np.int8))
        starts = np.flatnonzero(edges == 1)
        ends = np.flatnonzero(edges == -1)
        if len(starts):
            # h(word) = sum c_j * B^(end-1-j): with running H_i = H_{i-1}*B + c_i, h = H_end - H_start*B^len.
            running = np.zeros(len(cp) + 1, dtype=np.uint64)
            # A sequential recurrence: computed as prefix sums in the B^-1 basis (B is odd, so invertible).
            inv = np.uint64(pow(int(_BASE), -1, 2**64))
            inv_pow = np.cumprod(np.full(len(cp), inv, dtype=np.uint64))
            inv_pow = np.concatenate([[np.uint64(1)], inv_pow[:-1]])
            running[1:] = np.cumsum(cp * inv_pow)
            fwd = np.cumprod(np.full(len(cp), _BASE, dtype=np.uint64))
            fwd = np.concatenate([[np.uint64(1)], fwd])  # fwd[k] = B^k
            wh = (running[ends] - running[starts]) * fwd[ends - 1] + np.uint64(7)
            wdoc = doc_of[starts]
            hashes.append(wh)
            docs.append(wdoc)
            same = wdoc[1:] == wdoc[:-1]
            bigram = (wh[:-1] * _MIX + wh[1:]) ^ np.uint64(0x5BD1E995)
            hashes.append(bigram[same])
            docs.append(wdoc[:-1][same])
        h = np.concatenate(hashes) if hashes else np.zeros(0, np.uint64)
        d = np.concatenate(docs) if docs else np.zeros(0, np.int32)
        bucket = ((h * _MIX) >> np.uint64(64 - bits)).astype(np.int32)
    order = np.argsort(d, kind="stable")
    d, bucket = d[order], bucket[order]
    counts = np.bincount(d, minlength=len(texts)).astype(np.float32)
    norm = 1.0 / np.sqrt(np.maximum(counts, 1.0))
    return Features(n_docs=len(texts), doc=d, bucket=bucket, norm=norm)


def scores(features: Features, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Linear scores (docs × classes): sum of the weights of each prompt's features, normalised."""
    out = np.zeros((features.n_docs, weights.shape[1]), dtype=np.float32)
    if len(features.doc):
        gathered = weights[features.bucket].astype(np.float32, copy=False)
        present = np.flatnonzero(np.bincount(features.doc, minlength=features.n_docs))
        starts = np.searchsorted(features.doc, present)
        out[present] = np.add.reduceat(gathered, starts, axis=0)
    return out * features.norm[:, None] + bias[None, :]
