"""Registry operation pages. GET shows the forms; each POST validates its form, calls one registry
service, reports the outcome (with the check code when refused) and redirects (post/redirect/get).

Registry operators act only in a session verified with their TOTP device; holders act on their own
account. Every service applies its own role, jurisdiction and business checks again.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST

from cets.core.errors import CetsError
from cets.core.labels import say
from cets.parties.access import membership_of, second_factor_missing
from cets.parties.models import Role
from cets.parties.security import refused, run
from cets.registry import forms, services
from cets.registry import selectors as reg
from cets.registry.checks import R0101, R0201, R0505
from cets.registry.models import Account, Proposal, Transfer, UnitType
from cets.registry.protection import SHANGHAI
from cets.registry.review import KIND_WORDS, proposal_summary
from cets.registry.signing import signing_refusal

from . import _context

OPERATOR_FORMS = {"vintage": forms.VintageForm, "issuance": forms.IssuanceForm, "freeze": forms.FreezeForm, "release": forms.FreezeForm,
                  "cancellation": forms.HeldForm, "deduction": forms.HeldForm, "reversal": forms.ReversalForm,
                  "forced_surrender": forms.ForcedSurrenderForm, "holder_change": forms.HolderChangeForm,
                  "account_close": forms.AccountCloseForm}
HOLDER_FORMS = {"transfer": forms.TransferForm, "position": forms.PositionMoveForm, "surrender": forms.SurrenderForm,
                "carry_over": forms.CarryOverForm, "cancellation": forms.HeldForm}
PENDING_SHOWN = 50  # a page of them, the oldest first; the page says how many there are in all
# Posted to the same /registry/<action>/ paths but routed to cets.compliance.views_registry (they call compliance).
COMPLIANCE_STEPS = ("surrender", "carry_over", "forced_surrender")
TITLES = {
    "vintage": _lazy("Create a vintage and its cap"), "issuance": _lazy("Propose issuance or claw-back"),
    "freeze": _lazy("Judicial freeze"), "release": _lazy("Release frozen units"), "cancellation": _lazy("Voluntary cancellation"),
    "deduction": _lazy("Propose deduction"), "reversal": _lazy("Propose reversal"), "forced_surrender": _lazy("Propose forced surrender"),
    "holder_change": _lazy("Register a change of holder"), "transfer": _lazy("Transfer to another account"),
    "position": _lazy("Move between registry and trading positions"), "surrender": _lazy("Apply to surrender"),
    "carry_over": _lazy("Apply for carry-over into 2025"), "account_close": _lazy("Propose closing an empty account"),
}


def _key() -> str:
    return f"web-{uuid.uuid4()}"


def _unit_type(code: str) -> UnitType:
    ut = UnitType.objects.filter(code=code.strip()).first()
    if ut is None:
        raise CetsError(R0201, code)
    return ut


def organisation_by_code(uscc: str):
    from cets.parties.models import Organisation

    org = Organisation.objects.filter(uscc=uscc.strip().upper()).first()
    if org is None:
        raise CetsError(R0101, uscc)
    return org


def _account(number: str) -> Account:
    acc = Account.objects.filter(number=number.strip()).first()
    if acc is None:
        raise CetsError(R0101, number)
    return acc


@require_http_methods(["GET"])
@login_required
def registry_page(request):
    ctx = _context(request)
    m = membership_of(request.user)
    if m is None:
        return render(request, "web/no_role.html", ctx)
    operator = m.role == Role.REGISTRY_OPERATOR
    ctx.update(operator=operator, verified=request.user.is_verified())
    pending = None
    if m.role == Role.PROVINCIAL_AUTHORITY:  # changes of holder in its province wait on its approval
        # and a pilot market's free allocation its bureau proposed (a second bureau user signs it)
        pending = Proposal.objects.filter(status=Proposal.Status.PROPOSED, kind__in=("holder_change", "free_allocation"), payload__province=m.province)
    if operator:
        pending = Proposal.objects.filter(status=Proposal.Status.PROPOSED)
    if pending is not None:  # review-then-sign: each with its readable summary (review.py)
        zh = request.LANGUAGE_CODE.startswith("zh")
        page = Paginator(pending.select_related("proposed_by").order_by("proposed_at", "pk"), PENDING_SHOWN).get_page(request.GET.get("page"))
        ctx["pending"] = [proposal_summary(p, zh=zh) for p in page.object_list]
        ctx["pending_total"], ctx["pending_page"] = page.paginator.count, page
    if operator:
        ctx["op_forms"] = [(name, TITLES[name], cls(initial={"key": _key()})) for name, cls in OPERATOR_FORMS.items()]
        from cets.registry.models import AccountApplication

        ctx["applications_waiting"] = AccountApplication.objects.filter(status=AccountApplication.Status.SUBMITTED).count()
    else:
        acc = reg.account_of(holder_id=m.organisation_id)
        ctx["account"] = acc  # authorities hold no account: the page says so
        if acc is not None:
            ctx["holdings"] = reg.holdings_of(account=acc)
            ctx["holder_forms"] = [(name, TITLES[name], cls(initial={"key": _key(), "account": acc.number})) for name, cls in HOLDER_FORMS.items()]
    return render(request, "registry/registry.html", ctx)


def outcome(out) -> str:
    """The message that says what happened: proposed and waiting for approval; executed; rejected; done."""
    if isinstance(out, Proposal):
        zh, en = KIND_WORDS.get(out.kind, (out.kind, out.kind))
        words = zh if translation.get_language().startswith("zh") else en
        if out.status == Proposal.Status.PROPOSED:
            return _("Proposed and waiting for a second approval: %(kind)s %(key)s. Nothing is executed until another person signs it.") % {
                "kind": words, "key": out.key}
        if out.status == Proposal.Status.EXECUTED:
            return _("Signed and executed: %(kind)s %(key)s.") % {"kind": words, "key": out.key}
        return _("Rejected: %(kind)s %(key)s. Nothing was executed; units it held are released.") % {"kind": words, "key": out.key}
    if isinstance(out, Transfer):
        return _("Executed: %(key)s, %(quantity)s t.") % {"key": out.key, "quantity": f"{out.quantity:,}"}
    if isinstance(out, str):
        return out
    return _("Done: %(what)s") % {"what": out}


def second_factor_refused(request) -> bool:
    """True (and R0505 shown and recorded) when the session is not verified with the user's TOTP device."""
    if not second_factor_missing(request.user):
        return False
    refused(request, CetsError(R0505))
    messages.error(request, say(request, CetsError(R0505)))
    return True


