"""Every page of the URL conf, as each role, in both languages: no 500, and one language per page.

The GET views without arguments are walked from the URL conf; the pages they link to (an entity, a proposal, a
report...) are followed one level. On each HTML page:
- in Chinese, no text of our catalogues is left in English: every msgid the templates and modules use has a Chinese
  msgstr (the catalogue tests below), and no known English msgid appears as page text;
- in English, no Chinese character is shown outside data values (names of entities, provinces, document titles:
  every Chinese run must be a part of a text held in the database or a rule pack) and the official field names
  the glossary keeps bilingual by design (``{% term %}``, shown under the English name).
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import polib
import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import client_for
from tests.supervision.conftest import sup  # noqa: F401  (the fixture is reused)
from tests.web.conftest import web  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted((ROOT / "src" / "cets").glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+")
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
HREF = re.compile(r'href="([^"#]+)"')
SKIP = ("/admin/", "/api/", "/i18n/", "/static/", "/logout/", "/login/", "/media/")
DOWNLOAD = re.compile(r"(\.csv|\.xlsx|\.pdf|\.json|/download/?)(\?|$)")
TERM_ZH = re.compile(r'<span class="term-zh" lang="zh-Hans">[^<]*</span>')
TAGS = re.compile(r"<(script|style)\b.*?</\1>|<!--.*?-->|<[^>]+>", re.S)
ATTR_TEXT = re.compile(r'\b(?:title|placeholder|aria-label|alt)="([^"]*)"')


def _routes(patterns, prefix: str = "") -> list[str]:
    """The URL conf's paths that take no argument."""
    out: list[str] = []
    for p in patterns:
        route = str(p.pattern)
        if "<" in route or "(?P" in route or route.startswith("^"):
            continue
        if isinstance(p, URLResolver):
            out += _routes(p.url_patterns, prefix + route)
        elif isinstance(p, URLPattern):
            out.append("/" + prefix + route)
    return out


def page_text(body: str) -> str:
    """What a reader sees: text between tags and the titles, placeholders and labels of elements."""
    attrs = " ".join(ATTR_TEXT.findall(body))
    return html.unescape(TAGS.sub(" ", body) + " " + attrs)


def crawl(client, lang: str, limit: int = 400) -> dict[str, str]:
    starts = [u for u in _routes(get_resolver().url_patterns) if not u.startswith(SKIP)]
    seen: dict[str, str] = {}
    todo = [(u, 0) for u in reversed(starts)]
    while todo and len(seen) < limit:
        url, depth = todo.pop()
        if url in seen:
            continue
        r = client.get(url, HTTP_ACCEPT_LANGUAGE=lang)
        assert r.status_code < 500, f"{url} → {r.status_code}"
        seen[url] = ""
        if r.status_code != 200 or "text/html" not in r.get("Content-Type", ""):
            continue
        body = r.content.decode()
        seen[url] = body
        if depth >= 1:
            continue
        for href in HREF.findall(body):
            href = urljoin(url, html.unescape(href))
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith(SKIP) or DOWNLOAD.search(href) or "page=" in href or href in seen:
                continue
            todo.append((href, depth + 1))
    return seen


def data_texts() -> set[str]:
    """Every Chinese text held as data: the text fields of every row, and the strings of the rule packs."""
    from django.apps import apps
    from django.db import models

    out: set[str] = set()
    for model in apps.get_models():
        # a field with an English twin (title_zh/title_en …) is not data an English page may show
        fields = [f.attname for f in model._meta.concrete_fields
                  if isinstance(f, (models.CharField, models.TextField, models.JSONField)) and not f.attname.endswith("_zh")]
        if not fields:
            continue
        for row in model.objects.values_list(*fields):
            for v in row:
                if v:
                    out.update(CJK.findall(str(v)))
    for toml in (ROOT / "src" / "cets" / "rules" / "packs").rglob("*.toml"):
        out.update(CJK.findall(toml.read_text(encoding="utf-8")))
    for py in (ROOT / "src" / "cets" / "core").rglob("*.py"):  # regions and calendars: names of places and holidays
        out.update(CJK.findall(py.read_text(encoding="utf-8")))
    return out


def stored_texts() -> list[str]:
    """Texts held in the database with a space in them (memos, references, notices), longest first."""
    from django.apps import apps
    from django.db import models

    out: set[str] = set()
    for model in apps.get_models():
        fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, (models.CharField, models.TextField))]
        for row in model.objects.values_list(*fields) if fields else ():
            out.update(v for v in row if isinstance(v, str) and len(v) >= 8 and " " in v)
    return sorted(out, key=len, reverse=True)


