"""The registry's pages (mounted from :mod:`cets.urls` through :mod:`cets.registry.urls`, app ``registry``):

- :mod:`.operations` — ``/registry/``: operation forms, the four-eyes review-then-sign of proposals, serial
  blocks, the public changes of holder;
- :mod:`.applications` — account opening (``/registry/apply/``, ``/registry/applications/…``);
- :mod:`.holder` — holder protection (``/holder/``: trusted account list and delayed transfers).

The pages extend the shell's ``web/base.html`` (a template name, not an import). Registry steps that call a
higher context (surrender, carry-over, forced surrender: compliance) are served by ``cets.compliance.views_registry``
at the same ``/registry/<action>/`` paths (the layer rule: registry never imports compliance).
"""

from __future__ import annotations

from cets.parties.access import viewer_of


def _context(request, **extra) -> dict:
    """What ``web/base.html`` needs (the viewer, for navigation) plus ``extra``."""
    return {"viewer": viewer_of(request.user), **extra}
