"""The public portal's lists (Measures Art. 35): each a title, columns, filters, a query and a row, so one
view serves every list as a searchable, paginated page, a CSV download and per-item pages.

Published information only: no holding account, no fund balance, no person's identity, nothing
marked confidential (``internal_note``, a report's reporter and content)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cets.compliance.status import LABELS as STATUS_LABELS
from cets.core.quantities import is_digits
from cets.core.regions import PROVINCES
from cets.parties import selectors as parties
from cets.registry import selectors as registry_selectors
from cets.rules.markets import PRIMARY_MARKET
from cets.rules.markets import sector_name as _sector_name
from cets.rules.packs import PackError, available_packs, load_pack

from . import selectors
from .models import BlacklistEntry, CreditRecord, FalseReportingFinding


def zh() -> bool:
    return (get_language() or "zh").startswith("zh")


def province(code: str) -> str:
    if not code:
        return str(_("national"))
    names = PROVINCES.get(code)
    return (names[0] if zh() else names[1]) if names else code


def sector(code: str, market: str = PRIMARY_MARKET) -> str:
    try:
        return _sector_name(market, code, "zh" if zh() else "en")
    except (PackError, KeyError, ValueError):
        return code


def choice(label: str) -> str:
    """``"中文 English"`` choice labels → the half in the page's language."""
    zh_part, _sep, en_part = label.partition(" ")
    return zh_part if zh() else en_part


def _int(v: str) -> int | None:
    return int(v) if is_digits(v) else None


@dataclass
class PublicList:
    slug: str
    title: object
    intro: object
    columns: list[tuple[str, object]]
    query: Callable[[dict], object]  # params → queryset or list
    row: Callable[[object], dict]  # item → {column key: value}
    filters: list[tuple[str, object]] = field(default_factory=list)  # (param, label); every list also has "q"
    key: Callable[[object], str] | None = None  # item → its stable key (per-item URL)
    get: Callable[[str], object] | None = None  # key → item or None
    links: dict[str, str] = field(default_factory=dict)  # column key → name of the row key holding that cell's link (an org's credit code)

    @property
    def has_items(self) -> bool:
        """Whether each row has its own page (templates call callables, so they ask this, not ``get``)."""
        return self.get is not None


def _org_link(org) -> str:
    return org.uscc or ""


# ---- key-emitter lists

def _list_query(p):
    return parties.public_list_entries(market=p.get("market", ""), year=_int(p.get("year", "")), sector=p.get("sector", ""),
                                       province=p.get("province", ""), search=p.get("q", ""))


def _list_row(e):
    return {"year": e.year, "market": e.market, "sector": sector(e.sector, e.market), "province": province(e.province), "city": e.city,
            "entity": e.entity.name, "uscc": e.entity.uscc or "", "_org": _org_link(e.entity)}


def _pub_row(p):
    return {"year": p.year, "market": p.market, "sector": sector(p.sector, p.market), "province": province(p.province),
            "published_on": p.published_on, "deadline": p.deadline or "", "entries": p.entries}


# ---- rule packs

def _packs(p):
    out = []
    q = p.get("q", "").lower()
    for pid in available_packs():
        try:
            pk = load_pack(pid)
        except PackError:
            continue
        if q and q not in (pid + pk.title_zh + pk.title_en + pk.document).lower():
            continue
        out.append(pk)
    return out


def _pack_row(pk):
    d = pk.data.get("pack", {})
    return {"id": pk.id, "kind": pk.kind, "years": ", ".join(str(y) for y in pk.years), "title": pk.title_zh if zh() else (pk.title_en or pk.title_zh),
            "document": pk.document or d.get("source", ""), "unconfirmed": len(pk.unconfirmed), "sha256": pk.sha256[:16],
            "_extra": [(u.key, u.tag, u.note_zh if zh() else u.note_en) for u in pk.unconfirmed]}


def _pack_get(key):
    try:
        return load_pack(key) if key in available_packs() else None
    except PackError:
        return None


