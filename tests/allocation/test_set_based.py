"""The set-based national path against the reference path it replaced (issue 19, bench/allocation_national.py).

``allocation_compute`` → ``allocation_issue_propose`` → ``proposal_approve`` → ``allocation_issue_confirm`` for the
pre-allocation and the final stage of a generated year, run twice from the same starting state: once set-based
(plain rows, no model instances, each distinct value prepared once, the large-read branches that take a year's few
adjustments, treatments, conclusions and accounts instead of an IN list of thousands of ids — forced here by a
threshold of 0), once by the reference path (``mechanisms.SET_BASED = False``: model instances, IN lists). Both
must write the same unit and entity allocation rows, the same proposals (lines, quantities, accounts,
beneficiaries), the same journal rows with the same hashes in the same order, the same holdings, heads and
notices. Each run is rolled back (savepoint) and runs under the same ticking clock, so that ``recorded_at`` — part
of the hash — agrees. Runs on SQLite and, with ``CETS_DATABASE_URL``, on PostgreSQL (COPY and arrays).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from unittest.mock import patch

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cets.allocation.mechanisms as mechanisms
import cets.allocation.services as services
import cets.mrv.selectors as mrv_selectors
import cets.registry.selectors as registry_selectors
from cets.allocation.models import EntityAllocation, UnitAllocation
from cets.allocation.services import allocation_adjustment_record, allocation_compute, allocation_issue_confirm, allocation_issue_propose, special_treatment_set
from cets.core.errors import CetsError
from cets.mrv.models import UnitYearData, VerificationRecord
from cets.mrv.services import unit_year_data_upsert
from cets.parties.models import GeneratingUnit, Notification, Organisation
from cets.registry.models import Account, Holding, Proposal, Transfer
from cets.registry.services import account_open, proposal_approve
from tests.conftest import uscc_for

PACK = "national/power-2023-2024"
T0 = dt.datetime(2024, 10, 30, 2, 0, tzinfo=dt.timezone.utc)
PROVINCES = ("37", "33")


class Clock:
    """Advances 1 ms a call: every row gets its own, reproducible time."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> dt.datetime:
        self.n += 1
        return T0 + dt.timedelta(milliseconds=self.n)


unit_st = st.tuples(
    st.sampled_from(("I", "II", "III", "IV")),
    st.sampled_from(("135", "300", "600", "1000")),
    st.integers(1_000, 3_000_000),  # generation MWh
    st.sampled_from((0, 0, 12_345, 250_000)),  # heat GJ
    st.integers(30, 100),  # load factor %
    st.integers(1_000, 3_000_000),  # verified emissions t
    st.integers(0, 3_000_000),  # the year before
)
entity_st = st.tuples(
    st.lists(unit_st, min_size=1, max_size=3),
    st.sampled_from(("", "", "", "compliance_risk", "all_shut")),  # special treatment
    st.sampled_from((0, 0, 0, 7, 12_000)),  # adjustment withheld, t
    st.booleans(),  # an unresolved 不符合 conclusion blocks the final stage
)


def snapshot() -> dict:
    unit_fields = [f.attname for f in UnitAllocation._meta.concrete_fields if f.attname not in ("id",)]
    entity_fields = [f.attname for f in EntityAllocation._meta.concrete_fields if f.attname not in ("id",)]
    journal_fields = ("key", "kind", "unit_type_id", "debit_account_id", "debit_position", "credit_account_id", "credit_position", "quantity",
                      "reference", "beneficiary_id", "related_id", "actor_id", "approver_id", "effective_at", "recorded_at", "debit_prev_hash",
                      "credit_prev_hash", "hash")
    key_at = dict(Transfer.objects.values_list("seq", "key"))
    return {
        "units": list(UnitAllocation.objects.order_by("unit_id", "year").values_list(*unit_fields)),
        "entities": list(EntityAllocation.objects.order_by("entity_id", "sector").values_list(*entity_fields)),
        "proposals": list(Proposal.objects.order_by("key").values_list("key", "kind", "payload", "status", "proposed_by_id", "decided_by_id",
                                                                        "decided_at", "result")),
        "journal": list(Transfer.objects.order_by("seq").values_list(*journal_fields)),
        "holdings": set(Holding.objects.values_list("account_id", "unit_type_id", "position", "quantity")),
        "heads": {a.pk: (a.head_hash, key_at.get(a.head_seq)) for a in Account.objects.all()},
        "notices": list(Notification.objects.order_by("id").values_list("organisation_id", "user_id", "kind", "title_zh", "title_en", "body_zh",
                                                                          "body_en", "link", "created_at")),
    }


