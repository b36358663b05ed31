"""Compliance pages (included from cets.urls)."""

from django.urls import path

from . import views

app_name = "compliance"
urlpatterns = [
    path("public/penalties/", views.penalties_public, name="penalties_public"),
    path("compliance/<int:year>/", views.overview, name="overview"),
    path("compliance/<int:year>/notices/issue/", views.notices_issue, name="notices_issue"),
    path("compliance/surrenders/", views.surrenders, name="surrenders"),
    path("compliance/surrenders/<int:application_id>/<str:action>/", views.surrender_decide, name="surrender_decide"),
    path("compliance/notices/<int:notice_id>/", views.notice_page, name="notice"),
    path("compliance/notices/<int:notice_id>/pdf/", views.notice_pdf, name="notice_pdf"),
    path("compliance/certificates/<int:certificate_id>/pdf/", views.certificate_pdf, name="certificate_pdf"),
    path("compliance/<int:year>/summary/<str:province>.xlsx", views.summary_xlsx, name="summary_xlsx"),
    path("compliance/<int:year>/monitoring/", views.monitoring, name="monitoring"),
    path("compliance/obligations/<int:obligation_id>/", views.obligation_page, name="obligation"),
    path("compliance/obligations/<int:obligation_id>/<str:action>/", views.obligation_action, name="obligation_action"),
]
