"""Holder protection pages for an entity's or a trader's users: the trusted account list and the delayed transfers
(``/holder/``). Writes go through :mod:`cets.registry.services.protection`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from cets.core.errors import CetsError
from cets.core.labels import say
from cets.core.quantities import is_digits
from cets.parties.access import membership_of
from cets.parties.security import refused

from . import _context

# ---------------------------------------------------------------- the trusted account list and delayed transfers

def _holder_page(request, **extra):
    from cets.registry import selectors as reg
    from cets.registry.services import delayed_transfers_of, trusted_accounts_of

    viewer = _context(request)["viewer"]
    org = viewer.organisation
    account = reg.account_of(holder_id=org.pk) if org is not None else None
    accounts, openable = _market_accounts(org)
    return render(request, "registry/holder.html", _context(request, account=account, trusted=trusted_accounts_of(user=request.user),
                                                       delayed=delayed_transfers_of(user=request.user), now=timezone.now(),
                                                       accounts=accounts, openable=openable, **extra))


def _market_accounts(org) -> tuple[list, list]:
    """The holder's accounts in every market, and the markets where an individual or institution may still open one
    (the market offers its kind: ``market.toml`` ``account_kinds``)."""
    from cets.registry.models import Account
    from cets.rules.markets import markets

    if org is None:
        return [], []
    accounts = list(Account.objects.filter(holder=org).order_by("market"))
    if org.kind not in ("individual", "institution"):
        return accounts, []
    have = {a.market for a in accounts}
    return accounts, [(m.id, m.name_zh, m.name_en) for m in markets() if m.id not in have and org.kind in m.account_kinds]


@require_safe
@login_required
def holder(request):
    """Holder protection for an entity's or a trader's users: the trusted account list (add, remove; when each entry
    becomes active) and the transfer instructions (pending ones can be cancelled until they are due)."""
    return _holder_page(request)


@require_POST
@login_required
def holder_action(request, action: str):
    """``trusted_add`` (``trusted_account``), ``trusted_remove`` (``id``), ``cancel`` (``id``): through the registry's
    services; refusals show their code. A session not verified with the user's TOTP device: R0505."""
    from cets.parties.access import second_factor_missing
    from cets.registry import selectors as reg
    from cets.registry import services
    from cets.registry.checks import R0101, R0505

    raw = request.POST.get("id", "")
    pk = int(raw) if is_digits(raw) and len(raw) < 19 else 0
    try:
        if second_factor_missing(request.user):
            raise CetsError(R0505)
        if action == "trusted_add":
            m = membership_of(request.user)
            account = reg.account_of(holder_id=m.organisation_id) if m is not None else None
            if account is None:
                raise CetsError(R0101, "—")
            e = services.trusted_account_add(account=account, trusted_number=request.POST.get("trusted_account", "")[:40], actor=request.user)
            done = f"{e.trusted.number} → {timezone.localtime(e.active_from):%Y-%m-%d %H:%M}"
        elif action == "trusted_remove":
            done = services.trusted_account_remove(entry_id=pk, actor=request.user).trusted.number
        elif action == "cancel":
            done = services.delayed_transfer_cancel(transfer_id=pk, actor=request.user).key
        elif action == "market_open":
            m = membership_of(request.user)
            if m is None:
                raise CetsError(R0101, "—")
            done = services.market_account_open(holder=m.organisation, market=request.POST.get("market", "")[:16], actor=request.user).number
        else:
            raise Http404
    except CetsError as e:
        refused(request, e)
        messages.error(request, say(request, e))
        return redirect("registry:holder")
    messages.success(request, _("Done: %(what)s") % {"what": done})
    return redirect("registry:holder")
