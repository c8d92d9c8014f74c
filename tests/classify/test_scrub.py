"""PII scrubbing: adversarial examples per kind, things that must survive, and properties."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokencensus.classify.scrub import iban_ok, luhn_ok, scrub, scrub_texts

LEAKS = [
    # emails
    ("write to John.Doe+tag@Mail.Example.co.uk today", "John.Doe+tag@Mail.Example.co.uk"),
    ("<jane_o'neil@sub-domain.example.org>", "jane_o'neil@sub-domain.example.org"),
    ("contact: bob @ example.com", "bob @ example.com"),
    ("reach me at alice [at] example [dot] com", "alice [at] example [dot] com"),
    ("mail: carol(at)corp(dot)io", "carol(at)corp(dot)io"),
    ("email=dave@xn--bcher-kva.example", "dave@xn--bcher-kva.example"),
    # phones
    ("call +1 (555) 123-4567 now", "123-4567"),
    ("tel 555.123.4567", "555.123.4567"),
    ("UK office: +44 20 7946 0958", "7946 0958"),
    ("Berlin +49-30-1234567", "1234567"),
    ("my cell is 555 123 4567", "555 123 4567"),
    ("ring +33612345678", "33612345678"),
    # cards (Luhn-valid)
    ("card 4111 1111 1111 1111 exp 12/29", "4111 1111 1111 1111"),
    ("pay with 5500-0000-0000-0004", "5500-0000-0000-0004"),
    ("amex 378282246310005.", "378282246310005"),
    # IPs
    ("ssh root@10.0.0.254 -p 22", "10.0.0.254"),
    ("server at 192.168.1.20:8080", "192.168.1.20"),
    ("v6 2001:0db8:85a3:0000:0000:8a2e:0370:7334 here", "2001:0db8:85a3:0000:0000:8a2e:0370:7334"),
    ("compressed fe80::1ff:fe23:4567:890a%eth0", "fe80::1ff:fe23:4567:890a"),
    # secrets
    ("OPENAI_API_KEY=sk-proj-Abc123def456GHI789jkl012", "sk-proj-Abc123def456GHI789jkl012"),
    ("key sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv", "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv"),
    ("aws AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    (
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
    ("slack xoxb-123456789012-abcdefghijkl", "xoxb-123456789012-abcdefghijkl"),
    ("google AIzaSyA-1234567890abcdefghijklmnopqrstu", "AIzaSyA-1234567890abcdefghijklmnopqrstu"),
    ("stripe sk_live_51HxYzAbCdEfGhIjKl", "sk_live_51HxYzAbCdEfGhIjKl"),
    ("Authorization: Bearer eyJhbGciOi.eyJzdWIiOiIx.SflKxwRJSMeKKF2QT4", "eyJzdWIiOiIx"),
    ('{"password": "hunter2!"}', "hunter2!"),
    ("db_password: correct-horse-battery", "correct-horse-battery"),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc\n-----END RSA PRIVATE KEY-----",
        "MIIEowIBAAKCAQEA",
    ),
    ("random 9fA3kL0pQ7zX2mN8bV5cR1tY6uI4oP3sD9fG end", "9fA3kL0pQ7zX2mN8bV5cR1tY6uI4oP3sD9fG"),
    # URLs carrying credentials
    ("see https://user:s3cr3t@git.example.com/repo.git", "s3cr3t"),
    ("https://api.example.com/v1?access_token=abc123XYZ&page=2", "abc123XYZ"),
    ("https://bucket.s3.amazonaws.com/f?X-Amz-Signature=deadbeef99&X-Amz-Credential=AKIDX", "deadbeef99"),
    ("http://x.io/reset#token=zz99yy88", "zz99yy88"),
]

SURVIVES = [
    "Solve 3x + 5 = 20 and give x to 2 decimals: 3.14159",
    "The meeting is on 2024-01-15 at 10:30.",
    "numbers 100 200 300 and 12 34",
    "Version 1.2.3 of the library",
    "def my_long_function_name_for_processing_items(x): return x",
    "order id 1234567890123456 is not a card (Luhn fails)",
    "https://example.com/docs?page=2&sort=asc",
    "The population grew from 1,000,000 to 1,250,000.",
]


ADVERSARIAL = [
    json.loads(line)
    for line in (Path(__file__).parents[1] / "data" / "scrub_adversarial.jsonl")
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip()
]


@pytest.mark.parametrize("case", ADVERSARIAL, ids=lambda c: f"{c['kind']}:{c['text'][:40]!r}")
def test_adversarial_case(case: dict[str, object]) -> None:
    """tests/data/scrub_adversarial.jsonl: one case a line, what must go and what must stay."""
    out = scrub(str(case["text"]))
    for leaked in case["must_not_contain"]:  # type: ignore[attr-defined]
        assert leaked not in out, f"{leaked!r} leaked: {out!r}"
    for kept in case["must_keep"]:  # type: ignore[attr-defined]
        assert kept in out, f"{kept!r} was lost: {out!r}"
    assert scrub(out) == out


def test_adversarial_file_covers_every_kind() -> None:
    kinds = {c["kind"] for c in ADVERSARIAL}
    assert {"phone", "email", "secret", "url", "iban", "prose", "card", "ip", "lookalike"} <= kinds


def test_output_keeps_the_original_characters_outside_what_is_replaced() -> None:
    zw = "\u200b"
    text = (
        f"ｆｕｌｌ width … ﬁne, e-mail ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ and{zw} "
        + f"AKIA{zw}IOSFODNN7EXAMPLE{zw} x²"
    )
    # An invisible character inside (or just after) a replaced span goes with it; all others stay.
    assert scrub(text) == f"ｆｕｌｌ width … ﬁne, e-mail [EMAIL] and{zw} [SECRET] x²"


def test_iban_checksum() -> None:
    assert iban_ok("GB82WEST12345698765432")
    assert iban_ok("DE89370400440532013000")
    assert not iban_ok("GB83WEST12345698765432")  # check digits off by one
    assert not iban_ok("GB82WEST1234569876543")  # one character short for GB
    assert "GB83 WEST 1234 5698 7654 32" in scrub("GB83 WEST 1234 5698 7654 32")


@pytest.mark.parametrize(("text", "secret"), LEAKS)
def test_secret_is_removed(text: str, secret: str) -> None:
    out = scrub(text)
    assert secret not in out
    assert "[" in out


@pytest.mark.parametrize("text", SURVIVES)
def test_ordinary_text_survives(text: str) -> None:
    assert scrub(text) == text


def test_luhn() -> None:
    assert luhn_ok("4111111111111111")
    assert luhn_ok("378282246310005")
    assert not luhn_ok("4111111111111112")


def test_report_counts_kinds_without_text() -> None:
    texts, report = scrub_texts(["a@b.co and 10.0.0.1", "4111 1111 1111 1111", "nothing"])
    assert report.counts == {"email": 1, "ip": 1, "card": 1}
    assert texts[2] == "nothing"
    assert "a@b.co" not in repr(report)


def _luhn_complete(prefix: str) -> str:
    for d in "0123456789":
        if luhn_ok(prefix + d):
            return prefix + d
    raise AssertionError


@settings(max_examples=200, deadline=None)
@given(
    user=st.text(string.ascii_letters + string.digits + "._+-", min_size=1, max_size=20).filter(
        lambda s: s[0].isalnum() and s[-1].isalnum() and ".." not in s
    ),
    host=st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12),
    tld=st.sampled_from(["com", "org", "io", "co.uk", "de"]),
    card=st.text("0123456789", min_size=15, max_size=15),
    sep=st.sampled_from(["", " ", "-"]),
    before=st.text(string.ascii_letters + " ,.!?", max_size=30),
)
def test_random_emails_and_cards_never_leak(
    user: str, host: str, tld: str, card: str, sep: str, before: str
) -> None:
    number = _luhn_complete("4" + card)
    grouped = sep.join(number[i : i + 4] for i in range(0, 16, 4))
    email = f"{user}@{host}.{tld}"
    out = scrub(f"{before} {email} pay {grouped} thanks")
    assert email not in out
    assert number not in out.replace(" ", "").replace("-", "")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_idempotent(text: str) -> None:
    once = scrub(text)
    assert scrub(once) == once


@settings(max_examples=200, deadline=None)
@given(
    user=st.text(string.ascii_lowercase + string.digits, min_size=2, max_size=12),
    host=st.text(string.ascii_lowercase, min_size=2, max_size=10),
    key=st.text(string.ascii_letters + string.digits, min_size=20, max_size=30),
    cuts=st.lists(st.integers(min_value=1, max_value=40), max_size=4),
    invisible=st.sampled_from(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]),
)
def test_zero_width_characters_do_not_split_a_leak(
    user: str, host: str, key: str, cuts: list[int], invisible: str
) -> None:
    def split(s: str) -> str:
        for cut in sorted({c % len(s) for c in cuts if c % len(s)}, reverse=True):
            s = s[:cut] + invisible + s[cut:]
        return s

    email, token = f"{user}@{host}.com", f"ghp_{key}"
    out = scrub(f"mail {split(email)} key {split(token)} end").replace(invisible, "")
    assert email not in out
    assert key not in out
    assert out.startswith("mail ")
    assert out.endswith(" end")


@settings(max_examples=200, deadline=None)
@given(
    country=st.sampled_from(["44", "49", "33", "81", "91", "34", "39", "61"]),
    groups=st.lists(st.text("0123456789", min_size=2, max_size=4), min_size=3, max_size=3),
    sep=st.sampled_from([" ", "-", "."]),
)
def test_international_phone_numbers_never_leak(country: str, groups: list[str], sep: str) -> None:
    number = sep.join(groups)
    out = scrub(f"call +{country} {number} today")
    assert number not in out
    assert out == "call [PHONE] today"
