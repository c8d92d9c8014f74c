"""PII scrubbing: run on every prompt before it is stored by classify or sent to any endpoint.

Matching runs on a normalised view of the text: zero-width characters (U+200B, U+200C, U+200D,
U+2060, U+FEFF, soft hyphen) are dropped and every character is NFKC-normalised (full-width
``ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ`` reads as ``john@example.com``). Only the matched spans are
replaced: the rest of the output is the original text, character for character.

What is replaced, and by what placeholder (docs/privacy.md has the full table, with what is *not*
caught):

==============  ==========  ===================================================================
kind            placeholder  how it is found
==============  ==========  ===================================================================
private keys    [SECRET]    PEM blocks (``-----BEGIN ... PRIVATE KEY-----`` to ``END``)
URL secrets     [SECRET]    ``user:password@`` in a URL (the password may contain ``@``), and the
                            value of query parameters named like token, key, secret, signature,
                            password, auth, session, code
emails          [EMAIL]     RFC-ish addresses, Unicode (IDN) local parts and domains, also
                            obfuscated ``name [at] host [dot] com``
secrets         [SECRET]    known key shapes (OpenAI/Anthropic ``sk-``, AWS ``AKIA``, GitHub
                            ``ghp_``/``github_pat_``, Slack ``xox?-``, Google ``AIza``, Stripe
                            ``sk_live_``, JWTs, ``Bearer`` tokens), ``password=...``-style
                            assignments, credentials in prose (``my password is ...``, ``PIN is
                            1234``, ``mot de passe``, ``Passwort``, ``contraseña``, ...) and long
                            high-entropy strings (letters and digits mixed)
IBANs           [IBAN]      country code + check digits + BBAN, spaced or not, with the
                            country's length and a valid mod-97 checksum
IPs             [IP]        IPv4 with valid octets (not after "version"/"v"), IPv6 (full and
                            compressed, at least two groups)
card numbers    [CARD]      13–19 digits (spaces/dashes allowed), issuer prefix 2–6, Luhn-valid
phone numbers   [PHONE]     international (``+`` or ``00`` then 8–15 digits) or a national layout:
                            trunk ``0`` + 9–13 digits (``020 7946 0958``, ``06 12 34 56 78``,
                            ``03-1234-5678``), NANP ``555 123 4567``, India ``98765 43210``;
                            dates, year ranges, decimals, lists and versions are left alone
==============  ==========  ===================================================================

Over-scrubbing is the safe side. Scrubbing is idempotent: placeholders are never matched again.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

EMAIL, PHONE, CARD, IP, SECRET, IBAN = "[EMAIL]", "[PHONE]", "[CARD]", "[IP]", "[SECRET]", "[IBAN]"
_PLACEHOLDER = re.compile(r"\[(?:EMAIL|PHONE|CARD|IP|SECRET|IBAN)\]")

# Invisible characters that split a key or an address without showing: dropped before matching.
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e")
_ZERO_WIDTH_TABLE = dict.fromkeys(map(ord, _ZERO_WIDTH))

_PEM = re.compile(
    r"-----BEGIN [A-Z0-9 ]*(?:PRIVATE KEY|SECRET|CERTIFICATE)[A-Z ]*-----.*?(?:-----END [A-Z0-9 ]*-----|\Z)",
    re.S,
)
# The user may hold an @ (an e-mail as user name) and so may the password: everything up to the last
# @ before the path belongs to the credentials.
_URL_USERINFO = re.compile(r"(?i)\b((?:[a-z][a-z0-9+.-]*)://)[^\s/:@]+(?:@[^\s/:@]+)*:[^\s/]*@")
_SECRET_PARAM_NAMES = (
    r"[a-z0-9_.-]*(?:token|key|secret|signature|sig|password|passwd|pwd|auth|session|sid|code|"
    r"credential|apikey|api_key|access_key|client_secret)[a-z0-9_.-]*"
)
_URL_PARAM = re.compile(rf"(?i)([?&;#]{_SECRET_PARAM_NAMES}=)[^&\s#\"'<>]+")
# Letters with their combining marks (accents, Indic and Thai vowel signs): \w alone stops at a mark.
_MARKS = r"\u0300-\u036f\u0900-\u0e7f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_LOCAL = rf"[\w!#$%&'*+/=?^`{{|}}~{_MARKS}-]"
_LABEL = rf"[^\W_](?:[\w{_MARKS}-]*[\w{_MARKS}])?"
_TLD = rf"(?:[^\W\d_][\w{_MARKS}]*[^\W\d_{_MARKS}]|[^\W\d_][\w{_MARKS}]*[{_MARKS}]|xn--[a-z0-9-]+)"
_EMAIL = re.compile(
    rf"(?<![\w.+-]){_LOCAL}+(?:\.{_LOCAL}+)*"
    # "bob @ example.com" (spaces on both sides) is an address; "use @pytest.fixture" is not.
    rf"(?:@|[ \t]+@[ \t]+)(?:{_LABEL}\.)+{_TLD}(?![\w-])"
)
_EMAIL_OBFUSCATED = re.compile(
    r"(?i)\b[a-z0-9._%+-]+\s*[\[\(\{<]\s*at\s*[\]\)\}>]\s*[a-z0-9-]+"
    r"(?:\s*(?:[\[\(\{<]\s*dot\s*[\]\)\}>]|\.)\s*[a-z0-9-]+)+"
)
_AT_HINT = re.compile(r"(?i)[\[\(\{<]\s*at\s*[\]\)\}>]")
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
_BEARER = re.compile(r"(?i)(\b(?:bearer|basic|token)\s+)[A-Za-z0-9._~+/=-]{12,}")
# "auth" but not "author"/"authentic...": "Author: Scott" is a byline, not a credential.
_ASSIGNMENT = re.compile(
    r"""(?ix)\b((?:[a-z0-9_-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key
    |client[_-]?secret|auth(?!or(?:s|ed|ity|ities|ship)?\b|ent))[a-z0-9_-]*)["']?\s*(?:=|:|=>)\s*)(?!\[SECRET\])("[^"\n]+"|'[^'\n]+'|[^\s,;"']+)"""
)
# Credentials in prose, in a few languages: "my password is hunter2", "Passwort: Geheim123",
# "mot de passe est soleil42", "the wifi password for the guest network is x".
_PROSE_KEYWORDS = (
    r"pass\s?words?|passwd|pwd|pass\s?codes?|pass\s?phrase|passwort|kennwort|mot\s+de\s+passe|mdp"
    r"|contrase[ñn]a|senha|wachtwoord|l[öo]senord|adgangskode|salasana|has[łl]o|heslo"
    r"|[şs]ifre|пароль"
)
_PROSE_SECRET = re.compile(
    rf"(?i)\b((?:{_PROSE_KEYWORDS})(?:\s+(?:for|to|of|on|f[üu]r|pour|de|du|para|del)(?:\s+[^\s:=]+){{1,3}}?)?"
    r"(?:\s*[:=]\s*|\s+(?:is\s+now|is\s+set\s+to|is|was|will\s+be|est|ist|lautet|war|es|era|é|è|är|er|jest|je)"
    r"(?!\w)\s*:?\s*|\s+(?=\w\S*\d)))"
    r"""(?!\[)("[^"\n]{1,100}"|'[^'\n]{1,100}'|«[^»\n]{1,100}»|[^\s"'<>]{1,100})"""
)
_PIN = re.compile(
    r"(?i)\b((?:pin(?:[\s-]*(?:code|number|nummer|no\.?|#))?|code\s+pin|geheimzahl|c[óo]digo\s+pin)"
    r"(?:\s*[:=]\s*|\s+(?:is|was|est|ist|lautet|es|é)(?!\w)\s*:?\s*|\s+))(\d{4,8})(?![\w.,]?\d)"
)
# Cheap substring tests that let a prompt skip a pattern that cannot match it.
_ASSIGNMENT_HINTS = ("pass", "pwd", "secret", "token", "key", "auth")
_PROSE_HINTS = (
    "pass", "pwd", "mdp", "kennwort", "contrase", "senha", "wachtwoord", "senord", "adgangskode",
    "salasana", "hasło", "haslo", "heslo", "ifre", "пароль",
)  # fmt: skip
_NOT_A_SECRET = frozenset(
    """a an the this that it its my your our their his her be is was not no none null nil empty
    blank missing required needed correct incorrect wrong invalid valid strong weak too very so
    also still now just only always never set unset same different case sensitive secure insecure
    new old changed expired reset stored hashed encrypted protected saved shown hidden visible
    being been what which where how when there here and or but if for to of in on at by with
    from as than then mandatory optional ok okay fine good bad short long""".split()
)
_HIGH_ENTROPY = re.compile(r"(?<![A-Za-z0-9_+/=-])[A-Za-z0-9_+/=-]{32,}(?![A-Za-z0-9_+/=-])")
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){11,31}")
_IPV4 = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.]\d)"
)
_VERSION_BEFORE = re.compile(
    r"(?i)(?:\b(?:version|ver|release|rel|rev|build|firmware|fw|patch|update|upgrade)\.?:?\s*v?|\bv)$"
)
_IPV6 = re.compile(
    r"(?i)(?<![\w:])(?:"
    r"(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}"
    r"|(?:[0-9a-f]{1,4}:){1,7}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6})?"
    r"|::(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{1,4}"
    r")(?![\w:])"
)
_CARD = re.compile(r"(?<![\d+-])\d(?:[ -]?\d){12,18}(?![\d])")
# Candidates only: phone() decides. No newlines inside a number; not inside a price, an amount,
# a path, an order number or a longer number.
_PHONE = re.compile(
    r"(?<![\w+$€£¥.,/#-])(?:"
    r"(?:\+|00)\d{1,3}[ \t.-]?(?:\(0\)[ \t.-]?)?(?:\(\d{1,5}\)[ \t.-]?)?\d{1,5}(?:[ \t.-]\d{1,8}){0,6}"
    r"|(?:\(\d{1,5}\)[ \t.-]?)?\d{1,5}(?:[ \t.-]\d{1,8}){1,6}"
    r")(?![\w])"
    r"|(?<![\w+])\+\d{7,15}(?!\w)"
)
_DATE_START = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}(?!\d)|\d{1,2}[-./]\d{1,2}[-./](?:\d{4}|\d{2})(?!\d)")
_DIGITS = re.compile(r"\d+")


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


