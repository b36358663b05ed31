"""Every public URL, crawled anonymously from /public/ (both languages): 200 on each, including per-item
pages, an organisation page and CSV downloads, and nothing from a holding, a fund balance, a reporter's
identity or a field marked confidential."""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client

from .conftest import CONTACT, CONTENT, FUND_FEN, NOTE, REPORTER

HREF = re.compile(r'href="([^"]+)"')


def _number(n: str) -> re.Pattern:
    """``n`` as a whole number, not as a part of a longer one."""
    return re.compile(r"(?<![\d,.])" + re.escape(n) + r"(?![\d,])")


def _forbidden(sup) -> list[re.Pattern]:
    """The reporter's identity and the report's text, confidential notes, the fund balance (fen, yuan) and every
    entity holding (with and without separators)."""
    from cets.registry.models import Holding

    out = [re.compile(re.escape(w)) for w in (REPORTER, CONTACT, CONTENT[:20], NOTE[:20], "CONFIDENTIAL")]
    out += [_number(n) for n in (str(FUND_FEN), f"{FUND_FEN / 100:,.2f}", f"{FUND_FEN / 100:.2f}")]
    entity_ids = [sup.web.sd1.pk, sup.web.sd2.pk, sup.web.zj1.pk]
    held = {h.quantity for h in Holding.objects.filter(account__holder_id__in=entity_ids) if h.quantity >= 1000}
    assert held, "the world has entity holdings to look for"
    out += [_number(str(q)) for q in held] + [_number(f"{q:,}") for q in held]
    return out


def crawl(client: Client, starts: list[str], lang: str) -> dict[str, bytes]:
    seen: dict[str, bytes] = {}
    todo = list(starts)
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        r = client.get(url, HTTP_ACCEPT_LANGUAGE=lang)
        assert r.status_code == 200, f"{url} → {r.status_code} {r.get('Location', '')}"
        seen[url] = r.content
        if not urlsplit(url).path.startswith("/public/") or "text/html" not in r["Content-Type"]:
            continue  # linked pages of other contexts (market data) are visited, not followed
        for href in HREF.findall(r.content.decode()):
            href = urljoin(url, html.unescape(href))
            if not href.startswith(("/public/", "/trading/market/")) or href in seen:
                continue  # the site chrome (brand → the logged-in dashboard, static files) is not the portal
            todo.append(href)
        assert len(seen) < 2000
    return seen


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_anonymous_crawl_of_every_public_url(sup, lang):
    client = Client()
    starts = ["/public/", f"/public/reports/{sup.report.receipt}/", "/public/reports/new/", "/api/v1/public/blacklist",
              "/api/v1/public/credit-records", f"/api/v1/public/reports/{sup.report.receipt}"]
    starts += [f"/api/v1/public/lists/{slug}" for slug in ("emitter-lists", "verifications", "surrender", "packs", "allocation", "verifier-evaluations")]
    pages = crawl(client, starts, lang)
    paths = list(pages)
    assert any(p.endswith("/download.csv") for p in paths)
    assert any(re.match(r"^/public/verifications/\d+/$", p) for p in paths), "a verification detail page"
    assert any(p.startswith("/public/packs/national/") for p in paths), "a rule pack page"
    assert any(p.startswith("/public/organisations/") for p in paths), "an organisation page"
    for must in ("/public/penalties/", "/public/holder-changes/", "/trading/market/", "/public/blacklist/", "/public/surrender/",
                 "/public/emitter-lists/", "/public/allocation/", "/public/verifier-evaluations/", "/public/credit-records/"):
        assert must in paths, must
    forbidden = _forbidden(sup)
    for url, body in pages.items():
        text = body.decode("utf-8", errors="replace")
        for pattern in forbidden:
            assert not pattern.search(text), f"{pattern.pattern!r} on {url}"


def test_published_content_is_there(sup):
    c = Client()
    body = c.get("/public/verifications/").content.decode()
    assert sup.web.sd1.name in body
    assert "网测核查技术服务有限公司" in body
    surrender = c.get("/public/surrender/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "on time in full" in surrender
    assert "incomplete" in surrender
    alloc = c.get("/public/allocation/").content.decode()
    assert "<svg" in alloc
    assert "山东省" in alloc
    black = c.get("/public/blacklist/download.csv").content.decode()
    assert "环气候〔2025〕9号" in black
    assert sup.verifier.uscc in black
    assert "鲁环罚〔2025〕1号" in c.get(f"/public/credit-records/{sup.credit.pk}/").content.decode()
