from django.contrib import admin

from .models import WorkingDayOverride


@admin.register(WorkingDayOverride)
class WorkingDayOverrideAdmin(admin.ModelAdmin):
    list_display = ("date", "is_working_day", "note")


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that change only through services (the ledger, allocation results): viewable, never editable here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
