from django.urls import path

from . import views

app_name = "mrv"
urlpatterns = [
    path("blocked/", views.blocked_cases, name="blocked"),
    path("blocked/<int:record_id>/resolve/", views.blocked_resolve, name="blocked_resolve"),
    path("deadlines/", views.deadlines, name="deadlines"),
    path("facilities/", views.facilities, name="facilities"),
    path("facilities/<int:facility_id>/<int:year>/<int:month>/", views.facility_month, name="facility_month"),
    path("facilities/action/<str:name>/", views.facility_action, name="facility_action"),
    path("facilities/verify/", views.facility_verify, name="facility_verify"),
    path("facilities/review/", views.facility_review, name="facility_review"),
    path("general-report/", views.general_report, name="general_report"),
    path("general-reports/check/", views.general_check, name="general_check"),
    path("pcer/", views.pcer, name="pcer"),
]
