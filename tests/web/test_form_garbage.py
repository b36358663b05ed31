"""Every POST form of the pages, posted with boundary and garbage values: no 500, and a refused POST changes nothing
in the ledger.

The world (``tests/supervision/conftest.py``: the web world plus supervision records) is built once for the module,
inside a transaction rolled back at the end; each test runs in a savepoint of it. Each role's pages are crawled as in
``test_every_page`` and their ``<form method="post">`` elements parsed (input, select, textarea names, default values,
options). The tests are parametrized by the URL name of every view of the URL conf that accepts POST (pages, not
``/api/``: the API is fuzzed by schemathesis in ``tests/api``). For each form targeting that view, as the role whose
page showed it, the test posts: every field empty; no field at all; every field and then every typed field (the
hidden and select fields kept) set to 10**20, -1, 0, '²', '1.5', 'NaN', 10,000 characters, a NUL byte, unicode;
every select set to an unknown value; file fields filled with garbage bytes. A view with no form on any page is
posted the same values at its URL (arguments filled from the world).
"""

from __future__ import annotations

import html
import inspect
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

SKIP = ("admin/", "api/", "i18n/", "static/", "media/")
# logging in and out, and the language switch, are Django's own views (tested in test_auth / test_i18n_and_format)
SKIP_NAMES = {"web:logout", "web:login", "set_language", "web:admin_login"}


def _post_views(patterns=None, prefix: str = "", ns: str | None = None) -> dict[str, str]:
    """URL name → route of every page view whose source handles POST (``require_POST``, ``request.method``...)."""
    out: dict[str, str] = {}
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            name = ":".join(x for x in (ns, p.namespace) if x) or None
            out.update(_post_views(p.url_patterns, prefix + str(p.pattern), name))
        elif isinstance(p, URLPattern) and p.name:
            route = prefix + str(p.pattern)
            if route.startswith(SKIP):
                continue
            view_class = getattr(p.callback, "view_class", None)
            try:
                src = "" if view_class else inspect.getsource(inspect.unwrap(p.callback))
            except (OSError, TypeError):
                continue
            if (view_class and hasattr(view_class, "post")) or "POST" in src or "request.method" in src:
                name = f"{ns}:{p.name}" if ns else p.name
                if name not in SKIP_NAMES:
                    out[name] = route
    return out


POST_VIEWS = _post_views()

BIG = str(10**20)
VALUES = {"huge": BIG, "minus": "-1", "zero": "0", "superscript": "²", "float": "1.5", "nan": "NaN", "long": "x" * 10_000,
          "nul": "a\x00b", "unicode": "碳\u202e🙂\ufeffＡ"}
GARBAGE_FILE = b"\x00\xff\xfePK\x03\x04garbage" * 64


class _Forms(HTMLParser):
    """The ``<form method="post">`` elements of a page: action, enctype and fields (name → kind, default, options)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            if (a.get("method") or "get").lower() == "post":
                self._form = {"action": a.get("action"), "fields": {}, "files": []}
                self.forms.append(self._form)
            return
        f = self._form
        if f is None or not a.get("name"):
            return
        name = a["name"]
        if name == "csrfmiddlewaretoken":
            return
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind == "file":
                f["files"].append(name)
            elif kind in ("submit", "button", "image", "reset"):
                if a.get("value") is not None:
                    f["fields"].setdefault(name, ("hidden", a.get("value"), []))
            elif kind in ("checkbox", "radio"):
                if name not in f["fields"] or "checked" in a:
                    f["fields"][name] = ("choice", a.get("value", "on"), [])
            else:
                f["fields"][name] = (kind, a.get("value") or "", [])
        elif tag == "select":
            self._select = name
            f["fields"][name] = ("select", "", [])
        elif tag == "option" and self._select:
            kind, default, options = f["fields"][self._select]
            value = a.get("value", "")
            options.append(value)
            if "selected" in a or (not default and value):
                f["fields"][self._select] = (kind, value, options)
        elif tag == "textarea":
            self._textarea = name
            f["fields"][name] = ("textarea", "", [])

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            kind, default, options = self._form["fields"][self._textarea]
            self._form["fields"][self._textarea] = (kind, default + data, options)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _name_of(path: str) -> str | None:
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return match.view_name


PLAUSIBLE = [  # (pattern of a field name, a value that passes its form's first checks) so one bad field reaches the service
    (r"uscc|participant|counterparty|^entity$|subject|member", "{uscc}"), (r"account", "{account}"), (r"unit_type", "{unit_type}"),
    (r"^year$", "2023"), (r"vintage", "2024"), (r"_on$|^day$|date|deadline", "2025-01-10"), (r"otp|code$", "000000"),
    (r"quantity|_t$|_fen$|amount|price|prev_close|multiple|fine|gains|share|lines|bids", "1"), (r".", "fuzz"),
]
NUMERIC = ("huge", "minus", "superscript", "float")


def _plausible(name: str, world: dict) -> str:
    return next(v for pat, v in PLAUSIBLE if re.search(pat, name)).format(**world)


def _variants(fields: dict, files: list[str], world: dict | None = None) -> list[tuple[str, dict]]:
    """(label, data) for one form: the boundary and garbage values described in the module docstring; with ``world``
    (values of its objects), also each typed field alone set to each numeric garbage value, the others plausible."""
    defaults = {n: d for n, (_k, d, _o) in fields.items()}
    typed = [n for n, (k, _d, _o) in fields.items() if k not in ("hidden", "select", "choice")]
    out: list[tuple[str, dict]] = [("empty", dict.fromkeys(fields, "")), ("missing", {})]
    for label, v in VALUES.items():
        if label in ("huge", "long", "nul", "unicode"):
            out.append((f"all={label}", dict.fromkeys(fields, v)))
        if typed:
            out.append((f"typed={label}", {**defaults, **dict.fromkeys(typed, v)}))
    selects = [n for n, (k, _d, _o) in fields.items() if k == "select"]
    if selects:
        out.append(("unknown-select", {**defaults, **dict.fromkeys(selects, "no-such-choice")}))
    if files:
        from django.core.files.uploadedfile import SimpleUploadedFile

        out.append(("garbage-file", {**defaults, **{n: SimpleUploadedFile("x.xlsx", GARBAGE_FILE) for n in files}}))
        out.append(("garbage-file-pdf", {**defaults, **{n: SimpleUploadedFile("x.pdf", GARBAGE_FILE, "application/pdf") for n in files}}))
    if world is not None:
        plausible = {n: d or _plausible(n, world) for n, d in defaults.items()}
        out.append(("plausible", plausible))
        for n in typed:
            out += [(f"{n}={label}", {**plausible, n: VALUES[label]}) for label in NUMERIC]
    return out


def _crawl(client, extra: list[str]) -> dict[str, str]:
    """The role's argument-free pages of the URL conf (as ``test_every_page``) and the detail pages that carry forms."""
    from tests.web.test_every_page import SKIP, _routes

    pages: dict[str, str] = {}
    for url in [u for u in _routes(get_resolver().url_patterns) if not u.startswith(SKIP)] + extra:
        if url not in pages:
            r = client.get(url)
            assert r.status_code < 500, f"GET {url} → {r.status_code}"
            pages[url] = r.content.decode() if r.status_code == 200 and "text/html" in r.get("Content-Type", "") else ""
    return pages