# ---- verification results

def _ver_query(p):
    return selectors.public_verifications(year=_int(p.get("year", "")), sector=p.get("sector", ""), province=p.get("province", ""),
                                          conclusion=p.get("conclusion", ""), search=p.get("q", ""))


def _ver_row(r):
    return {"year": r.year, "sector": sector(r.sector), "entity": r.entity.name, "uscc": r.entity.uscc or "", "province": province(r.entity.province),
            "verifier": r.verifier.name, "on_time": str(_("yes") if r.on_time else _("no")),
            "conclusion": str(_("conforming") if r.conforming else _("nonconforming")),
            "resolution": choice(r.get_resolution_display()) if r.resolution else "", "_org": _org_link(r.entity)}


def _ver_get(key):
    from cets.mrv.models import VerificationRecord

    return VerificationRecord.objects.select_related("entity", "verifier").filter(pk=_int(key) or 0).first()


# ---- surrender status

def _surrender_query(p):
    years = selectors.surrender_years()
    year = _int(p.get("year", "")) or (years[0] if years else 0)
    return [dict(r, year=year) for r in selectors.public_surrender(year=year, search=p.get("q", ""), province=p.get("province", ""))]


def _surrender_row(r):
    zh_label, en_label = STATUS_LABELS.get(r["status"], (r["status"], r["status"]))
    return {"year": r["year"], "entity": r["entity"].name, "uscc": r["entity"].uscc or "", "province": province(r["entity"].province),
            "status": zh_label if zh() else en_label, "_org": _org_link(r["entity"])}


# ---- verifier evaluations

def _eval_row(e):
    def share(v):
        return "—" if v is None else f"{v * 100:.1f}%"
    return {"year": e.year, "province": province(e.province), "body": e.body.name, "uscc": e.body.uscc or "", "verifications": e.verifications,
            "timeliness": share(e.timeliness), "compliance": share(e.compliance), "quality": share(e.quality), "spot_checks": e.spot_checks,
            "flagged": e.flagged, "published_on": e.published_at.date(), "_org": _org_link(e.body)}


def _eval_get(key):
    from cets.mrv.models import VerifierEvaluation

    return VerifierEvaluation.objects.select_related("body").filter(pk=_int(key) or 0).first()


# ---- credit records, blacklist

def _credit_row(c):
    return {"recorded_on": c.recorded_on, "subject": c.subject.name, "uscc": c.subject.uscc or "", "province": province(c.province),
            "kind": choice(c.get_kind_display()), "reason": c.reason, "source_reference": c.source_reference, "authority": c.authority.name,
            "_org": _org_link(c.subject)}


def _black_row(b):
    return {"subject": b.subject.name, "uscc": b.subject.uscc or "", "effect": choice(b.get_effect_display()), "decision_reference": b.decision_reference,
            "reason": b.reason, "starts_on": b.starts_on, "ends_on": b.ends_on or "", "lifted_on": b.lifted_on or "", "_org": _org_link(b.subject)}


def _yuan(fen: int) -> str:
    """1234567 fen → "12,345.67" (exact integer arithmetic)."""
    return f"{fen // 100:,}.{fen % 100:02d}"


def _finding_row(f):
    return {"decided_on": f.decided_on, "subject": f.subject.name, "uscc": f.subject.uscc or "", "province": province(f.province), "year": f.year,
            "rules": choice(f.get_rules_display()), "decision_reference": f.decision_reference, "facts": f.facts,
            "fine_range": f"{_yuan(f.fine_min_fen)} – {_yuan(f.fine_max_fen)}", "fine": _yuan(f.fine_fen),
            "allocation_cut_t": f.allocation_cut_t, "_org": _org_link(f.subject)}


def _finding_query(p):
    qs = selectors.false_reporting_findings_public()
    if q := p.get("q", "").strip():
        qs = qs.filter(subject__name__icontains=q) | qs.filter(decision_reference__icontains=q)
    if y := _int(p.get("year", "")):
        qs = qs.filter(year=y)
    return qs


