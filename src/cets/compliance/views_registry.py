"""The compliance steps made from the registry page (``/registry/``): an entity's surrender application and its
carry-over application, and the registry operator's forced surrender proposal. They call compliance services,
so they live here rather than in :mod:`cets.registry.views` (registry is a lower layer and never imports
compliance); the forms are the registry's (:mod:`cets.registry.forms`), the paths stay ``/registry/<action>/``.
Refusals show their check code; a session without a verified TOTP factor: R0505."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cets.parties.access import membership_of
from cets.parties.models import Role
from cets.registry import forms
from cets.registry import selectors as reg
from cets.registry.views.operations import form_refused, organisation_by_code, outcome, run, second_factor_refused

from .services import carry_over_apply, forced_surrender_propose, surrender_submit

ACTIONS = ("surrender", "carry_over", "forced_surrender")
FORMS = {"surrender": forms.SurrenderForm, "carry_over": forms.CarryOverForm, "forced_surrender": forms.ForcedSurrenderForm}


@require_POST
@login_required
def registry_compliance_action(request, action: str):
    """``surrender`` and ``carry_over`` by a holder on its own account; ``forced_surrender`` by a registry operator."""
    m = membership_of(request.user)
    if m is None or action not in FORMS or (action == "forced_surrender") != (m.role == Role.REGISTRY_OPERATOR):
        raise Http404
    if second_factor_refused(request):
        return redirect("registry:registry")
    f = FORMS[action](request.POST)
    if not f.is_valid():
        form_refused(request, f)
        return redirect("registry:registry")
    d, user = f.cleaned_data, request.user

    def do():
        if action == "forced_surrender":
            return forced_surrender_propose(key=d["key"], entity=organisation_by_code(d["entity_uscc"]), year=d["year"],
                                            instruction_ref=d["reason"], actor=user)
        own = reg.account_of(holder_id=m.organisation_id)
        if own is None:
            raise Http404
        if action == "surrender":
            a = surrender_submit(key=d["key"], entity=own.holder, year=d["year"], unit_type_code=d["unit_type"].strip(),
                                 quantity=d["quantity"], actor=user)
            return _("Surrender applied for and waiting for approval: %(key)s, %(quantity)s t held until the authority decides.") % {
                "key": a.key, "quantity": f"{d['quantity']:,}"}
        a = carry_over_apply(key=d["key"], entity=own.holder, unit_type_code=d["unit_type"].strip(), quantity=d["quantity"], actor=user)
        return _("Carry-over applied for and waiting for approval: %(key)s, %(quantity)s t.") % {"key": a.key, "quantity": f"{d['quantity']:,}"}

    run(request, do, done=outcome)
    return redirect("registry:registry")
