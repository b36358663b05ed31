"""Registry pages (included from cets.urls at the root, so the paths are those of before the move out of ``web``).
The compliance steps reached from the registry page (``/registry/surrender/``, ``/registry/carry_over/``,
``/registry/forced_surrender/``) are routed by :mod:`cets.compliance.urls`, which is included first."""

from django.urls import path

from .views import applications, holder, lookups, operations

app_name = "registry"
urlpatterns = [
    path("holder/", holder.holder, name="holder"),
    path("holder/<str:action>/", holder.holder_action, name="holder_action"),
    path("registry/", operations.registry_page, name="registry"),
    path("registry/apply/", applications.apply, name="apply"),
    path("registry/applications/", applications.applications, name="applications"),
    path("registry/applications/<str:reference>/", applications.application_detail, name="application_detail"),
    path("registry/applications/<str:reference>/decide/", applications.application_decide, name="application_decide"),
    path("registry/applications/<str:reference>/documents/<int:doc_id>/", applications.application_document, name="application_document"),
    path("public/holder-changes/", operations.holder_changes_public, name="holder_changes"),
    path("registry/blocks/", operations.registry_blocks, name="registry_blocks"),
    path("registry/blocks/<str:serial>/", operations.registry_blocks, name="registry_block"),
    path("registry/lookup/accounts/", lookups.lookup_accounts, name="lookup_accounts"),
    path("registry/lookup/unit-types/", lookups.lookup_unit_types, name="lookup_unit_types"),
    path("registry/<str:action>/", operations.registry_action, name="registry_action"),
]
