"""The supervision app's own catalogue (src/cets/supervision/locale) translates every msgid of its templates and code."""

from __future__ import annotations

import ast
from pathlib import Path

import polib
from django.test import Client
from django.utils.translation.template import templatize

from tests.web.test_i18n_and_format import CALL, PY_FUNCS

SUP = Path(__file__).resolve().parents[2] / "src" / "cets" / "supervision"
PO = SUP / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _msgids() -> set[str]:
    ids: set[str] = set()
    for p in SUP.rglob("*.html"):
        ids |= {ast.literal_eval(m.group(1)) for m in CALL.finditer(templatize(p.read_text(encoding="utf-8"), origin=str(p)))}
    for p in SUP.rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in PY_FUNCS
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                ids.add(node.args[0].value)
    return ids


def test_every_supervision_msgid_is_translated():
    translated = {e.msgid for e in polib.pofile(str(PO)).translated_entries()}
    assert sorted(_msgids() - translated) == []


def test_portal_in_both_languages(db):
    c = Client()
    assert "信息公开" in c.get("/public/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Public information" in c.get("/public/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
