"""Account opening pages for individuals and institutions (draft Measures Art. 14, 18; issue 17).

- ``/registry/apply/`` — public (no login): the application form with its KYC fields, documents (PDF/JPEG/PNG,
  bounded: the size is checked before a byte is read) and the login the applicant chooses. A registry operator
  who is signed in uses the same form to enter an application for a person at the counter.
- ``/registry/applications/`` — registry operators: search (a person's *whole* identity number, a name, a credit
  code or a reference) and the list; ``/registry/applications/<ref>/`` the review (identity number masked,
  KYC fields, documents), where the reviewer proposes approval or rejects. Approval is the four-eyes proposal
  ``account_application`` decided by a second operator on the registry page.

Writes need a session verified with TOTP (R0505), like every registry operation. No page shows an identity
number unmasked.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cets.core.checks import S0201
from cets.core.errors import CetsError
from cets.core.exports import local_minute, wants_xlsx, xlsx_or_refusal
from cets.core.labels import choice_label, say
from cets.core.resident_id import mask
from cets.core.uploads import DOCUMENT_MAX_BYTES
from cets.parties.access import membership_of
from cets.parties.models import Role
from cets.parties.security import refused
from cets.registry import services
from cets.registry.checks import R0505
from cets.registry.forms import ApplicationForm
from cets.registry.models import AccountApplication, ApplicationDocument
from cets.registry.services.applications import DOCUMENT_KINDS, KYC_FIELDS, KYC_LABELS

from . import _context

APPLICATIONS_PAGE = 50
RESIDENT_ID_LIKE = re.compile(r"^[0-9]{17}[0-9Xx]$")



def _documents(files) -> list:
    """``(kind, name, bytes)`` of the uploaded documents; S0201 for one over the limit, refused before it is read."""
    out = []
    for kind in DOCUMENT_KINDS:
        f = files.get(kind)
        if f is None:
            continue
        if f.size > DOCUMENT_MAX_BYTES:
            raise CetsError(S0201, f"{f.name[:60]}: {f.size} > {DOCUMENT_MAX_BYTES} bytes")
        out.append((kind, f.name, f.read()))
    return out


@require_http_methods(["GET", "POST"])
def apply(request):
    """The application form (public). POST records the application and shows its reference."""
    ctx = _context(request) if request.user.is_authenticated else {}
    m = membership_of(request.user)
    operator = m is not None and m.role == Role.REGISTRY_OPERATOR
    form = ApplicationForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if operator and not request.user.is_verified():
            refused(request, CetsError(R0505))
            messages.error(request, say(request, CetsError(R0505)))
        elif form.is_valid():
            d = form.cleaned_data
            kind = d["holder_kind"]
            try:
                docs = _documents(request.FILES)
                app = services.application_submit(
                    holder_kind=kind, name=d["name"], resident_id=d["resident_id"] or None if kind == "individual" else None,
                    uscc=d["uscc"] or None if kind == "institution" else None,
                    kyc={**{f: d[f] for f in KYC_FIELDS[kind]}, "risk_acknowledged": d["risk_acknowledged"]},
                    username=d["username"], password=d["password"], documents=docs,
                    actor=request.user if operator else None)
            except CetsError as e:
                messages.error(request, say(request, e))
            else:
                messages.success(request, _("Application %(ref)s received. The registry reviews it; you can log in with your login name "
                                            "once the account is opened.") % {"ref": app.reference})
                return redirect("registry:apply")
        else:
            messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
        form = ApplicationForm(initial={k: v for k, v in request.POST.items() if k not in ("password", "resident_id", "csrfmiddlewaretoken")})
    ctx.update(form=form, operator=operator, max_mb=DOCUMENT_MAX_BYTES // (1024 * 1024))
    return render(request, "registry/apply.html", ctx)


def _operator(request):
    m = membership_of(request.user)
    if m is None or m.role != Role.REGISTRY_OPERATOR:
        from cets.parties.access import DENIED

        refused(request, CetsError(DENIED, request.user.get_username()))
        raise Http404
    return m


@require_http_methods(["GET", "POST"])
@login_required
def applications(request):
    """Registry operators: search and list applications. The search is a POST, so an identity number typed into it
    never lands in a URL (server logs, browser history); the page echoes it masked."""
    _operator(request)
    src = request.POST if request.method == "POST" else request.GET
    q, status = src.get("q", "")[:80], src.get("status", "")
    if status not in AccountApplication.Status.values:
        status = ""
    ctx = _context(request)
    shown = mask(q.strip()) if RESIDENT_ID_LIKE.match(q.strip()) else q
    found = services.application_search(actor=request.user, q=q, status=status)
    if wants_xlsx(src):
        resp = xlsx_or_refusal(request, filename="account-applications", columns=[
            _("Reference"), _("Applicant"), _("Name"), _("Identity"), _("Status"), _("Submitted")], rows=(
            [a.reference, a.holder_kind, a.name, a.identifier, choice_label(a.get_status_display()), local_minute(a.submitted_at)]
            for a in found.iterator()))
        if resp is not None:
            return resp
    page = Paginator(found, APPLICATIONS_PAGE).get_page(src.get("page"))
    ctx.update(rows=page.object_list, page=page, q=shown, status=status, statuses=AccountApplication.Status.choices)
    return render(request, "registry/applications.html", ctx)


@require_safe
@login_required
def application_detail(request, reference: str):
    _operator(request)
    try:
        app = services.application_get(reference=reference, actor=request.user)
    except CetsError:
        raise Http404 from None
    ctx = _context(request)
    lang = "zh" if request.LANGUAGE_CODE.startswith("zh") else "en"
    kyc = [((KYC_LABELS[k][0] if lang == "zh" else KYC_LABELS[k][1]), app.kyc.get(k, "")) for k in KYC_FIELDS[app.holder_kind]]
    docs = [(d, DOCUMENT_KINDS.get(d.kind, (d.kind, d.kind))[0 if lang == "zh" else 1]) for d in app.documents.all().only(
        "id", "kind", "file_name", "content_type", "size", "sha256", "uploaded_at")]
    ctx.update(app=app, kyc=kyc, docs=docs, verified=request.user.is_verified())
    return render(request, "registry/application_detail.html", ctx)


@require_safe
@login_required
def application_document(request, reference: str, doc_id: int):
    """A document of an application, for registry operators only, as an attachment (never rendered inline)."""
    _operator(request)
    d = ApplicationDocument.objects.filter(pk=doc_id, application__reference=reference).first()
    if d is None:
        raise Http404
    resp = HttpResponse(bytes(d.data), content_type=d.content_type)
    resp["Content-Disposition"] = f'attachment; filename="document-{d.pk}"'
    resp["X-Content-Type-Options"] = "nosniff"
    return resp


@require_POST
@login_required
def application_decide(request, reference: str):
    """The reviewer proposes approval (four eyes) or rejects."""
    _operator(request)
    if not request.user.is_verified():
        refused(request, CetsError(R0505))
        messages.error(request, say(request, CetsError(R0505)))
        return redirect("registry:application_detail", reference=reference)
    action, note = request.POST.get("action"), request.POST.get("note", "")[:300]
    try:
        if action == "propose":
            p = services.application_propose(reference=reference, actor=request.user, note=note)
            messages.success(request, _("Proposed for approval: %(key)s. A second registry operator approves it on the registry page.") % {"key": p.key})
        elif action == "reject":
            services.application_reject(reference=reference, reason=note or "—", actor=request.user)
            messages.success(request, _("Application rejected."))
        else:
            raise Http404
    except CetsError as e:
        refused(request, e)
        messages.error(request, say(request, e))
    return redirect("registry:application_detail", reference=reference)