def iban_ok(iban: str) -> bool:
    """Whether ``iban`` (letters and digits only) has its country's length and a valid mod-97 check."""
    iban = iban.upper()
    if _IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban.isascii() or not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


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


def _normalise(text: str) -> tuple[str, list[int] | None, list[int] | None]:
    """The text to match on, and (when it differs from ``text``) where each of its characters came
    from and where each source character's segment ends (dropped zero-width characters ride along
    with the character before them)."""
    if text.isascii():
        return text, None, None
    if len(text.translate(_ZERO_WIDTH_TABLE)) == len(text) and unicodedata.is_normalized("NFKC", text):
        return text, None, None
    out: list[str] = []
    origin: list[int] = []
    seg_end = list(range(1, len(text) + 1))
    last = -1
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _ZERO_WIDTH:
            if last >= 0:
                seg_end[last] = i + 1
            i += 1
            continue
        j = i + 1  # a base character and the combining marks after it normalise together
        while j < n and unicodedata.combining(text[j]) and text[j] not in _ZERO_WIDTH:
            j += 1
        norm = text[i:j] if text[i:j].isascii() else unicodedata.normalize("NFKC", text[i:j])
        out.append(norm)
        origin.extend([i] * len(norm))
        seg_end[i] = j
        last = i
        i = j
    return "".join(out), origin, seg_end


