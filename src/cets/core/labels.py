"""Bilingual labels: the half of a ``"中文 english"`` label for the page's language.

Model choices carry both languages in one label (``"已执行 executed"``, the field's Chinese term first) so that the
database, the admin and the exports keep the official term; a page shows only the half of its own language
(issue 15, one language per page).
"""

from __future__ import annotations

from django.utils.translation import get_language


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
