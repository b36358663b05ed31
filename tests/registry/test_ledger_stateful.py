"""Hypothesis stateful test: random sequences of registry operations against a model of the ledger.

After every step: holdings equal the model; no holding is negative; per unit type Σ holdings =
Σ created; a refused operation changed nothing. At the end of each run, ``audit_verify`` replays the
journal and proves every holding and hash chain.
"""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from cets.core.errors import CetsError
from cets.registry.audit import audit_verify
from cets.registry.models import AccountKind, Holding, Instrument, Position, TransferKind
from cets.registry.services import (
    Leg,
    cancellation_propose,
    deduction_propose,
    freeze_release_propose,
    judicial_freeze,
    proposal_approve,
    proposal_reject,
    reversal_propose,
    system_account,
    transfer_post,
    vintage_create,
)

ENTITY_POSITIONS = [Position.REGISTRY, Position.TRADING, Position.PENDING]


class LedgerMachine(RuleBasedStateMachine):
    world = None

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        w = self.world
        self.accounts = [w.accounts[k] for k in sorted(w.accounts)]
        self.total = system_account("national", AccountKind.NATIONAL_TOTAL)
        self.surrender = system_account("national", AccountKind.SURRENDER)
        self.ut = vintage_create(instrument=Instrument.CEA, vintage="2024", cap_t=1_000_000, key="cap-sm")
        self.model = {(self.total.pk, Position.REGISTRY): 1_000_000}
        self.n = 0
        self.done: list[tuple[str, dict]] = []
        self.open_proposals: list[tuple[int, tuple, int, str]] = []  # (proposal id, (account, position), quantity, sink kind)
        self.cancel = system_account("national", AccountKind.CANCELLATION)
        self.deduct = system_account("national", AccountKind.DEDUCTION)

    def teardown(self):
        try:
            report = audit_verify()
            assert report.ok, report.problems
        finally:
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

    def _post(self, kind, debit, credit, q, key=None):
        self.n += 1
        key = key or f"k{self.n}"
        args = dict(key=key, kind=kind, unit_type=self.ut, debit=Leg(*debit) if debit else None, credit=Leg(*credit), quantity=q)
        before = dict(self.model)
        try:
            transfer_post(**args)
        except CetsError as e:
            assert e.code in {"R0302", "R0301", "R0105", "R0401", "R0106"}, e
            assert self._db() == before, "a refused operation changed holdings"
            return False
        d = (debit[0].pk, debit[1])
        c = (credit[0].pk, credit[1])
        if key not in [k for k, _ in self.done]:
            self.model[d] = self.model.get(d, 0) - q
            self.model[c] = self.model.get(c, 0) + q
            self.done.append((key, dict(kind=kind, debit=debit, credit=credit, q=q)))
        return True

    def _db(self):
        return {
            (h.account_id, h.position): h.quantity for h in Holding.objects.filter(unit_type=self.ut) if h.quantity or (h.account_id, h.position) in self.model
        }

    @rule(i=st.integers(0, 2), q=st.integers(-5, 400_000))
    def issue(self, i, q):
        self._post(TransferKind.ISSUE, (self.total, Position.REGISTRY), (self.accounts[i], Position.REGISTRY), q)

    @rule(i=st.integers(0, 2), q=st.integers(1, 200_000))
    def clawback(self, i, q):
        self._post(TransferKind.CLAWBACK, (self.accounts[i], Position.REGISTRY), (self.total, Position.REGISTRY), q)

    @rule(i=st.integers(0, 2), j=st.integers(0, 2), q=st.integers(0, 150_000))
    def transfer(self, i, j, q):
        self._post(TransferKind.TRANSFER, (self.accounts[i], Position.REGISTRY), (self.accounts[j], Position.REGISTRY), q)

    @rule(i=st.integers(0, 2), a=st.sampled_from(ENTITY_POSITIONS), b=st.sampled_from(ENTITY_POSITIONS), q=st.integers(1, 100_000))
    def position_move(self, i, a, b, q):
        self._post(TransferKind.POSITION_MOVE, (self.accounts[i], a), (self.accounts[i], b), q)

    @rule(i=st.integers(0, 2), q=st.integers(1, 100_000))
    def surrender_units(self, i, q):
        self._post(TransferKind.SURRENDER, (self.accounts[i], Position.PENDING), (self.surrender, Position.REGISTRY), q)

    @rule(data=st.data())
    def retry(self, data):
        if not self.done:
            return
        key, a = data.draw(st.sampled_from(self.done))
        same = data.draw(st.booleans())
        q = a["q"] if same else a["q"] + 1
        ok = self._post(a["kind"], a["debit"], a["credit"], q, key=key)
        assert ok == same  # same content: the first result again; other content: R0401

    def _service(self, fn, moves):
        """Run a service; on success apply ``moves`` [(from, to, q)] to the model; on refusal, check nothing changed."""
        before = self._db()
        try:
            out = fn()
        except CetsError as e:
            assert e.code in {"R0302", "R0301", "R0108", "R0110", "R0111"}, e
            assert self._db() == before, "a refused operation changed holdings"
            return None
        for src, dst, q in moves:
            self.model[src] = self.model.get(src, 0) - q
            self.model[dst] = self.model.get(dst, 0) + q
        return out

    @rule(i=st.integers(0, 2), q=st.integers(1, 150_000), pos=st.sampled_from([Position.REGISTRY, Position.TRADING]))
    def freeze(self, i, q, pos):
        a = self.accounts[i]
        self.n += 1
        self._service(
            lambda: judicial_freeze(
                key=f"f{self.n}", account=a, unit_type=self.ut, quantity=q, court_ref="court", actor=self.world.registry_a, from_position=pos
            ),
            [((a.pk, pos), (a.pk, Position.FROZEN), q)],
        )

    @rule(i=st.integers(0, 2), q=st.integers(1, 150_000))
    def release(self, i, q):
        a = self.accounts[i]
        self.n += 1
        self._service(
            lambda: proposal_approve(proposal_id=freeze_release_propose(key=f"r{self.n}", account=a, unit_type=self.ut, quantity=q,
                                                                        court_ref="court", actor=self.world.registry_a).pk,
                                     approver=self.world.registry_b),
            [((a.pk, Position.FROZEN), (a.pk, Position.REGISTRY), q)],
        )

    @rule(i=st.integers(0, 2), q=st.integers(1, 150_000), deduction=st.booleans())
    def propose_retirement(self, i, q, deduction):
        a = self.accounts[i]
        self.n += 1
        if deduction:
            fn = lambda: deduction_propose(key=f"p{self.n}", account=a, unit_type=self.ut, quantity=q, decision_ref="d", actor=self.world.registry_a)  # noqa: E731
        else:
            fn = lambda: cancellation_propose(key=f"p{self.n}", account=a, unit_type=self.ut, quantity=q, purpose="p", actor=self.world.registry_a)  # noqa: E731
        p = self._service(fn, [((a.pk, Position.REGISTRY), (a.pk, Position.PENDING), q)])
        if p is not None:
            self.open_proposals.append((p.pk, (a.pk, Position.REGISTRY), q, "deduction" if deduction else "cancellation"))

    @rule(data=st.data(), approve=st.booleans())
    def decide(self, data, approve):
        if not self.open_proposals:
            return
        pid, (acc, pos), q, kind = data.draw(st.sampled_from(self.open_proposals))
        self.open_proposals.remove((pid, (acc, pos), q, kind))
        sink = (self.deduct if kind == "deduction" else self.cancel).pk
        if approve:
            self._service(lambda: proposal_approve(proposal_id=pid, approver=self.world.registry_b), [((acc, Position.PENDING), (sink, Position.REGISTRY), q)])
        else:
            self._service(lambda: proposal_reject(proposal_id=pid, approver=self.world.registry_b, reason="no"), [((acc, Position.PENDING), (acc, pos), q)])

    @rule(data=st.data())
    def reverse(self, data):
        if not self.done:
            return
        key, a = data.draw(st.sampled_from(self.done))
        self.n += 1
        d = (a["debit"][0].pk, a["debit"][1])
        c = (a["credit"][0].pk, a["credit"][1])

        def run():
            p = reversal_propose(key=f"rv{self.n}", transfer_key=key, reason="test", actor=self.world.registry_a)
            return proposal_approve(proposal_id=p.pk, approver=self.world.registry_b)

        if self._service(run, [(c, d, a["q"])]) is not None:
            self.done.remove((key, a))

    @invariant()
    def holdings_match_model_and_are_conserved(self):
        db = self._db()
        assert all(v >= 0 for v in db.values())
        assert {k: v for k, v in db.items() if v} == {k: v for k, v in self.model.items() if v}
        assert sum(db.values()) == 1_000_000


@pytest.mark.django_db
def test_ledger_state_machine(world):
    LedgerMachine.world = world
    run_state_machine_as_test(
        LedgerMachine, settings=settings(max_examples=40, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    )