class _Scrubbing:
    """One text being scrubbed: the normalised view, and its map back to the original."""

    def __init__(self, text: str, counts: Counter[str]) -> None:
        self.original = text
        self.text, self.origin, self.seg_end = _normalise(text)
        self.counts = counts

    def sub(self, pattern: re.Pattern[str], repl: str | Callable[[re.Match[str]], str], kind: str) -> None:
        counts = self.counts

        def replace(m: re.Match[str]) -> str:
            out = repl(m) if callable(repl) else repl
            if out != m.group(0):
                counts[kind] += 1
            return out

        if self.origin is None:
            self.text = pattern.sub(replace, self.text)
            return
        pieces: list[str] = []
        origins: list[int] = []
        last = 0
        for m in pattern.finditer(self.text):
            out = replace(m)
            whole = m.group(0)
            if out == whole:
                continue
            start, end = m.span()
            pieces.append(self.text[last:start])
            origins += self.origin[last:start]
            # Keep the unchanged head and tail of the match (a parameter name, a trailing remainder)
            # mapped to the original; the placeholder itself maps to nothing.
            first = _PLACEHOLDER.search(out)
            head = out[: first.start()] if first else ""
            tail = out[[p.end() for p in _PLACEHOLDER.finditer(out)][-1] :] if first else ""
            if not (whole.startswith(head) and whole.endswith(tail) and len(head) + len(tail) <= len(whole)):
                head = tail = ""
            pieces.append(out)
            origins += self.origin[start : start + len(head)]
            origins += [-1] * (len(out) - len(head) - len(tail))
            origins += self.origin[end - len(tail) : end]
            last = end
        if last:
            pieces.append(self.text[last:])
            origins += self.origin[last:]
            self.text, self.origin = "".join(pieces), origins

    def result(self) -> str:
        if self.origin is None:
            return self.text
        if all(o >= 0 for o in self.origin):
            return self.original  # nothing replaced: the original, untouched
        assert self.seg_end is not None
        original, seg_end = self.original, self.seg_end
        first = next((i for i, ch in enumerate(original) if ch not in _ZERO_WIDTH), len(original))
        out = [original[:first]]
        previous = -1
        for ch, o in zip(self.text, self.origin, strict=True):
            if o < 0:
                out.append(ch)
                previous = -1
            elif o != previous:
                out.append(original[o : seg_end[o]])
                previous = o
        return "".join(out)


