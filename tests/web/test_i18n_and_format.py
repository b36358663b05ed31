"""Translations (compiled and complete) and number formatting."""

from __future__ import annotations

import ast
import importlib.util
import re
from decimal import Decimal
from pathlib import Path

import polib
import pytest
from django.utils import translation
from django.utils.translation.template import templatize

from cets.web.templatetags.cets_web import dec, signed_tonnes, tonnes

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "src" / "cets" / "web"
PO = WEB / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
CALL = re.compile(r"\b(?:gettext|pgettext|ngettext|npgettext)\((u?(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"))")
PY_FUNCS = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy"}


def _msgids(root: Path = WEB) -> set[str]:
    """Every msgid of the templates and Python modules below ``root`` (the web app by default)."""
    ids: set[str] = set()
    for p in root.rglob("*.html"):
        ids |= {ast.literal_eval(m.group(1)) for m in CALL.finditer(templatize(p.read_text(encoding="utf-8"), origin=str(p)))}
    for p in root.rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in PY_FUNCS
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                ids.add(node.args[0].value)
    return ids


def _compilemessages():
    spec = importlib.util.spec_from_file_location("compilemessages", ROOT / "scripts" / "compilemessages.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_msgid_has_a_chinese_translation():
    po = polib.pofile(str(PO))
    translated = {e.msgid for e in po.translated_entries()}
    missing = sorted(_msgids() - translated)
    assert missing == [], f"untranslated in {PO.name}: {missing}"


def test_mo_files_are_compiled_and_up_to_date():
    assert _compilemessages().main(["--check"]) == 0


def test_compiler_refuses_mismatched_placeholders(tmp_path):
    mod = _compilemessages()
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8"}
    po.append(polib.POEntry(msgid="%(n)s entities", msgstr="共 %(m)s 家"))
    path = tmp_path / "django.po"
    po.save(str(path))
    data, problems = mod.compiled(path)
    assert data is None
    assert "placeholders differ" in problems[0]


def test_catalogue_is_used():
    with translation.override("zh-hans"):
        assert translation.gettext("Log out") == "退出登录"
        assert translation.gettext("Key emitting entities") == "重点排放单位"
    with translation.override("en"):
        assert translation.gettext("Log out") == "Log out"


def test_tonnes_are_integers_with_separators():
    assert tonnes(1234567) == "1,234,567"
    assert tonnes(0) == "0"
    assert tonnes(-5000) == "-5,000"
    assert tonnes(None) == "—"
    assert tonnes(Decimal("1000")) == "1,000"
    assert signed_tonnes(64000) == "+64,000"
    assert signed_tonnes(-64000) == "−64,000"
    assert signed_tonnes(0) == "0"
    with pytest.raises(TypeError):
        tonnes(1.5)
    with pytest.raises(TypeError):
        tonnes(Decimal("1.5"))


def test_decimals_are_exact():
    assert dec(Decimal("1234567.890")) == "1,234,567.89"
    assert dec(Decimal("0.654300")) == "0.6543"
    assert dec(Decimal("1.000000")) == "1"
    assert dec("0.1038") == "0.1038"
    assert dec(Decimal("-0.5")) == "-0.5"
    assert dec(Decimal("12345678901234.123456")) == "12,345,678,901,234.123456"
    with pytest.raises(TypeError):
        dec(0.1)


CATALOGUES = sorted((ROOT / "src" / "cets").glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))


def test_no_empty_or_fuzzy_translation_in_any_catalogue():
    assert len(CATALOGUES) >= 2
    bad = [f"{po.relative_to(ROOT)}: {e.msgid[:60]!r}" for po in CATALOGUES for e in polib.pofile(str(po))
           if not e.obsolete and ("fuzzy" in e.flags or not (all(v.strip() for v in e.msgstr_plural.values()) if e.msgid_plural else e.msgstr.strip()))]
    assert bad == []


def test_every_msgid_of_every_context_has_a_chinese_translation():
    """Every ``{% translate %}``/``gettext`` text of every context's templates and modules is in some catalogue
    (Django merges them) with a Chinese msgstr."""
    translated = {e.msgid for po in CATALOGUES for e in polib.pofile(str(po)).translated_entries()}
    missing = sorted(_msgids(ROOT / "src" / "cets") - translated)
    assert missing == [], f"untranslated: {missing}"
