"""Compliance documents (reads only): the compliance notice (履约通知书) and the compliance certificate
(履约完成证明) as bilingual HTML and PDF (WeasyPrint, imported lazily, Noto CJK fonts embedded as subsets).

Raises R0701 (the registry's check) when WeasyPrint or its system libraries are missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.template.loader import render_to_string

from cets.core.errors import CetsError
from cets.registry.reports import R0701
from cets.rules.packs import load_pack

from .models import ComplianceCertificate, ComplianceNotice
from .status import LABELS

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class OffsetRules:
    """The CCER offset rules a notice states, from the obligation's pack (plan §五(三); Measures Art. 29)."""

    cap_share_pct: str
    cap_t: int
    usable_vintages: list
    old_filed_before: str
    old_usable_until: str
    new_registered_from: str


def offset_rules(notice: ComplianceNotice) -> OffsetRules:
    ob = notice.obligation
    pack = load_pack(ob.pack_id)
    y = f"compliance.{ob.year}"
    return OffsetRules(cap_share_pct=f"{pack.decimal(f'{y}.offset_cap') * 100:f}".rstrip("0").rstrip("."), cap_t=notice.offset_cap_t,
                       usable_vintages=list(pack.raw(f"{y}.usable_vintages")), old_filed_before=pack.text(f"{y}.old_ccer_cutoff_filed_before"),
                       old_usable_until=pack.text(f"{y}.old_ccer_usable_until"), new_registered_from=pack.text(f"{y}.new_ccer_registered_from"))


def notice_html(notice: ComplianceNotice) -> str:
    """The notice as self-contained HTML (template ``compliance/notice_pdf.html``)."""
    return render_to_string("compliance/notice_pdf.html", {"n": notice, "ob": notice.obligation, "e": notice.obligation.entity,
                                                            "rules": offset_rules(notice), "pack": load_pack(notice.obligation.pack_id),
                                                            "issued": notice.issued_at.astimezone(SHANGHAI)})


def certificate_html(cert: ComplianceCertificate) -> str:
    """The certificate as self-contained HTML (template ``compliance/certificate_pdf.html``)."""
    return render_to_string("compliance/certificate_pdf.html", {"c": cert, "ob": cert.obligation, "e": cert.obligation.entity,
                                                                 "outcome": LABELS.get(cert.outcome, (cert.outcome, cert.outcome)),
                                                                 "issued": cert.issued_at.astimezone(SHANGHAI)})


def _pdf(html: str) -> bytes:
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as e:  # OSError: cffi could not load Pango / HarfBuzz / fontconfig
        raise CetsError(R0701, f"{type(e).__name__}: {e}") from None
    return HTML(string=html, url_fetcher=_no_fetch).write_pdf()


def notice_pdf(notice: ComplianceNotice) -> bytes:
    """履约通知书 as PDF bytes."""
    return _pdf(notice_html(notice))


def certificate_pdf(cert: ComplianceCertificate) -> bytes:
    """履约完成证明 as PDF bytes."""
    return _pdf(certificate_html(cert))


def _no_fetch(url: str, *args, **kwargs):
    raise ValueError(f"compliance PDFs fetch no resources: {url[:80]}")
