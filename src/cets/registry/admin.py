from django.contrib import admin

from cets.core.admin import ReadOnlyAdmin

from .models import Account, CcerProject, Holding, Proposal, Transfer, UnitType


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("number", "kind", "market", "holder", "province", "status")
    list_filter = ("kind", "market", "status")
    search_fields = ("number", "holder__name", "holder__uscc")


@admin.register(UnitType)
class UnitTypeAdmin(ReadOnlyAdmin):
    list_display = ("code", "instrument", "vintage", "project")


@admin.register(Holding)
class HoldingAdmin(ReadOnlyAdmin):
    list_display = ("account", "unit_type", "position", "quantity")
    list_filter = ("position", "unit_type")
    search_fields = ("account__number",)


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ("seq", "key", "kind", "unit_type", "debit_account", "credit_account", "quantity", "effective_at")
    list_filter = ("kind", "unit_type")
    search_fields = ("key", "reference")


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdmin):
    list_display = ("key", "kind", "status", "proposed_by", "decided_by", "decided_at")


@admin.register(CcerProject)
class CcerProjectAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "project_type", "registered_on")