FIELD = re.compile(r"""(?:POST|\bp|\bsrc|\bdata|\bform)(?:\.get\(|\[)["'](\w+)["']""")


def _source_fields(url_name: str) -> dict:
    """The field names a view reads from its POST (for a view no page shows a form of, in this world)."""
    view = resolve(_fill_route(POST_VIEWS[url_name])).func
    src = inspect.getsource(inspect.unwrap(view))
    names = set(FIELD.findall(src))
    module = inspect.getmodule(inspect.unwrap(view))
    for form in re.findall(r"(\w+Form)\(request\.POST", src):
        names |= set(getattr(module, form).base_fields)
    names = sorted(names) or ["id", "quantity"]
    return {n: ("text", "", []) for n in names}


def _state(world) -> list[str]:
    """What puts more forms on the pages: a surrender waiting for its decision, an issuance proposal waiting for its
    second person, an account application waiting for review. Returns the detail pages to read."""
    from cets.compliance.models import Obligation
    from cets.compliance.services import surrender_submit
    from cets.registry.models import AccountApplication, UnitType
    from cets.registry.services import IssuanceLine, application_submit, issuance_propose

    web = world.web
    cea = UnitType.objects.get(code__contains="2023")
    esd2 = web.sd2.members.get().user
    from cets.supervision.services import joint_notice_create

    joint_notice_create(actor=web.province_sd, entity_id=web.sd2.pk, penalty_reference="鲁环罚〔2025〕1号", facts="2023年度未足额清缴")
    surrender_submit(key="fuzz-surrender", entity=web.sd2, year=2023, unit_type_code=cea.code, quantity=1, actor=esd2)
    issuance_propose(key="fuzz-issue", unit_type=cea, lines=[IssuanceLine(account=web.sd2.accounts.first().number, quantity=5)], actor=web.registry_b)
    application_submit(holder_kind="individual", name="王小明", resident_id="11010519850102123X",
                       kyc={"phone": "13800000000", "address": "北京市朝阳区某路1号", "occupation": "工程师", "funds_source": "工资收入",
                            "bank_account": "6222020000000000000", "risk_acknowledged": True},
                       username="fuzz-wxm", password="a-long-password-1", documents=[("identity_card", "id.png", b"\x89PNG\r\n\x1a\n" + bytes(64))])
    return ([f"/compliance/obligations/{pk}/" for pk in Obligation.objects.values_list("pk", flat=True)]
            + [f"/registry/applications/{r}/" for r in AccountApplication.objects.values_list("reference", flat=True)]
            + [f"/supervision/reports/{world.report.receipt}/", "/compliance/surrenders/", "/compliance/reporting/", "/compliance/2023/",
               "/mrv/facilities/", "/mrv/blocked/",
               "/allocation/submissions/", "/allocation/basis/", "/registry/", "/trading/day/", "/trading/orders/"])


