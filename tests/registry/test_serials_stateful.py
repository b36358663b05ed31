"""The ledger's stateful test (test_ledger_stateful.LedgerMachine) run on CCER units: random issues, claw-backs,
transfers, position moves, freezes and releases, surrenders, cancellations, deductions (approved or rejected),
retries and reversals — and after every step the serial blocks cover each account's holdings exactly, no serial is
in two blocks and retired serials never move (audit.serial_blocks)."""

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import invariant, run_state_machine_as_test

from cets.registry.audit import Replay, serial_blocks
from cets.registry.models import AccountKind, CcerProject, Instrument, Position
from cets.registry.services import system_account, system_accounts_ensure, vintage_create
from tests.registry.test_ledger_stateful import LedgerMachine


class SerialMachine(LedgerMachine):
    def __init__(self):
        super().__init__()
        system_accounts_ensure(market="ccer")
        project = CcerProject.objects.create(code="A110002", name="状态机测试项目", owner=self.world.sd1)
        self.ut = vintage_create(instrument=Instrument.CCER, vintage="2024", cap_t=1_000_000, key="ccer-cap-sm", project=project)
        self.total = system_account("ccer", AccountKind.NATIONAL_TOTAL)
        self.model = {(self.total.pk, Position.REGISTRY): 1_000_000}

    @invariant()
    def blocks_cover_holdings(self):
        res = serial_blocks(Replay())
        assert res.ok, res.problems[:5]


@pytest.mark.django_db
def test_serial_blocks_state_machine(world):
    SerialMachine.world = world
    run_state_machine_as_test(
        SerialMachine, settings=settings(max_examples=15, stateful_step_count=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    )
