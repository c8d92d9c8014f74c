"""PII scrubbing: run on every prompt before it is stored by classify or sent to any endpoint.

What is replaced, and by what placeholder:

==============  ==========  ===================================================================
kind            placeholder  how it is found
==============  ==========  ===================================================================
private keys    [SECRET]    PEM blocks (``-----BEGIN ... PRIVATE KEY-----`` to ``END``)
URL secrets     [SECRET]    ``user:password@`` in a URL, and the value of query parameters named
                            like token, key, secret, signature, password, auth, session, code
emails          [EMAIL]     RFC-ish addresses, also obfuscated ``name [at] host [dot] com``
secrets         [SECRET]    known key shapes (OpenAI/Anthropic ``sk-``, AWS ``AKIA``, GitHub
                            ``ghp_``/``github_pat_``, Slack ``xox?-``, Google ``AIza``, Stripe
                            ``sk_live_``, JWTs, ``Bearer`` tokens), ``password=...``-style
                            assignments, and long high-entropy strings (letters and digits mixed)
IPs             [IP]        IPv4 with valid octets, IPv6 (full and compressed)
card numbers    [CARD]      13–19 digits (spaces/dashes allowed) that pass the Luhn check
phone numbers   [PHONE]     7–15 digits in phone layout (``+`` prefix, brackets or separators);
                            dates and plain numbers are left alone
==============  ==========  ===================================================================

Over-scrubbing is the safe side (a version string like 1.2.3.4 becomes [IP]). Scrubbing is
idempotent: placeholders are never matched again.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

EMAIL, PHONE, CARD, IP, SECRET = "[EMAIL]", "[PHONE]", "[CARD]", "[IP]", "[SECRET]"

_PEM = re.compile(
    r"-----BEGIN [A-Z0-9 ]*(?:PRIVATE KEY|SECRET|CERTIFICATE)[A-Z ]*-----.*?(?:-----END [A-Z0-9 ]*-----|\Z)",
    re.S,
)
_URL_USERINFO = re.compile(r"(?i)\b((?:[a-z][a-z0-9+.-]*)://)[^\s/@:]+:[^\s/@]+@")
_SECRET_PARAM_NAMES = (
    r"[a-z0-9_.-]*(?:token|key|secret|signature|sig|password|passwd|pwd|auth|session|sid|code|"
    r"credential|apikey|api_key|access_key|client_secret)[a-z0-9_.-]*"
)
_URL_PARAM = re.compile(rf"(?i)([?&;#]{_SECRET_PARAM_NAMES}=)[^&\s#\"'<>]+")
_EMAIL = re.compile(
    r"(?i)(?<![\w.+-])[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"\s*@\s*(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}\b"
)
_EMAIL_OBFUSCATED = re.compile(
    r"(?i)\b[a-z0-9._%+-]+\s*[\[\(\{<]\s*at\s*[\]\)\}>]\s*[a-z0-9-]+"
    r"(?:\s*(?:[\[\(\{<]\s*dot\s*[\]\)\}>]|\.)\s*[a-z0-9-]+)+"
)
_KNOWN_KEYS = re.compile(
    r"(?x)(?<![A-Za-z0-9])(?:"
    r"sk-(?:proj-|ant-(?:api\d+-)?|live-|test-)?[A-Za-z0-9_-]{16,}"
    r"|(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,}"
    r"|(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}"
    r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
    r"|glpat-[A-Za-z0-9_-]{16,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}"
    r"|AIza[0-9A-Za-z_-]{30,}"
    r"|hf_[A-Za-z0-9]{20,}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
    r")"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{12,}")
_ASSIGNMENT = re.compile(
    r"""(?ix)\b((?:[a-z0-9_-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key
    |client[_-]?secret|auth)[a-z0-9_-]*)["']?\s*(?:=|:|=>)\s*)(?!\[SECRET\])("[^"\n]+"|'[^'\n]+'|[^\s,;"']+)"""
)
_HIGH_ENTROPY = re.compile(r"(?<![A-Za-z0-9_+/=-])[A-Za-z0-9_+/=-]{32,}(?![A-Za-z0-9_+/=-])")
_IPV4 = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.]\d)"
)
_IPV6 = re.compile(
    r"(?i)(?<![0-9a-f:])(?:"
    r"(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}"
    r"|(?:[0-9a-f]{1,4}:){1,7}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6})?"
    r"|::(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{1,4}"
    r")(?![0-9a-f:])"
)
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])")
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\s?\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,5}(?:[\s.-]\d{2,8}){1,4}(?![\w])"
    r"|(?<![\w+])\+\d{7,15}(?!\w)"
)
_DATE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")


@dataclass
class ScrubReport:
    """How many of each kind were replaced (counts only: never the text)."""

    counts: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def luhn_ok(digits: str) -> bool:
    """Whether a string of digits passes the Luhn checksum (card numbers do)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _entropy(s: str) -> float:
    counts = Counter(s)
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _looks_random(token: str) -> bool:
    # Long identifiers in code (snake_case words, paths) are not secrets: ask for digits and letters
    # mixed with a high per-character entropy.
    has_digit = any(c.isdigit() for c in token)
    has_alpha = any(c.isalpha() for c in token)
    return has_digit and has_alpha and _entropy(token) > 3.5 and "__" not in token