def run_year(world, *, set_based: bool) -> tuple:
    """Compute and issue both stages from the current state under a fresh clock; report what was written; roll back."""
    large = 0 if set_based else 10**9
    with transaction.atomic(), patch.object(mechanisms, "SET_BASED", set_based), patch.object(services, "LARGE_IN", large), \
            patch.object(mrv_selectors, "LARGE_IN", large), patch.object(registry_selectors, "LARGE_IN", large), \
            patch.object(timezone, "now", Clock()):
        outcome = []
        try:
            outcome.append(allocation_compute(year=2023, pack_id=PACK))
            for stage in ("pre", "final"):
                p = allocation_issue_propose(year=2023, stage=stage, unit_type=world.cea, actor=world.registry_a)
                proposal_approve(proposal_id=p.pk, approver=world.registry_b)
                outcome.append(allocation_issue_confirm(year=2023, stage=stage))
        except CetsError as e:
            outcome.append(("refused", e.code, e.detail))
        out = (outcome, snapshot())
        transaction.set_rollback(True)
    return out


def build(world, fleet) -> None:
    """The generated entities (with accounts, units, verified data, treatments, adjustments, conclusions) through the
    platform's services; the world's own three entities take part too (each with no units: not allocated)."""
    verifier = Organisation.objects.create(uscc=uscc_for(499), kind=Organisation.Kind.VERIFIER, name="核查机构", region_code="370000", province="37")
    rows = []
    for i, (units, treatment, adjustment, blocked) in enumerate(fleet):
        prov = PROVINCES[i % 2]
        uscc = uscc_for(500 + i, prefix=f"91{prov}000")
        org = Organisation.objects.create(uscc=uscc, name=f"电厂{i}", kind=Organisation.Kind.ENTITY, region_code=uscc[2:8], province=prov)
        account_open(holder=org)
        authority = world.province_sd if prov == "37" else world.province_zj
        if treatment:
            special_treatment_set(entity=org, year=2023, kind=treatment, reason="测试", actor=authority)
        if adjustment:
            allocation_adjustment_record(entity=org, year=2023, kind="arrears_deduction", quantity_t=adjustment, reason="测试",
                                         source=f"test:{i}", actor=authority)
        if blocked:
            VerificationRecord.objects.create(year=2023, sector="power", entity=org, verifier=verifier, list_id="L1", on_time=True, conforming=False)
        for k, (cat, mw, gen, heat, lf, e, prev) in enumerate(units):
            u = GeneratingUnit.objects.create(entity=org, code=f"#{k + 1}", category=cat, rated_capacity_mw=Decimal(mw))
            rows.append(UnitYearData(unit=u, year=2023, generation_mwh=Decimal(gen), heat_supplied_gj=Decimal(heat),
                                     load_factor=Decimal(lf) / 100, verified_emissions_t=e))
            rows.append(UnitYearData(unit=u, year=2022, generation_mwh=Decimal(gen), heat_supplied_gj=Decimal(heat),
                                     load_factor=Decimal(lf) / 100, verified_emissions_t=prev))
    unit_year_data_upsert(rows=rows)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(fleet=st.lists(entity_st, min_size=10, max_size=14))
def test_set_based_year_writes_what_the_reference_path_writes(world, fleet):
    with transaction.atomic():
        build(world, fleet)
        reference = run_year(world, set_based=False)
        fast = run_year(world, set_based=True)
        transaction.set_rollback(True)
    assert fast[0] == reference[0]
    for part in reference[1]:
        assert fast[1][part] == reference[1][part], part
    assert reference[1]["journal"], "the year issued nothing: the comparison would prove nothing"


@pytest.mark.parametrize("set_based", [True, False])
def test_refusals_and_four_eyes_are_the_same(world, set_based):
    """A0103 before anything is computed, R0501 when the proposer approves, the same on both paths."""
    with patch.object(mechanisms, "SET_BASED", set_based), patch.object(services, "LARGE_IN", 0 if set_based else 10**9):
        with pytest.raises(CetsError) as e:
            allocation_issue_propose(year=2023, stage="pre", unit_type=world.cea, actor=world.registry_a)
        assert e.value.check.code == "A0103"
        build(world, [([("I", "600", 1_000_000, 0, 80, 900_000, 850_000)], "", 0, False)] * 10)
        allocation_compute(year=2023, pack_id=PACK)
        with pytest.raises(CetsError) as e:
            allocation_issue_propose(year=2023, stage="pre", unit_type=world.cea, actor=world.province_sd)
        assert e.value.check.code == "R0502"
        p = allocation_issue_propose(year=2023, stage="pre", unit_type=world.cea, actor=world.registry_a)
        with pytest.raises(CetsError) as e:
            proposal_approve(proposal_id=p.pk, approver=world.registry_a)
        assert e.value.check.code == "R0501"
        with pytest.raises(CetsError) as e:
            allocation_issue_confirm(year=2023, stage="pre")
        assert e.value.check.code == "A0104"
        proposal_approve(proposal_id=p.pk, approver=world.registry_b)
        assert allocation_issue_confirm(year=2023, stage="pre") == 10
