from django.urls import path

from . import views

app_name = "allocation"
urlpatterns = [
    path("submissions/", views.submissions, name="submissions"),
    path("basis/", views.basis, name="basis"),
    path("basis/upload/", views.basis_upload, name="basis_upload"),
    path("basis/compute/", views.basis_compute, name="basis_compute"),
    path("basis/preissue/", views.preissue_propose, name="preissue_propose"),
    path("basis/final/", views.final_propose, name="final_propose"),
    path("basis/record/", views.issuance_record, name="issuance_record"),
    path("submissions/record/", views.submission_record, name="submission_record"),
    path("submissions/<int:submission_id>/receive/", views.submission_receive, name="submission_receive"),
]