# ---- allocation aggregates

def _alloc_query(p):
    years = selectors.allocation_years()
    year = _int(p.get("year", "")) or (years[0] if years else 0)
    by = "sector" if p.get("by") == "sector" else "province"
    return [dict(r, year=year, by=by) for r in selectors.allocation_aggregates(year=year, by=by)]


def _alloc_row(r):
    return {"year": r["year"], "group": sector(r["key"]) if r["by"] == "sector" else province(r["key"]), "allocation_t": r["allocation_t"],
            "verified_t": r["verified_t"], "difference_t": r["allocation_t"] - r["verified_t"]}


# ---- retired serials of credits (registry serial blocks)

def _retired_row(b):
    from cets.registry import serials
    from cets.registry.models import AccountKind

    src = b.parent.account if b.parent is not None else None
    by = "" if src is None or src.kind == AccountKind.INDIVIDUAL or src.holder is None else src.holder.name
    ut = b.unit_type
    return {"retired_on": b.entry.effective_at.date(), "block": serials.block_text(ut.code, serials.Span(b.start, b.end)), "quantity_t": b.quantity,
            "project": ut.project.code if ut.project else "", "project_name": ut.project.name if ut.project else "", "vintage": ut.vintage,
            "retirement": choice(AccountKind(b.account.kind).label), "retired_by": by}


def _retired_get(key):
    return registry_selectors.retired_blocks().filter(pk=_int(key) or 0).first()


# ---- market stabilisation: reserve decisions and trigger alerts (draft Measures Art. 9, 23)

RESERVE_LABELS = {"reserve_fund": ("储备注入", "reserve funded from the cap"), "reserve_release": ("储备出售（拍卖）", "sale from the reserve"),
                  "reserve_withdraw": ("回购入储备", "buy-back into the reserve")}


def _stabilisation_query(p):
    from .models import StabilisationAlert

    q = p.get("q", "")
    rows = []
    for pr in registry_selectors.reserve_proposals(status="executed", q=q):
        d = pr.payload
        prices = sorted({ln["price_fen"] for ln in d.get("lines", [])})
        price = d.get("auction", {}).get("clearing_price_fen") or (prices[0] if len(prices) == 1 else "")
        zh_l, en_l = RESERVE_LABELS.get(pr.kind, (pr.kind, pr.kind))
        rows.append({"decided_on": pr.decided_at.date() if pr.decided_at else "", "what": zh_l if zh() else en_l, "unit_type": d.get("unit_type", ""),
                     "quantity_t": d.get("quantity", 0), "price_yuan": f"{price / 100:.2f}" if isinstance(price, int) else "",
                     "buyers_sellers": len(d.get("lines", [])), "decision_reference": d.get("decision_ref", ""), "decision": ""})
    for a in StabilisationAlert.objects.filter(status=StabilisationAlert.Status.DECIDED).order_by("-decided_at"):
        if q and q not in a.decision_reference and q not in a.decision:
            continue
        rows.append({"decided_on": a.decided_at.date() if a.decided_at else "", "what": f"{choice(a.get_trigger_display())} {a.day:%Y-%m-%d} "
                     f"({a.value:,} / {a.threshold:,})", "unit_type": "", "quantity_t": "", "price_yuan": "", "buyers_sellers": "",
                     "decision_reference": a.decision_reference, "decision": a.decision})
    return sorted(rows, key=lambda r: str(r["decided_on"]), reverse=True)


def _by_pk(model):
    def get(key):
        return model.objects.filter(pk=_int(key) or 0).first()
    return get


