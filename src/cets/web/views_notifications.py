"""The notifications of the signed-in user's organisation (``/notifications/``: every movement of its units and
whatever another context told it; mark read), part of the shell. Writes go through :mod:`cets.parties.notifications`.
The holder protection pages (``/holder/``) are the registry's: :mod:`cets.registry.views.holder`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from cets.core.errors import CetsError
from cets.core.labels import say
from cets.core.quantities import is_digits
from cets.parties.notifications import notification_mark_read, notifications_for
from cets.parties.security import refused

from .views import _context


@require_safe
@login_required
def notifications(request):
    """The user's notifications, newest first, 50 a page (``?unread=1``: unread only)."""
    unread = request.GET.get("unread") == "1"
    from django.core.paginator import Paginator

    page = Paginator(notifications_for(user=request.user, unread_only=unread, limit=None), 50).get_page(request.GET.get("page"))
    return render(request, "web/notifications.html", _context(request, items=page.object_list, page=page, unread=unread,
                                                              query="unread=1&" if unread else ""))


@require_POST
@login_required
def notifications_read(request):
    """Mark one notification (``id``) or all (no ``id``) read."""
    raw = request.POST.get("id", "")
    ids = [int(raw)] if is_digits(raw) and len(raw) < 19 else None
    try:
        n = notification_mark_read(user=request.user, ids=ids)
    except CetsError as e:
        refused(request, e)
        messages.error(request, say(request, e))
        return redirect("web:notifications")
    messages.success(request, _("%(n)d marked read") % {"n": n})
    return redirect("web:notifications")
