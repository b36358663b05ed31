"""Supervision pages (included from cets.urls): the public portal under ``/public/``, the authorities' pages under ``/supervision/``."""

from django.urls import path

from . import views, views_reserve

app_name = "supervision"
urlpatterns = [
    path("public/", views.home, name="public_home"),
    path("public/reports/new/", views.report_new, name="report_new"),
    path("public/reports/", views.report_lookup, name="report_lookup"),
    path("public/reports/<str:receipt>/", views.report_status, name="report_status"),
    path("public/organisations/<str:uscc>/", views.organisation, name="organisation"),
    path("public/<slug:slug>/", views.table, name="table"),
    path("public/<slug:slug>/download.csv", views.table_csv, name="table_csv"),
    path("public/<slug:slug>/<path:key>/", views.item, name="item"),
    path("supervision/", views.dashboard, name="dashboard"),
    path("supervision/whatif/", views.whatif, name="whatif"),
    path("supervision/whatif.xlsx", views.whatif_xlsx, name="whatif_xlsx"),
    path("supervision/reports/<str:receipt>/", views.report_detail, name="report_detail"),
    path("supervision/notices.<str:fmt>", views.notices_export, name="notices_export"),
    path("supervision/reserve/", views_reserve.reserve, name="reserve"),
    path("supervision/paid-allocation/", views_reserve.paid_allocation, name="paid_allocation"),
    path("supervision/paid-allocation/<str:name>/", views_reserve.paid_allocation_action, name="paid_allocation_action"),
    path("supervision/reserve/<str:name>/", views_reserve.reserve_action, name="reserve_action"),
    path("supervision/surveillance/", views.surveillance, name="surveillance"),
    path("supervision/risk/", views.risk, name="risk"),
    path("supervision/<str:name>/", views.action, name="action"),
]
