from django.contrib import admin
from django.urls import include, path

from cets.api import api
from cets.web.admin_site import CetsAdminSite

# The default admin site (where every app registers its models) asks for the TOTP code of users with a device.
admin.site.__class__ = CetsAdminSite

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("cets.compliance.urls")),  # first: its /registry/<compliance step>/ paths win over the registry's
    path("", include("cets.registry.urls")),
    path("trading/", include("cets.trading.urls")),
    path("parties/", include("cets.parties.urls")),
    path("mrv/", include("cets.mrv.urls")),
    path("allocation/", include("cets.allocation.urls")),
    path("", include("cets.web.urls")),
    path("", include("cets.supervision.urls")),  # after registry: /public/holder-changes/ and /public/penalties/ stay theirs
]
