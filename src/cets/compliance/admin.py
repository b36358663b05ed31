from django.contrib import admin

from cets.core.admin import ReadOnlyAdmin

from .models import Obligation, SurrenderApplication


@admin.register(Obligation)
class ObligationAdmin(ReadOnlyAdmin):
    list_display = ("entity", "year", "obligation_t", "offset_cap_t", "deadline")
    list_filter = ("year",)
    search_fields = ("entity__name", "entity__uscc")


@admin.register(SurrenderApplication)
class SurrenderApplicationAdmin(ReadOnlyAdmin):
    list_display = ("key", "obligation", "unit_type", "quantity", "status", "decided_at")
    list_filter = ("status",)