def scrub(text: str, report: ScrubReport | None = None) -> str:
    """``text`` with PII and secrets replaced by placeholders (see the module docstring)."""
    counts = report.counts if report is not None else Counter()

    def sub(pattern: re.Pattern[str], repl: object, kind: str, s: str) -> str:
        def replace(m: re.Match[str]) -> str:
            out = repl(m) if callable(repl) else str(repl)
            if out != m.group(0):
                counts[kind] += 1
            return out

        return pattern.sub(replace, s)

    text = sub(_PEM, SECRET, "secret", text)
    text = sub(_URL_USERINFO, lambda m: m.group(1) + SECRET + "@", "secret", text)
    text = sub(_URL_PARAM, lambda m: m.group(1) + SECRET, "secret", text)
    text = sub(_EMAIL, EMAIL, "email", text)
    text = sub(_EMAIL_OBFUSCATED, EMAIL, "email", text)
    text = sub(_KNOWN_KEYS, SECRET, "secret", text)
    text = sub(_BEARER, lambda m: m.group(1) + " " + SECRET, "secret", text)
    text = sub(_ASSIGNMENT, lambda m: m.group(1) + SECRET, "secret", text)
    text = sub(_HIGH_ENTROPY, lambda m: SECRET if _looks_random(m.group(0)) else m.group(0), "secret", text)
    text = sub(_IPV4, IP, "ip", text)
    text = sub(
        _IPV6, lambda m: IP if m.group(0).count(":") >= 2 and m.group(0) != "::" else m.group(0), "ip", text
    )

    def card(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        return CARD if 13 <= len(digits) <= 19 and luhn_ok(digits) else m.group(0)

    text = sub(_CARD, card, "card", text)

    def phone(m: re.Match[str]) -> str:
        s = m.group(0)
        digits = re.sub(r"\D", "", s)
        if not 7 <= len(digits) <= 15 or _DATE.match(s.strip()):
            return s
        groups = re.findall(r"\d+", s)
        long_group = max(len(g) for g in groups) >= 3
        # Space-separated groups are phone-like only at full national length (555 123 4567), so
        # lists of numbers (100 200 300) stay.
        laid_out = (
            s.startswith("+")
            or "(" in s
            or (long_group and ("-" in s or "." in s))
            or (long_group and len(digits) >= 10)
        )
        # Decimal numbers (3.14159) and thousands (1,000,000) are not phones.
        if not laid_out or re.fullmatch(r"\d+\.\d+", s):
            return s
        return PHONE

    return sub(_PHONE, phone, "phone", text)


def scrub_texts(texts: Iterable[str]) -> tuple[list[str], ScrubReport]:
    """Scrub many prompts; the report counts replacements by kind."""
    report = ScrubReport()
    return [scrub(t, report) for t in texts], report