def form_refused(request, f) -> None:
    messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in f.errors.items()))


@require_POST
@login_required
def registry_action(request, action: str):
    m = membership_of(request.user)
    if m is None:
        raise Http404
    operator = m.role == Role.REGISTRY_OPERATOR
    if second_factor_refused(request):
        return redirect("registry:registry")
    user = request.user
    if action == "decide" and (operator or m.role == Role.PROVINCIAL_AUTHORITY):  # the service checks who may decide which kind
        f = forms.DecisionForm(request.POST)
        if not f.is_valid():
            form_refused(request, f)
            return redirect("registry:registry")
        pid = f.cleaned_data["proposal"]
        if f.cleaned_data["decision"] == "approve":
            # review-then-sign: the approver's own TOTP code, verified before anything is executed
            check = signing_refusal(user, f.cleaned_data["otp_token"])
            if check is not None:
                e = CetsError(check, f"proposal {pid}")
                refused(request, e)
                messages.error(request, say(request, e))
                return redirect("registry:registry")
            run(request, lambda: services.proposal_approve(proposal_id=pid, approver=user), done=outcome)
        else:
            run(request, lambda: services.proposal_reject(proposal_id=pid, approver=user, reason=f.cleaned_data["reason"] or "—"), done=outcome)
        return redirect("registry:registry")
    table = OPERATOR_FORMS if operator else HOLDER_FORMS
    if action not in table or action in COMPLIANCE_STEPS:
        raise Http404
    f = table[action](request.POST)
    if not f.is_valid():
        form_refused(request, f)
        return redirect("registry:registry")
    d = f.cleaned_data
    own = None if operator else reg.account_of(holder_id=m.organisation_id)

    def do():
        if action == "transfer":
            # holder protection: only to the trusted account list, held now, executed after the pack's delay (/holder/)
            t = services.transfer_instruct(key=d["key"], from_account=own, to_account=_account(d["to_account"]), unit_type=_unit_type(d["unit_type"]),
                                           quantity=d["quantity"], actor=user, reference=d["reference"] or "变更 transfer")
            return _("Transfer instructed: %(key)s. The units are held and move at %(due)s unless you cancel it on the holder protection page.") % {
                "key": t.key, "due": f"{t.due_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"}
        if action == "position":
            return services.position_move(key=d["key"], account=own, unit_type=_unit_type(d["unit_type"]), from_position=d["from_position"],
                                          to_position=d["to_position"], quantity=d["quantity"], actor=user)
        if action == "cancellation":
            acc = own if own is not None else _account(d["account"])
            return services.cancellation_propose(key=d["key"], account=acc, unit_type=_unit_type(d["unit_type"]), quantity=d["quantity"],
                                                 purpose=d["reason"], actor=user)
        if action == "deduction":
            return services.deduction_propose(key=d["key"], account=_account(d["account"]), unit_type=_unit_type(d["unit_type"]),
                                              quantity=d["quantity"], decision_ref=d["reason"], actor=user)
        if action == "freeze":
            return services.judicial_freeze(key=d["key"], account=_account(d["account"]), unit_type=_unit_type(d["unit_type"]),
                                            quantity=d["quantity"], court_ref=d["court_ref"], actor=user)
        if action == "release":  # four eyes: a proposal a second operator approves
            return services.freeze_release_propose(key=d["key"], account=_account(d["account"]), unit_type=_unit_type(d["unit_type"]),
                                                   quantity=d["quantity"], court_ref=d["court_ref"], actor=user)
        if action == "vintage":
            from cets.parties.access import require_role

            require_role(user, Role.REGISTRY_OPERATOR)
            return services.vintage_create_propose(instrument=d["instrument"], vintage=d["vintage"], cap_t=d["cap_t"], key=d["key"],
                                                   actor=user)
        if action == "issuance":
            line = services.IssuanceLine(account=d["account"].strip(), quantity=d["quantity"], reference=d["reason"],
                                         beneficiary=d["beneficiary"].strip())
            return services.issuance_propose(key=d["key"], unit_type=_unit_type(d["unit_type"]), lines=[line], actor=user)
        if action == "holder_change":  # the old holder's province approves it on this page (four eyes across institutions)
            lines = [(_unit_type(d["unit_type"]), d["quantity"])] if d["kind"] == "split" and d["unit_type"] and d["quantity"] else []
            return services.holder_change_propose(key=d["key"], kind=d["kind"], from_holder=organisation_by_code(d["from_uscc"]),
                                                  to_holder=organisation_by_code(d["to_uscc"]),
                                                  lines=lines, decision_ref=d["reason"], actor=user)
        if action == "account_close":
            return services.account_close_propose(key=d["key"], account=_account(d["account"]), actor=user)
        return services.reversal_propose(key=d["key"], transfer_key=d["transfer_key"], reason=d["reason"], actor=user)

    run(request, do, done=outcome)
    return redirect("registry:registry")