LISTS: dict[str, PublicList] = {pl.slug: pl for pl in [
    PublicList("emitter-lists", _("Key emitting entity lists"),
               _("Entities on the published key-emitter lists, by year, sector and province (Regulations Art. 8; Measures Art. 35(二))."),
               [("year", _("Year")), ("market", _("Market")), ("sector", _("Sector")), ("province", _("Province")), ("city", _("City")),
                ("entity", _("Entity")), ("uscc", _("Credit code"))],
               _list_query, _list_row, [("year", _("Year")), ("sector", _("Sector")), ("province", _("Province"))],
               key=lambda e: str(e.pk), get=lambda k: parties.public_list_entries().filter(pk=_int(k) or 0).first(), links={"entity": "_org"}),
    PublicList("list-publications", _("List publications"), _("When each province published its list, and how many entities it names."),
               [("year", _("Year")), ("market", _("Market")), ("sector", _("Sector")), ("province", _("Province")), ("published_on", _("Published")),
                ("deadline", _("Deadline")), ("entries", _("Entities"))],
               lambda p: parties.public_list_publications(year=_int(p.get("year", ""))), _pub_row, [("year", _("Year"))],
               key=lambda p: str(p.pk), get=lambda k: parties.public_list_publications().filter(pk=_int(k) or 0).first()),
    PublicList("packs", _("Rule packs and their sources"),
               _("Every rule the platform applies, as data, with the document it comes from and "
                 "the values no text confirms yet (Measures Art. 35(三)–(七))."),
               [("id", _("Pack")), ("kind", _("Kind")), ("years", _("Years")), ("title", _("Title")), ("document", _("Source document")),
                ("unconfirmed", _("Unconfirmed values")), ("sha256", _("SHA-256 (first 16)"))],
               _packs, _pack_row, [], key=lambda pk: pk.id, get=_pack_get),
    PublicList("verifications", _("Verification results"),
               _("Each verification of a key emitting entity's annual report: body and conclusion (Regulations Art. 12)."),
               [("year", _("Year")), ("sector", _("Sector")), ("entity", _("Entity")), ("uscc", _("Credit code")), ("province", _("Province")),
                ("verifier", _("Verification body")), ("on_time", _("On time")), ("conclusion", _("Conclusion")), ("resolution", _("Resolution"))],
               _ver_query, _ver_row, [("year", _("Year")), ("sector", _("Sector")), ("province", _("Province")), ("conclusion", _("Conclusion"))],
               key=lambda r: str(r.pk), get=_ver_get, links={"entity": "_org"}),
    PublicList("surrender", _("Surrender status"),
               _("Whether each entity surrendered in full by the deadline; shown only for years whose deadline has passed (Measures Art. 35(8))."),
               [("year", _("Year")), ("entity", _("Entity")), ("uscc", _("Credit code")), ("province", _("Province")), ("status", _("Status"))],
               _surrender_query, _surrender_row, [("year", _("Year")), ("province", _("Province"))],
               key=lambda r: f"{r['year']}-{r['entity'].uscc}", links={"entity": "_org"},
               get=lambda k: next((r for r in _surrender_query({"year": k.split("-", 1)[0]}) if f"{r['year']}-{r['entity'].uscc}" == k), None)),
    PublicList("verifier-evaluations", _("Verifier evaluations"),
               _("Published yearly evaluations of verification bodies: timeliness, compliance and quality (环办气候函〔2025〕140号 §二(九))."),
               [("year", _("Year")), ("province", _("Province")), ("body", _("Verification body")), ("uscc", _("Credit code")),
                ("verifications", _("Verifications")), ("timeliness", _("Timeliness")), ("compliance", _("Compliance")), ("quality", _("Quality")),
                ("spot_checks", _("Spot checks")), ("flagged", _("Flagged")), ("published_on", _("Published"))],
               lambda p: selectors.public_evaluations(year=_int(p.get("year", "")), search=p.get("q", "")), _eval_row, [("year", _("Year"))],
               key=lambda e: str(e.pk), get=_eval_get, links={"body": "_org"}),
    PublicList("credit-records", _("Credit records"), _("Credit records of key emitting entities and verification bodies (Measures Art. 38)."),
               [("recorded_on", _("Date")), ("subject", _("Organisation name")), ("uscc", _("Credit code")), ("province", _("Province")), ("kind", _("Kind")),
                ("reason", _("Reason")), ("source_reference", _("Source reference")), ("authority", _("Authority"))],
               lambda p: selectors.public_credit_records(search=p.get("q", ""), kind=p.get("kind", ""), province=p.get("province", "")), _credit_row,
               [("kind", _("Kind")), ("province", _("Province"))], key=lambda c: str(c.pk), get=_by_pk(CreditRecord), links={"subject": "_org"}),
    PublicList("blacklist", _("Blacklist"),
               _("Organisations on the blacklist for serious breaches of trust, with the decision, the period and its effect (Measures Art. 49)."),
               [("subject", _("Organisation name")), ("uscc", _("Credit code")), ("effect", _("Effect")), ("decision_reference", _("Decision reference")),
                ("reason", _("Reason")), ("starts_on", _("Period from")), ("ends_on", _("Period until")), ("lifted_on", _("Lifted"))],
               lambda p: selectors.public_blacklist(search=p.get("q", ""), effect=p.get("effect", ""), current_only=p.get("current") == "1"), _black_row,
               [("effect", _("Effect")), ("current", _("In force only (1)"))], key=lambda b: str(b.pk), get=_by_pk(BlacklistEntry), links={"subject": "_org"}),
    PublicList("false-reporting", _("False reporting findings"),
               _("Findings of false or falsified emission data, with the article applied, the lawful fine range and the fine (CNY), "
                 "and the allocation cut (Measures Art. 43; Regulations Art. 22, 23)."),
               [("decided_on", _("Date")), ("subject", _("Organisation name")), ("uscc", _("Credit code")), ("province", _("Province")), ("year", _("Year")),
                ("rules", _("Article applied")), ("decision_reference", _("Decision reference")), ("facts", _("Facts")),
                ("fine_range", _("Fine range (CNY)")), ("fine", _("Fine (CNY)")), ("allocation_cut_t", _("Allocation cut (t)"))],
               _finding_query, _finding_row, [("year", _("Year"))], key=lambda f: str(f.pk), get=_by_pk(FalseReportingFinding), links={"subject": "_org"}),
    PublicList("allocation", _("Allocation against verified emissions"),
               _("Σ final allocation and Σ verified emissions of a year, by province or by sector (tonnes CO2e)."),
               [("year", _("Year")), ("group", _("Group")), ("allocation_t", _("Final allocation (t)")), ("verified_t", _("Verified emissions (t)")),
                ("difference_t", _("Allocation − emissions (t)"))],
               _alloc_query, _alloc_row, [("year", _("Year")), ("by", _("By (province | sector)"))]),
    PublicList("retired-serials", _("Retired serial numbers"),
               _("Blocks of CCER serial numbers retired by offset surrender, voluntary cancellation or deduction: project, vintage, range and "
                 "date (serial format: the platform's own, unconfirmed — cets.registry.serials)."),
               [("retired_on", _("Retired on")), ("block", _("Serial block")), ("quantity_t", _("Quantity (t)")), ("project", _("Project code")),
                ("project_name", _("Project")), ("vintage", _("Vintage")), ("retirement", _("Retired into")), ("retired_by", _("Retired by"))],
               lambda p: registry_selectors.retired_blocks(q=p.get("q", "")), _retired_row, [], key=lambda b: str(b.pk), get=_retired_get),
    PublicList("stabilisation", _("Market stabilisation decisions"),
               _("The national authority's decisions on the national reserve (funding, sales by auction, buy-back) and on the alerts "
                 "of the market adjustment triggers (draft Measures Art. 9, 23). Prices in CNY per tonne."),
               [("decided_on", _("Decided")), ("what", _("Decision on")), ("unit_type", _("Unit type")), ("quantity_t", _("Quantity (t)")),
                ("price_yuan", _("Price (CNY/t)")), ("buyers_sellers", _("Buyers or sellers")), ("decision_reference", _("Decision reference")),
                ("decision", _("Decision"))],
               _stabilisation_query, lambda r: r, []),
]}