def _ledger():
    from django.db.models import Sum

    from cets.registry.models import Holding, Transfer

    return Transfer.objects.count(), Holding.objects.aggregate(s=Sum("quantity"))["s"], Holding.objects.count()


def _refused(r) -> bool:
    if r.status_code >= 400:
        return True
    storage = getattr(r.wsgi_request, "_messages", None)
    if storage is None:
        return False
    from django.contrib.messages import constants

    return any(m.level >= constants.WARNING for m in storage._queued_messages)  # this request's, not those left from before


def _fill_route(route: str, uscc: str = "913700001630435316", first: int = 1) -> str:
    """A URL for ``route`` with its arguments filled (an existing object's key, or a plain word)."""
    ints = {"year": "2023", "month": "1"}
    strs = {"uscc": uscc, "reference": "NO-SUCH-REF", "action": "approve", "name": "no-such-step"}

    def arg(m):
        conv, name = m.group(1) or "str", m.group(2)
        return ints.get(name, str(first)) if conv == "int" else strs.get(name, "x")

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", arg, route)


@pytest.fixture(scope="module")
def forms_world(django_db_setup, django_db_blocker):
    """The world, the role clients and the forms their pages show (URL name → [(role, action path, fields, files)])."""
    from django.db import transaction

    from tests.supervision.conftest import sup
    from tests.web.conftest import web
    from tests.web.test_every_page import roles

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            world = sup._get_wrapped_function()(web._get_wrapped_function()(None))
            clients = roles(world)
            for c in clients.values():
                c.raise_request_exception = False  # a 500 is counted and the other posts still run
            extra = _state(world)
            found: dict[str, list] = {}
            seen: set = set()
            for role, client in clients.items():
                for url, body in _crawl(client, extra).items():
                    if not body:
                        continue
                    parser = _Forms()
                    parser.feed(body)
                    for form in parser.forms:
                        action = urljoin(url, html.unescape(form["action"] or url))
                        name = _name_of(action)
                        if name is None or name in SKIP_NAMES:
                            continue
                        sig = (name, urlsplit(action).path, tuple(sorted(form["fields"])), tuple(form["files"]))
                        if sig in seen:
                            continue
                        seen.add(sig)
                        found.setdefault(name, []).append((role, action, form["fields"], form["files"]))
            yield world, clients, found
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.mark.django_db
def test_every_form_on_the_pages_is_a_post_view(forms_world):
    """Every form action found on a page resolves to one of the views this module posts to (none escapes the list)."""
    _world, _clients, found = forms_world
    assert set(found) - set(POST_VIEWS) == set()
    assert len(found) >= 25


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", sorted(POST_VIEWS))
def test_garbage_in_every_form_is_no_500(forms_world, url_name):
    world, clients, found = forms_world
    from cets.compliance.models import Obligation
    from cets.registry.models import UnitType

    sd1 = world.web.sd1
    values = {"uscc": sd1.uscc, "account": sd1.accounts.first().number, "unit_type": UnitType.objects.get(code__contains="2023").code}

    first = Obligation.objects.order_by("pk").values_list("pk", flat=True).first()
    cases = found.get(url_name) or [(role, _fill_route(POST_VIEWS[url_name], world.web.sd1.uscc, first), _source_fields(url_name), [])
                                    for role in clients]
    failures: list[str] = []
    for role, action, fields, files in cases:
        client = clients[role]
        for label, data in _variants(fields, files, values):
            before = _ledger()
            r = client.post(action, data)
            if r.status_code >= 500:
                failures.append(f"{role} POST {action} [{label}] → {r.status_code}")
            elif _refused(r) and _ledger() != before:
                failures.append(f"{role} POST {action} [{label}] refused but changed the ledger: {before} → {_ledger()}")
    assert failures == [], "\n".join(failures)




@pytest.mark.django_db
def test_a_nul_character_in_a_form_or_query_is_refused_s0502_before_any_view():
    """PostgreSQL cannot store a NUL in text (a 500 there, where SQLite stores it): every page refuses it first."""
    from cets.parties.models import Organisation, Role
    from cets.parties.services import member_create
    from cets.supervision.models import CreditRecord
    from tests.conftest import client_for, uscc_for

    auth = Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="空字符测试生态环境厅", province="37")
    entity = Organisation.objects.create(kind=Organisation.Kind.ENTITY, name="空字符测试电厂", uscc=uscc_for(991), province="37")
    c = client_for(member_create(username="nul-psd", organisation=auth, role=Role.PROVINCIAL_AUTHORITY, province="37"), verified=True)
    before = CreditRecord.objects.count()
    r = c.post("/supervision/credit/", {"uscc": entity.uscc, "kind": "non_compliance", "reason": "a\x00b", "source_reference": "x"})
    assert r.status_code == 400 and r.content.decode().startswith("S0502 ")
    assert CreditRecord.objects.count() == before
    assert c.get("/compliance/surrenders/", {"status": "\x00"}, HTTP_ACCEPT_LANGUAGE="en").content.decode() == (
        "S0502 the input contains a NUL character, which cannot be stored")
    assert c.get("/compliance/surrenders/", {"status": "submitted"}).status_code == 200
