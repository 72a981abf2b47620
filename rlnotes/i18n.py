"""The reader's language: English or Chinese, for the exercise checkers' messages and the words
in the book's figures (the Chinese edition of the book: README, "The Chinese edition").

Text that rlnotes shows a reader is written in English where it is made, wrapped in ``_()``,
and translated in gettext catalogs inside the package: ``rlnotes/locales/zh_CN/LC_MESSAGES/``,
``exercises/<module>.po`` for the checkers and ``figures.po`` for the figures (maintained with
``python tools/i18n.py update``). A message may be a template whose ``{fields}`` are filled in
after translation.
"""
from __future__ import annotations

import functools
import os
import pathlib

__all__ = ["LANGUAGE_VARIABLE", "LANGUAGES", "language", "translate", "_"]

LANGUAGE_VARIABLE = "RLNOTES_LANG"
"""The environment variable that chooses the language. Unset or ``en`` gives English, ``zh`` or
``zh_CN`` Chinese (the Chinese edition's notebooks set it in their first cell; ``make lab
LANG=zh`` sets it for the whole session)."""

LANGUAGES = ("en", "zh_CN")
LOCALES = pathlib.Path(__file__).with_name("locales")


def language() -> str:
    """The language now, from :data:`LANGUAGE_VARIABLE`: ``"en"`` or ``"zh_CN"``."""
    value = os.environ.get(LANGUAGE_VARIABLE, "").strip()
    if not value or value.lower().startswith("en") or value in ("C", "POSIX"):
        return "en"
    if value.lower().replace("-", "_").split(".")[0] in ("zh", "zh_cn", "zh_hans"):
        return "zh_CN"
    _unknown_language(value)
    return "en"


@functools.lru_cache(maxsize=None)
def _unknown_language(value):
    print(f"(rlnotes: {LANGUAGE_VARIABLE}={value!r} is not a language of rlnotes; its checkers "
          f"and figures use English. Set it to one of {', '.join(LANGUAGES)}.)")


@functools.lru_cache(maxsize=None)
def catalog(lang: str) -> dict:
    """{English message: translation} of every catalog of ``lang`` (fuzzy ones left out)."""
    folder = LOCALES / lang / "LC_MESSAGES"
    if not folder.is_dir():
        return {}
    from babel.messages.pofile import read_po

    out = {}
    for po in sorted(folder.rglob("*.po")):
        with po.open("rb") as f:
            out.update({m.id: m.string for m in read_po(f) if m.id and m.string and not m.fuzzy})
    return out


def translate(message: str, lang: str | None = None) -> str:
    """``message`` in ``lang`` (default: the reader's, :func:`language`); the English itself
    where no catalog translates it."""
    lang = language() if lang is None else lang
    return message if lang == "en" else catalog(lang).get(message, message)


_ = translate
