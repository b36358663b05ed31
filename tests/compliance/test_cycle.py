"""The compliance cycle: steps from the cycle pack, statuses computed from the platform's events (golden
values worked out by hand for a small 2023 world), the JSON shape and the CLI."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from cets.rules.cycle import DUE_SOON_DAYS, Observation, cycle_steps, step_status
from tests.compliance.helpers import issue, surrender
from tests.conftest import SD_1, SD_2, ZJ_1, when

D = dt.date


# -- pure

def test_step_status_pure():
    due = D(2024, 12, 31)
    assert step_status(due=due, today=D(2024, 1, 1), observation=Observation(applicable=False)) == "not_applicable"
    assert step_status(due=due, today=D(2025, 6, 1), observation=Observation(tracked=False)) == "untracked"
    assert step_status(due=due, today=D(2024, 11, 1), observation=Observation()) == "upcoming"
    assert step_status(due=due, today=due - dt.timedelta(days=DUE_SOON_DAYS), observation=Observation()) == "due"
    assert step_status(due=due, today=due, observation=Observation()) == "due"
    assert step_status(due=due, today=D(2025, 1, 1), observation=Observation()) == "overdue"
    assert step_status(due=due, today=D(2025, 1, 1), observation=Observation(complete=True, done_on=due)) == "done"
    assert step_status(due=due, today=D(2025, 1, 5), observation=Observation(complete=True, done_on=D(2025, 1, 2))) == "done_late"
    # completion dated after today does not count yet
    assert step_status(due=due, today=D(2024, 12, 1), observation=Observation(complete=True, done_on=D(2024, 12, 20))) == "due"
    # completion without a day: the late flag decides
    assert step_status(due=due, today=D(2025, 1, 5), observation=Observation(complete=True, late=True)) == "done_late"
    assert step_status(due=due, today=D(2025, 1, 5), observation=Observation(complete=True)) == "done"


def test_pack_steps_carry_seed_deadlines():
    s2024 = {s.step: s for s in cycle_steps("national", 2024)}
    assert s2024["pre_issuance"].due == D(2025, 4, 20)
    assert s2024["pre_issuance"].source.startswith("seed 003")
    assert (s2024["final_tables"].due, s2024["final_issuance"].due) == (D(2025, 7, 31), D(2025, 8, 20))
    assert (s2024["final_tables_industry"].due, s2024["final_issuance_industry"].due) == (D(2025, 9, 30), D(2025, 10, 20))
    assert s2024["account_opening"].due == D(2025, 5, 15)
    assert s2024["account_opening"].sectors == ("steel", "cement", "aluminium")
    assert (s2024["verification"].due, s2024["verification_industry"].due) == (D(2025, 6, 30), D(2025, 8, 31))
    assert s2024["surrender"].due == D(2025, 12, 31)
    assert s2024["handling_report"].due == D(2026, 3, 15)
    s2023 = {s.step: s for s in cycle_steps("national", 2023)}
    assert s2023["pre_tables"].due == s2023["final_tables"].due == D(2024, 10, 24)
    assert s2023["surrender"].due == D(2024, 12, 31)  # due_ref to the power pack, not a copy
    s2021 = {s.step: s for s in cycle_steps("national", 2021)}
    assert (s2021["borrowing_relief"].due, s2021["final_issuance"].due) == (D(2023, 8, 4), D(2023, 8, 11))
    assert {s.step for s in cycle_steps("national", 2025)} >= {"monthly_backfill"}
    assert all(s.owner and s.source for y in range(2021, 2027) for s in cycle_steps("national", y))


# -- a small 2023 world

def _world_2023(w, *, zj_final_tables: bool):
    """Three power entities listed for 2023 (SD_1, SD_2 in 37, ZJ_1 in 33).

    Tables received by the registry: pre 37 on 2024-10-20, 33 on 2024-10-30 (late); final 37 on 2024-10-22, 33 only if
    ``zj_final_tables`` (2024-10-23). Issuance proposals executed: pre 2024-11-05, final 2024-11-20 (late).
    Notices 2024-11-06. Obligations: SD_1 100,000 t on time (2024-12-20), SD_2 50,000 t late (2025-01-10, before
    the 2025-02-28 rectification deadline), ZJ_1 10,000 t on time (2024-12-30). Verified = obligations.
    """
    from cets.allocation.models import AllocationSubmission, EntityAllocation
    from cets.compliance.models import ComplianceNotice, Obligation
    from cets.mrv.models import UnitYearData
    from cets.parties.models import EmitterListEntry, GeneratingUnit
    from cets.registry.models import Proposal

    ents = {SD_1: (w.sd1, 100_000, 95_000), SD_2: (w.sd2, 50_000, 45_000), ZJ_1: (w.zj1, 10_000, 10_000)}
    for uscc, (o, verified, alloc) in ents.items():
        EmitterListEntry.objects.create(market="national", year=2023, sector="power", entity=o, province=o.province)
        u = GeneratingUnit.objects.create(entity=o, code="#1", category="I", rated_capacity_mw=Decimal(600))
        UnitYearData.objects.create(unit=u, year=2023, generation_mwh=Decimal(1), heat_supplied_gj=Decimal(0), load_factor=Decimal("0.8"),
                                    verified_emissions_t=verified)
        EntityAllocation.objects.create(entity=o, year=2023, pack_id="national/power-2023-2024", verified_emissions_t=verified,
                                        pre_allocation_t=alloc // 2, initial_allocation_t=alloc, shortfall_topup_t=0, final_allocation_t=alloc,
                                        issue_delta_t=alloc - alloc // 2, issued_t=alloc, stage=EntityAllocation.Stage.FINAL_ISSUED)
        ob = Obligation.objects.create(entity=o, year=2023, pack_id="national/power-2023-2024", obligation_t=verified,
                                       offset_cap_t=verified // 20, deadline=D(2024, 12, 31))
        ComplianceNotice.objects.create(obligation=ob, number=f"LYTZ-2023-{uscc}", obligation_t=verified, offset_cap_t=verified // 20,
                                        deadline=D(2024, 12, 31), delivered_to="entity", issued_by=w.registry_a, issued_at=when("2024-11-06"))
        issue(w, uscc, w.cea, verified)
    def submit(prov, stage, day):  # the stamped tables the registry received (figures not used by the cycle)
        AllocationSubmission.objects.create(market="national", sector="power", year=2023, stage=stage, province=prov, due=D(2024, 10, 24),
                                            submitted_on=D.fromisoformat(day), submitted_by=w.province_sd, entities=1, total_t=0)

    for prov, day in (("37", "2024-10-20"), ("33", "2024-10-30")):
        submit(prov, "pre", day)
    submit("37", "final", "2024-10-22")
    if zj_final_tables:
        submit("33", "final", "2024-10-23")
    for stage, day in (("pre", "2024-11-05"), ("final", "2024-11-20")):
        Proposal.objects.create(key=f"allocation-national-power-2023-{stage}", kind="issue", payload={}, status=Proposal.Status.EXECUTED,
                                proposed_by=w.registry_a, decided_by=w.registry_b, decided_at=when(day))
    surrender(w, w.sd1, w.entity_sd1_user, 2023, w.cea.code, 100_000, "2024-12-20", "s-sd1")
    surrender(w, w.sd2, _user_for(w.sd2), 2023, w.cea.code, 50_000, "2025-01-10", "s-sd2")
    surrender(w, w.zj1, w.entity_zj1_user, 2023, w.cea.code, 10_000, "2024-12-30", "s-zj1")
    return w


def _user_for(org):
    from cets.parties.models import Role
    from cets.parties.services import member_create

    return member_create(username=f"e-{org.pk}", organisation=org, role=Role.ENTITY, password="test-password-123")


GOLDEN_2023 = {
    "pre_tables": "done_late",         # 33 published 2024-10-30 > 2024-10-24
    "final_tables": "overdue",         # 33 never published
    "pre_issuance": "done",            # executed 2024-11-05 ≤ 2024-11-07
    "final_issuance": "done_late",     # executed 2024-11-20 > 2024-11-07
    "compliance_notice": "done",       # all three 2024-11-06
    "surrender": "done_late",          # SD_2 completed 2025-01-10
    "rectification": "done",           # SD_2 short at the deadline, made up 2025-01-10 ≤ 2025-02-28
    "handling_report": "untracked",    # not recorded by the platform
    "penalty_summary": "untracked",
}


def test_golden_statuses_2023(world):
    from cets.compliance.cycle import cycle_status

    _world_2023(world, zj_final_tables=False)
    states, figures = cycle_status(market="national", year=2023, today=D(2025, 6, 1))
    assert {s.step.step: s.status for s in states} == GOLDEN_2023
    by = {s.step.step: s for s in states}
    assert (by["final_tables"].observation.done, by["final_tables"].observation.total) == (1, 2)
    assert (by["rectification"].observation.done, by["rectification"].observation.total) == (1, 1)
    # before the surrender deadline, on 2024-12-15: SD_1 surrendered (12-20 not yet), nobody complete → due (16 days left);
    # rectification cannot be known yet → upcoming
    early = {s.step.step: s.status for s in cycle_status(market="national", year=2023, today=D(2024, 12, 15))[0]}
    assert early["surrender"] == "due"
    assert early["rectification"] == "upcoming"
    assert early["compliance_notice"] == "done"
    # on 2024-10-01 the tables are due within 30 days, nothing issued yet
    assert {s.step.step: s.status for s in cycle_status(market="national", year=2023, today=D(2024, 10, 1))[0]}["pre_issuance"] == "upcoming"


def test_complete_2023_world_has_no_overdue_step(world):
    from cets.compliance.cycle import cycle_status

    _world_2023(world, zj_final_tables=True)
    states, _ = cycle_status(market="national", year=2023, today=D(2025, 6, 1))
    assert {s.step.step: s.status for s in states}["final_tables"] == "done"
    assert not [s.step.step for s in states if s.status in ("overdue", "due", "upcoming")]


def test_json_shape(world):
    from cets.compliance.cycle import cycle_json

    _world_2023(world, zj_final_tables=True)
    j = cycle_json(market="national", year=2023, today=D(2025, 6, 1))
    assert list(j) == ["market", "year", "sectors", "steps"]
    assert (j["market"], j["year"]) == ("national", 2023)
    assert j["sectors"] == {"power": {"entities": 3, "verified_t": 160_000, "allocated_t": 150_000, "issued_t": 150_000,
                                      "surrendered_t": 160_000, "offset_t": 0,
                                      "outcomes": {"on_time": 2, "late": 1, "incomplete": 0, "open": 0}}}
    assert all(list(s) == ["step", "owner", "due", "status"] for s in j["steps"])
    assert j["steps"][0] == {"step": "final_tables", "owner": "provincial_authority", "due": "2024-10-24", "status": "done"}
    json.dumps(j)  # JSON-ready as is


def test_sector_not_listed_is_not_applicable(world):
    """2024: only a power entity listed → the industry steps are not applicable, the power ones are not."""
    from cets.compliance.cycle import cycle_status
    from cets.parties.models import EmitterListEntry

    EmitterListEntry.objects.create(market="national", year=2024, sector="power", entity=world.sd1, province="37")
    st = {s.step.step: s.status for s in cycle_status(market="national", year=2024, today=D(2025, 6, 5))[0]}
    assert st["account_opening"] == st["final_issuance_industry"] == "not_applicable"
    assert st["pre_issuance"] == "overdue"
    assert st["final_tables"] == "upcoming"
    assert st["verification"] == "due"
    assert st["verifier_evaluation"] == "upcoming"  # sectors = all


def test_cli_empty_database_2024(db, capsys):
    from cets.cli import main
    from tests.compliance.helpers import assert_cycle_lines

    assert main(["cycle", "status", "--market", "national", "--year", "2024"]) == 0
    assert_cycle_lines(capsys.readouterr().out, cycle_steps("national", 2024))
    assert main(["cycle", "status", "--market", "national", "--year", "2024", "--format", "json", "--today", "2025-05-01"]) == 0
    j = json.loads(capsys.readouterr().out)
    assert len(j["steps"]) == len(cycle_steps("national", 2024))
    assert {s["status"] for s in j["steps"]} == {"not_applicable"}
    assert set(j["sectors"]) == {"power", "steel", "cement", "aluminium"}
    assert j["sectors"]["steel"]["entities"] == 0


@pytest.mark.parametrize("year", [2021, 2022, 2023, 2024, 2025, 2026])
def test_every_year_loads(year):
    steps = cycle_steps("national", year)
    assert steps
    assert [s.due for s in steps] == sorted(s.due for s in steps)