def _bearer(m: re.Match[str]) -> str:
    # A token is random: a digit, or both cases ("basic implementation" is prose).
    token = m.group(0)[len(m.group(1)) :]
    mixed = any(c.isdigit() for c in token) or (token.lower() != token and token.upper() != token)
    words = re.fullmatch(r"[A-Za-z][a-z]+(?:-[A-Za-z][a-z]+)*[.?!]?", token)  # Basic Authentication
    return m.group(1) + SECRET if mixed and not words else m.group(0)


def _iban(m: re.Match[str]) -> str:
    s = m.group(0)
    length = _IBAN_LENGTHS.get(s[:2].upper())
    if length is None:
        return s
    seen = 0
    for i, ch in enumerate(s):
        if ch.isalnum():
            seen += 1
            if seen == length:
                end = i + 1
                break
    else:
        return s
    rest = s[end:] if end < len(s) else m.string[m.end() : m.end() + 1]
    if rest[:1].isalnum():  # the account number goes on: not this IBAN
        return s
    compact = "".join(ch for ch in s[:end] if ch.isalnum())
    return IBAN + s[end:] if iban_ok(compact) else s


def _ipv4(m: re.Match[str]) -> str:
    before = m.string[max(0, m.start() - 24) : m.start()]
    return m.group(0) if _VERSION_BEFORE.search(before) else IP


def _ipv6(m: re.Match[str]) -> str:
    s = m.group(0)
    groups = [g for g in s.split(":") if g]
    real = len(s.split(":")) == 8 or (len(groups) >= 2 and (len(groups) >= 3 or any(c.isdigit() for c in s)))
    return IP if real else s


