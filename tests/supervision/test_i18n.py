"""The supervision app's own catalogue (src/cets/supervision/locale) translates every msgid of its templates and code."""

from __future__ import annotations

from pathlib import Path

import polib
from django.test import Client

from tests.web.test_i18n_and_format import _msgids

SUP = Path(__file__).resolve().parents[2] / "src" / "cets" / "supervision"
PO = SUP / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_every_supervision_msgid_is_translated():
    translated = {e.msgid for e in polib.pofile(str(PO)).translated_entries()}
    assert sorted(_msgids(SUP) - translated) == []


def test_portal_in_both_languages(db):
    c = Client()
    assert "信息公开" in c.get("/public/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Public information" in c.get("/public/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
