"""Names people read: countries and languages by name rather than by code."""

from __future__ import annotations

import functools


@functools.cache
def _country_names() -> dict[str, str]:
    from tokencensus.analyses.geography import country_continents

    table = country_continents()
    return dict(zip(table["country"], table["name"], strict=True))


def country_name(code: str) -> str:
    """ "United States (US)"; the code alone when the package table does not know it."""
    name = _country_names().get(code)
    return f"{name} ({code})" if name else code


LANGUAGES = {
    "ar": "Arabic", "bn": "Bengali", "cs": "Czech", "da": "Danish", "de": "German", "el": "Greek",
    "en": "English", "es": "Spanish", "fa": "Persian", "fi": "Finnish", "fr": "French", "he": "Hebrew",
    "hi": "Hindi", "hu": "Hungarian", "id": "Indonesian", "it": "Italian", "ja": "Japanese",
    "ko": "Korean", "ms": "Malay", "nl": "Dutch", "no": "Norwegian", "pl": "Polish", "pt": "Portuguese",
    "ro": "Romanian", "ru": "Russian", "sv": "Swedish", "th": "Thai", "tr": "Turkish", "uk": "Ukrainian",
    "vi": "Vietnamese", "zh": "Chinese",
}  # fmt: skip
"""Names of common ISO 639-1 codes for headlines; other codes are shown as they are."""


def language_name(code: str) -> str:
    """ "English (en)"; the code alone for codes not in :data:`LANGUAGES`."""
    name = LANGUAGES.get(code)
    return f"{name} ({code})" if name else code
