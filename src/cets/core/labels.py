"""Bilingual labels: the half of a ``"中文 english"`` label for the page's language.

Model choices carry both languages in one label (``"已执行 executed"``, the field's Chinese term first) so that the
database, the admin and the exports keep the official term; a page shows only the half of its own language
(issue 15, one language per page).
"""

from __future__ import annotations

import re

from django.utils.translation import get_language

from .errors import CetsError, Check


def is_chinese(lang: str | None = None) -> bool:
    """Whether ``lang`` (default: the active language) is Chinese."""
    return (lang or get_language() or "zh-hans").lower().startswith("zh")


def split_label(label: object) -> tuple[str, str]:
    """``"中文 english"`` → ``("中文", "english")``; a label without an ASCII half → ``(label, label)``, one without a
    Chinese half → ``(label, label)``."""
    text = str(label)
    head, sep, tail = text.partition(" ")
    if not sep or head.isascii() or not tail or not tail.isascii():
        return text, text
    return head, tail


def choice_label(label: object, lang: str | None = None) -> str:
    """The half of a bilingual choice label in ``lang`` (default: the active language)."""
    zh, en = split_label(label)
    return zh if is_chinese(lang) else en


_HAN = "\u3400-\u9fff\uff08\uff09\u3001"
_MEMO_PAIR = re.compile(rf"([{_HAN}]+) ([a-z][a-z\-]*(?: [a-z][a-z\-]*)*)(?=$|[ ,.;:)\u2192])")


def memo_in_lang(text: object, lang: str | None = None) -> str:
    """A ledger memo or reference written by a service as ``"<zh term> <english term>"`` pairs among codes and numbers
    (``"2023 清缴 surrender 9137…"``, ``"委托冻结 order #12"``) → each pair's half in ``lang`` (default: the active
    language); the rest (codes, numbers, names, free text) unchanged. A Chinese term holds no digit, so no number of a
    memo is lost with the half not shown (hypothesis: ``tests/core/test_labels.py``)."""
    zh = is_chinese(lang)
    text = str(text)

    def half(m: re.Match) -> str:
        if zh:
            return m.group(1)
        glued = m.start() > 0 and text[m.start() - 1].isalnum()  # "2024年度配额总量 cap" → "2024 cap"
        return (" " if glued else "") + m.group(2)

    return _MEMO_PAIR.sub(half, text)


def say(request, e: CetsError | Check) -> str:
    """``"<code> <message>"`` of a numbered refusal in the page's language (``request.LANGUAGE_CODE``, else the active
    language): what every page shows when a service refuses (the code is the same in both languages)."""
    lang = getattr(request, "LANGUAGE_CODE", None) or get_language()
    if isinstance(e, Check):
        return f"{e.code} {e.zh if is_chinese(lang) else e.en}"
    return e.said(lang)