def _card(m: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", m.group(0))
    ok = 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_ok(digits)
    return CARD if ok else m.group(0)


def _phone_ok(s: str, groups: list[str]) -> bool:
    digits = "".join(groups)
    n = len(digits)
    if s.startswith("+"):
        return 8 <= n <= 15
    if s.startswith("00"):
        return digits[2:3] not in ("", "0") and 10 <= n <= 15 and len(groups) >= 2
    if not 7 <= n <= 13 or len(groups) < 2 or (len(groups) <= 4 and _DATE_START.match(s)):
        return False
    lengths = [len(g) for g in groups]
    seps = set(re.sub(r"[\d()]", "", s).replace("\t", " "))
    if "(" in s:
        return n >= 9 and "." not in seps
    if len(seps) > 1 and "." in seps:  # 173.03 10, 1572.96 3: decimals in a table
        return False
    if min(lengths[1:]) < 2:  # ISBNs and lists (978-3-16-148410-0)
        return False
    first = groups[0]
    if first[0] == "0":  # national trunk prefix: 020 7946 0958, 06 12 34 56 78, 03-1234-5678
        return n >= 9 and len(first) >= 2 and first != "00"
    if lengths == [3, 3, 4] or lengths == [3, 7]:  # NANP: 555 123 4567, 555-1234567
        return first[0] in "23456789"
    if lengths == [1, 3, 3, 4]:  # 1-800-555-1234
        return first == "1" and groups[1][0] in "23456789"
    if lengths == [5, 5]:  # India: 98765 43210
        return first[0] in "6789"
    if lengths == [3, 4, 4]:  # China: 138 0013 8000
        return first[0] == "1"
    if lengths == [3, 4] and seps <= {"-", "."}:  # US local 555-1234, but not ranges 800-1000
        a, b = int(groups[0]), int(groups[1])
        return first[0] in "23456789" and not (b > a and b % 100 == 0)
    return False


def _phone(m: re.Match[str]) -> str:
    s = m.group(0)
    spans = [(g.group(0), g.end()) for g in _DIGITS.finditer(s)]
    # Longest acceptable head first: "020 7946 0958 2024" is a phone and then a year.
    for k in range(len(spans), 0, -1):
        head = s[: spans[k - 1][1]]
        if _phone_ok(head, [g for g, _ in spans[:k]]):
            return PHONE + s[len(head) :]
    return s


def _prose_secret(m: re.Match[str]) -> str:
    value = m.group(2)
    if value[0] in "\"'«":
        return m.group(1) + SECRET
    stripped = value.rstrip(".,;:!?)]}")
    word = stripped.lower()
    if not stripped or word in _NOT_A_SECRET or _PLACEHOLDER.fullmatch(stripped):
        return m.group(0)
    if stripped.isalpha() and (len(stripped) < 4 or re.search(r"(?:ed|ing|ly|able|ible|ful|less)$", word)):
        return m.group(0)
    return m.group(1) + SECRET + value[len(stripped) :]


def scrub(text: str, report: ScrubReport | None = None) -> str:
    """``text`` with PII and secrets replaced by placeholders (see the module docstring)."""
    s = _Scrubbing(text, report.counts if report is not None else Counter())
    t = s.text
    lower = t.lower()
    if "-----begin" in lower:
        s.sub(_PEM, SECRET, "secret")
    if "://" in t:
        s.sub(_URL_USERINFO, lambda m: m.group(1) + SECRET + "@", "secret")
        s.sub(_URL_PARAM, lambda m: m.group(1) + SECRET, "secret")
    if "@" in t:
        s.sub(_EMAIL, EMAIL, "email")
    if _AT_HINT.search(t):
        s.sub(_EMAIL_OBFUSCATED, EMAIL, "email")
    s.sub(_KNOWN_KEYS, SECRET, "secret")
    if "bearer" in lower or "basic" in lower or "token" in lower:
        s.sub(_BEARER, _bearer, "secret")
    if any(k in lower for k in _ASSIGNMENT_HINTS) and ("=" in t or ":" in t):
        s.sub(_ASSIGNMENT, lambda m: m.group(1) + SECRET, "secret")
    if any(k in lower for k in _PROSE_HINTS):
        s.sub(_PROSE_SECRET, _prose_secret, "secret")
    if "pin" in lower or "geheimzahl" in lower:
        s.sub(_PIN, lambda m: m.group(1) + SECRET, "secret")
    s.sub(_HIGH_ENTROPY, lambda m: SECRET if _looks_random(m.group(0)) else m.group(0), "secret")
    s.sub(_IBAN, _iban, "iban")
    if "." in t:
        s.sub(_IPV4, _ipv4, "ip")
    if "::" in t or t.count(":") >= 7:
        s.sub(_IPV6, _ipv6, "ip")
    s.sub(_CARD, _card, "card")
    s.sub(_PHONE, _phone, "phone")
    return s.result()


def scrub_texts(texts: Iterable[str]) -> tuple[list[str], ScrubReport]:
    """Scrub many prompts; the report counts replacements by kind."""
    report = ScrubReport()
    return [scrub(t, report) for t in texts], report
