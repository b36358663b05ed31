"""The catalogue of numbered checks: one meaning per code, both languages, defined only in checks.py,
and docs/checks.md generated from the code (issue 12)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from cets import catalogue

SRC = Path(catalogue.__file__).resolve().parent
DOCS = SRC.parents[1] / "docs" / "checks.md"
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_code_means_one_thing():
    items = catalogue.entries()
    assert len(items) > 100
    assert catalogue.duplicates(items) == []


def test_codes_are_numbered_and_bilingual():
    for e in catalogue.entries():
        assert re.fullmatch(r"[A-Z]\d{4}", e.check.code), e.check.code
        assert CJK.search(e.check.zh), f"{e.check.code}: Chinese text missing"
        assert e.check.en.strip() and not CJK.search(e.check.en), f"{e.check.code}: English text missing or not English"


def test_checks_are_defined_only_in_checks_modules():
    outside = []
    for path in SRC.rglob("*.py"):
        if path.name in ("checks.py", "errors.py") or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Check":
                outside.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert outside == []


def test_most_codes_are_used_somewhere():
    unused = [e.check.code for e in catalogue.entries() if not e.raised_in]
    assert len(unused) <= 5, unused


def test_docs_checks_md_is_generated_from_the_code():
    expected = catalogue.render(catalogue.entries())
    assert DOCS.read_text(encoding="utf-8") == expected, "run: cets checks --write docs/checks.md"