@require_http_methods(["GET"])
def holder_changes_public(request):
    """Published changes of holder (Measures Art. 18): public, no login; 50 a page (every one reachable), filtered by
    kind and by a holder's name or credit code (``q``)."""
    from django.core.paginator import Paginator
    from django.db.models import Q
    from django.utils.http import urlencode

    from cets.registry.models import HolderChange

    kind = request.GET.get("kind", "")
    kind = kind if kind in HolderChange.Kind.values else ""
    q = request.GET.get("q", "").strip()[:80]
    changes = HolderChange.objects.select_related("from_holder", "to_holder").order_by("-published_at", "-pk")
    if kind:
        changes = changes.filter(kind=kind)
    if q:
        changes = changes.filter(Q(from_holder__name__icontains=q) | Q(to_holder__name__icontains=q) | Q(from_holder__uscc=q.upper())
                                 | Q(to_holder__uscc=q.upper()) | Q(decision_ref__icontains=q))
    query = urlencode({k: v for k, v in {"kind": kind, "q": q}.items() if v})
    return render(request, "registry/holder_changes.html", {
        "changes": Paginator(changes, 50).get_page(request.GET.get("page")), "kind": kind, "q": q, "kinds": HolderChange.Kind.choices,
        "query": query + "&" if query else ""})


@login_required
def registry_blocks(request, serial: str = ""):
    """The history of a CCER serial or block (issuance, each transfer, surrender or cancellation) on one page;
    a holder also sees the blocks its account holds. Who sees which serial: :func:`cets.registry.selectors.serial_history_for`."""
    serial = serial or request.GET.get("serial", "").strip()
    ctx = _context(request)
    ctx.update(serial=serial, history=None, blocks=[])
    m = membership_of(request.user)
    if m is not None:
        ctx["blocks"] = [b for acc in Account.objects.filter(holder_id=m.organisation_id) for b in reg.blocks_of(account=acc)]
    if serial:
        try:
            ctx["history"] = reg.serial_history_for(user=request.user, text=serial)
        except CetsError as e:
            refused(request, e)
            ctx["error"] = say(request, e)
    return render(request, "registry/registry_block.html", ctx)