def english_leaks(body: str, allowed: set[str]) -> set[str]:
    """Chinese runs of an English page that are neither data nor an official term under its English name; the
    language switch names 中文 in Chinese."""
    blob = "\n".join(allowed)
    runs = CJK.findall(page_text(TERM_ZH.sub(" ", body)))
    return {r for r in runs if HAN.search(r) and r != "中文" and (r not in blob or r in CHOICE_ZH)}


CHOICE_ZH: set[str] = set()  # the Chinese halves of the models' choice labels (filled by the test)


def bilingual_choices() -> set[str]:
    """Every ``"中文 english"`` choice label of the models (a page shows only one half)."""
    from django.apps import apps

    from cets.core.labels import split_label

    out: set[str] = set()
    for model in apps.get_models():
        for f in model._meta.fields:
            for _value, label in f.choices or ():
                zh, en = split_label(label)
                if zh != en:
                    out.add(f"{zh} {en}")
    return out


def roles(world):
    """One signed-in client per role of the world (national, provincial, municipal, entity, registry, verifier,
    exchange, auditor)."""
    from cets.parties.models import Organisation, Role
    from cets.parties.services import member_create

    exch = Organisation.objects.create(kind=Organisation.Kind.EXCHANGE,
                                       name="测试交易机构", province="")
    extra = {
        "verifier": member_create(username="w-ver", organisation=world.verifier, role=Role.VERIFIER),
        "exchange": member_create(username="w-exch", organisation=exch, role=Role.EXCHANGE_OPERATOR),
        "auditor": member_create(username="w-aud", organisation=exch, role=Role.AUDITOR),
    }
    users = {"national": world.web.mee, "provincial": world.web.province_sd, "municipal": world.municipal, "entity": world.web.entity_sd1,
             "registry": world.web.registry_a, **extra}
    return {name: client_for(u, verified=True) for name, u in users.items()}


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_every_page_in_one_language(sup, lang):  # noqa: F811
    english = {e.msgid for po in CATALOGUES for e in polib.pofile(str(po)) if len(e.msgid) >= 12 and " " in e.msgid and e.msgstr}
    clients = roles(sup)
    allowed = data_texts() if lang == "en" else set()
    bilingual = bilingual_choices()
    CHOICE_ZH.update(b.split(" ", 1)[0] for b in bilingual)
    stored = stored_texts() if lang != "en" else []
    problems: list[str] = []
    pages = 0
    for role, client in clients.items():
        for url, body in crawl(client, lang).items():
            if not body:
                continue
            pages += 1
            if os.environ.get("CETS_DUMP_PAGES"):
                out = Path(os.environ["CETS_DUMP_PAGES"]) / lang / role / (url.strip("/").replace("/", "_") or "home")
                out.parent.mkdir(parents=True, exist_ok=True)
                out.with_suffix(".html").write_text(body)
            if lang == "en":
                leaks = english_leaks(body, allowed)
                if leaks:
                    problems.append(f"{role} {url}: Chinese on an English page: {sorted(leaks)[:8]}")
            else:
                text = page_text(body)
                for v in stored:  # data (a ledger memo as written) is not our catalogue's text
                    text = text.replace(v, " ")
                shown = sorted(m for m in english if m in text and "%" not in m)
                shown += sorted(b for b in bilingual if b in text)
                if 'class="term-main"' in body:
                    shown.append("an English term name")
                if shown:
                    problems.append(f"{role} {url}: English on a Chinese page: {shown[:5]}")
    assert pages > 50
    assert problems == [], "\n".join(sorted(set(problems)))


ODD = {"year": "²⁰²⁴", "page": "²", "id": "³", "province": "３７", "market": "²", "n": "٣", "lines": "²"}


@pytest.mark.django_db
def test_every_page_with_odd_digits_in_its_query_is_no_500(sup):  # noqa: F811
    """Every argument-free page, as each role, with superscript and other scripts' digits in the usual query
    parameters: ``str.isdigit`` accepts '²', ``int`` refuses it — a page must answer (200, 302, 403, 404), never 500
    (``cets.core.quantities.is_digits`` is the test before ``int``)."""
    from cets.core.quantities import is_digits

    assert is_digits("2024") and not is_digits("²") and not is_digits("٣") and not is_digits("") and not is_digits("-1")
    failures = []
    for role, client in roles(sup).items():
        for path in _routes(get_resolver().url_patterns):
            if path.startswith(SKIP) or DOWNLOAD.search(path):
                continue
            r = client.get(path, ODD)
            if r.status_code >= 500:
                failures.append(f"{role} GET {path}")
    assert failures == []
