"""Compliance pages (included from cets.urls)."""

from django.urls import path

from . import views, views_registry

app_name = "compliance"
urlpatterns = [
    # the compliance steps on the registry page (same paths as before; before the registry's registry/<action>/)
    *[path(f"registry/{a}/", views_registry.registry_compliance_action, {"action": a}, name=f"registry_{a}") for a in views_registry.ACTIONS],
    path("public/penalties/", views.penalties_public, name="penalties_public"),
    path("compliance/<int:year>/", views.overview, name="overview"),
    path("compliance/<int:year>/notices/issue/", views.notices_issue, name="notices_issue"),
    path("compliance/surrenders/", views.surrenders, name="surrenders"),
    path("compliance/reporting/", views.reporting, name="reporting"),
    path("compliance/surrenders/<int:application_id>/<str:action>/", views.surrender_decide, name="surrender_decide"),
    path("compliance/notices/<int:notice_id>/", views.notice_page, name="notice"),
    path("compliance/notices/<int:notice_id>/pdf/", views.notice_pdf, name="notice_pdf"),
    path("compliance/notices/<int:notice_id>/forward/", views.notice_forward, name="notice_forward"),
    path("compliance/obligations/<int:obligation_id>/certificate/", views.certificate_issue, name="certificate_issue"),
    path("compliance/certificates/<int:certificate_id>/pdf/", views.certificate_pdf, name="certificate_pdf"),
    path("compliance/<int:year>/summary/<str:province>.xlsx", views.summary_xlsx, name="summary_xlsx"),
    path("compliance/<int:year>/monitoring/", views.monitoring, name="monitoring"),
    path("compliance/obligations/<int:obligation_id>/", views.obligation_page, name="obligation"),
    path("compliance/obligations/<int:obligation_id>/<str:action>/", views.obligation_action, name="obligation_action"),
]
