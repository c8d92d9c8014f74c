"""Short, safe descriptions of why a request failed, for the ``error_type`` column.

Logs describe failures in free text (an exception message, a status message) that may quote the
request, so that text never enters the events table. :func:`error_code` pulls out of it only tokens
that have a fixed shape: an HTTP status after "Error code:"/"status", an exception class name
(``RateLimitError``), and a provider error code or type in a JSON-ish ``"code": "..."`` /
``"type": "..."`` field (``model_not_found``, ``invalid_request_error``). Anything else is dropped.
"""

from __future__ import annotations

import re

MAX_ERROR_TYPE_CHARS = 120
"""``error_type`` is a label, not a message: longer values are cut."""

_STATUS = re.compile(r"(?:error[ _]code|status(?:[ _]code)?|http)\s*[:=]?\s*([1-5]\d\d)\b", re.IGNORECASE)
_CLASS = re.compile(r"\b(?:[A-Za-z_]\w*\.)*([A-Z][A-Za-z0-9]*(?:Error|Exception|Timeout))\b")
_CODE = re.compile(r"""['"]code['"]\s*:\s*['"]([a-z][a-z0-9_]{1,63})['"]""")
_TYPE = re.compile(r"""['"]type['"]\s*:\s*['"]([a-z][a-z0-9_]{1,63})['"]""")
_WORD = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")


def error_code(text: object) -> str | None:
    """A short label for a failure described by ``text`` (``"http 404: model_not_found"``), or None.

    Only the HTTP status, an exception class name and a ``"code"``/``"type"`` value are kept;
    the rest of the text (which may quote the prompt) is not.
    """
    if not isinstance(text, str) or not text:
        return None
    status = _STATUS.search(text)
    # The most specific first: a provider code (model_not_found), an error type other than the bare
    # "error" of an Anthropic envelope (rate_limit_error), an exception class (RateLimitError).
    codes = _CODE.findall(text) + [t for t in _TYPE.findall(text) if t != "error"]
    klass = _CLASS.search(text)
    detail = codes[0] if codes else klass.group(1) if klass else None
    return join_error(f"http {status.group(1)}" if status else None, detail)


def join_error(*parts: object) -> str | None:
    """The non-empty parts that look like identifiers (no spaces, no quotes), joined by ``": "``."""
    kept: list[str] = []
    for part in parts:
        if not isinstance(part, str | int) or isinstance(part, bool):
            continue
        text = str(part).strip()
        if not text:
            continue
        if text.startswith("http ") and text[5:].isdigit():
            kept.append(text)
        elif _WORD.match(text) and text not in kept:
            kept.append(text)
    return ": ".join(kept)[:MAX_ERROR_TYPE_CHARS] if kept else None


def http_status(value: object) -> str | None:
    """``"http 429"`` for a status code given as a number or digits, else None."""
    if isinstance(value, bool):
        return None
    text = str(value).strip() if isinstance(value, int | str) else ""
    return f"http {text}" if len(text) == 3 and text.isdigit() and text[0] in "12345" else None
