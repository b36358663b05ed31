"""The transfer-kind table (cets.registry.kinds) and the ledger's per-entry checks that read it.

Walks every transfer kind × debit account kind (or none) × credit account kind × debit status × credit
status through :func:`cets.registry.services.ledger.check_entry` and compares the decision with (a) the
table and (b) the rules as the registry had them written out by hand before the table (the oracle
below), and checks a few cases straight from the regulation so that a wrong table row fails.
"""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest

from cets.core.errors import CetsError
from cets.parties.models import Role
from cets.registry.checks import R0102, R0103, R0104, R0105, R0106, R0111
from cets.registry.kinds import HOLDER_KINDS, PROPOSAL_KINDS, RETIREMENT, TRANSFER_KINDS
from cets.registry.models import AccountKind, AccountStatus, Instrument, Position, TransferKind
from cets.registry.services.ledger import AccountRow, check_entry

# A CCER unit: every national account kind may hold it, so R0202 never decides here (tested in test_ledger).
UNIT = SimpleNamespace(instrument=Instrument.CCER, code="CCER-P1-2024", pk=1)


def row(pk: int, kind: str, status: str = AccountStatus.OPEN) -> AccountRow:
    return AccountRow(pk=pk, number=f"A{pk}-{kind}", kind=kind, market="national", status=status, head_hash="")


def positions_for(kind: str) -> tuple[str, str]:
    """Positions a well-formed entry of ``kind`` uses (a move within one account changes position)."""
    return {
        TransferKind.FREEZE: (Position.REGISTRY, Position.FROZEN),
        TransferKind.RELEASE: (Position.FROZEN, Position.REGISTRY),
        TransferKind.POSITION_MOVE: (Position.REGISTRY, Position.TRADING),
    }.get(kind, (Position.TRADING, Position.REGISTRY))


def decision(kind, debit, credit) -> str | None:
    d_pos, c_pos = positions_for(kind)
    try:
        check_entry(kind, UNIT, debit, d_pos, credit, c_pos)
    except CetsError as e:
        return e.check.code
    return None


def oracle(kind: str, debit, credit) -> str | None:
    """The registry's rules as written before the table (services._check_kind_legs / _check_status)."""
    closed = RETIREMENT | {AccountKind.NATIONAL_TOTAL}
    if kind == TransferKind.CREATE:
        ok = debit is None and credit.kind == AccountKind.NATIONAL_TOTAL
    elif debit is None:
        ok = False
    elif kind == TransferKind.ISSUE:
        ok = debit.kind == AccountKind.NATIONAL_TOTAL and credit.kind not in RETIREMENT
    elif kind == TransferKind.CLAWBACK:
        ok = credit.kind == AccountKind.NATIONAL_TOTAL and debit.kind not in RETIREMENT
    elif kind == TransferKind.SURRENDER:
        ok = credit.kind == AccountKind.SURRENDER and debit.kind in HOLDER_KINDS
    elif kind == TransferKind.FORCED_SURRENDER:
        ok = credit.kind == AccountKind.SURRENDER and debit.kind in (AccountKind.PROVINCIAL, AccountKind.ENTITY)
    elif kind in (TransferKind.CANCELLATION, TransferKind.CARRY_OVER):
        ok = credit.kind == AccountKind.CANCELLATION
    elif kind == TransferKind.DEDUCTION:
        ok = credit.kind == AccountKind.DEDUCTION
    elif kind in (TransferKind.POSITION_MOVE, TransferKind.FREEZE, TransferKind.RELEASE):
        ok = debit.pk == credit.pk
    elif kind == TransferKind.TRANSFER:
        ok = debit.kind not in closed and credit.kind not in closed
    else:
        ok = True
    if not ok:
        return "R0106"
    legs = [a for a in (debit, credit) if a is not None]
    if any(a.status == AccountStatus.CLOSED for a in legs):
        return "R0102"
    if kind not in (TransferKind.FREEZE, TransferKind.RELEASE) and any(a.status == AccountStatus.FROZEN for a in legs):
        return "R0103"
    if debit is not None and debit.status == AccountStatus.RESTRICTED and kind in (TransferKind.TRANSFER, TransferKind.SURRENDER):
        return "R0104"
    return None


def from_table(kind: str, debit, credit) -> str | None:
    """What the table says, read field by field."""
    rule = TRANSFER_KINDS[kind]
    same = debit is not None and debit.pk == credit.pk
    if rule.debit is None:
        legs_ok = debit is None and credit.kind in rule.credit
    else:
        legs_ok = debit is not None and debit.kind in rule.debit and credit.kind in rule.credit and (same or not rule.same_account)
    if not legs_ok:
        return "R0106"
    for status, code in ((AccountStatus.CLOSED, "R0102"), (AccountStatus.FROZEN, "R0103"), (AccountStatus.RESTRICTED, "R0104")):
        if debit is not None and debit.status == status and status not in rule.debit_statuses:
            return code
        if credit.status == status and status not in rule.credit_statuses:
            return code
    return None


def test_every_kind_account_kind_and_status_against_the_table_and_the_written_rules():
    kinds, statuses = list(AccountKind), list(AccountStatus)
    assert set(TRANSFER_KINDS) == set(TransferKind)
    n = 0
    for tk in TransferKind:
        for dk, ck, ds, cs in itertools.product([None, *kinds], kinds, statuses, statuses):
            if dk is None and ds != AccountStatus.OPEN:
                continue
            credit = row(2, ck, cs)
            debit = None if dk is None else row(1, dk, ds)
            cases = [(debit, credit)]
            if dk == ck and ds == cs:
                cases.append((row(2, dk, ds), credit))  # the same account on both legs
            for d, c in cases:
                got = decision(tk, d, c)
                assert got == from_table(tk, d, c), (tk, d, c, got)
                assert got == oracle(tk, d, c), (tk, d, c, got)
                n += 1
    assert n > 10_000


@pytest.mark.parametrize("kind, debit, credit, expected", [
    # Units leave the national total account only by issuance (four eyes), never by a plain transfer.
    (TransferKind.TRANSFER, row(1, AccountKind.NATIONAL_TOTAL), row(2, AccountKind.ENTITY), R0106),
    (TransferKind.ISSUE, row(1, AccountKind.NATIONAL_TOTAL), row(2, AccountKind.ENTITY), None),
    (TransferKind.ISSUE, row(1, AccountKind.NATIONAL_TOTAL), row(2, AccountKind.SURRENDER), R0106),
    (TransferKind.ISSUE, row(1, AccountKind.ENTITY), row(2, AccountKind.INSTITUTION), R0106),
    # Nothing comes out of a retirement account except by reversal.
    (TransferKind.TRANSFER, row(1, AccountKind.SURRENDER), row(2, AccountKind.ENTITY), R0106),
    (TransferKind.REVERSAL, row(1, AccountKind.SURRENDER), row(2, AccountKind.ENTITY), None),
    # Surrender goes into the surrender account, from a holder's account (Measures Art. 28).
    (TransferKind.SURRENDER, row(1, AccountKind.ENTITY), row(2, AccountKind.SURRENDER), None),
    (TransferKind.SURRENDER, row(1, AccountKind.ENTITY), row(2, AccountKind.CANCELLATION), R0106),
    (TransferKind.SURRENDER, row(1, AccountKind.PROVINCIAL), row(2, AccountKind.SURRENDER), R0106),
    (TransferKind.FORCED_SURRENDER, row(1, AccountKind.PROVINCIAL), row(2, AccountKind.SURRENDER), None),
    # Creation has no debit leg.
    (TransferKind.CREATE, row(1, AccountKind.NATIONAL_TOTAL), row(2, AccountKind.NATIONAL_TOTAL), R0106),
    (TransferKind.CREATE, None, row(2, AccountKind.NATIONAL_TOTAL), None),
    # A restricted account sends nothing on its holder's initiative; registry operations still may.
    (TransferKind.TRANSFER, row(1, AccountKind.ENTITY, AccountStatus.RESTRICTED), row(2, AccountKind.ENTITY), R0104),
    (TransferKind.TRANSFER, row(1, AccountKind.ENTITY), row(2, AccountKind.ENTITY, AccountStatus.RESTRICTED), None),
    (TransferKind.DEDUCTION, row(1, AccountKind.ENTITY, AccountStatus.RESTRICTED), row(2, AccountKind.DEDUCTION), None),
    # A judicially frozen account moves only by the court's freeze / release; a closed one never.
    (TransferKind.TRANSFER, row(1, AccountKind.ENTITY), row(2, AccountKind.ENTITY, AccountStatus.FROZEN), R0103),
    (TransferKind.FREEZE, row(1, AccountKind.ENTITY, AccountStatus.FROZEN), row(1, AccountKind.ENTITY, AccountStatus.FROZEN), None),
    (TransferKind.FREEZE, row(1, AccountKind.ENTITY, AccountStatus.CLOSED), row(1, AccountKind.ENTITY, AccountStatus.CLOSED), R0102),
    (TransferKind.TRANSFER, row(1, AccountKind.ENTITY, AccountStatus.FROZEN), row(2, AccountKind.ENTITY, AccountStatus.CLOSED), R0102),
    # Position moves, freezes and releases stay within one account.
    (TransferKind.POSITION_MOVE, row(1, AccountKind.ENTITY), row(2, AccountKind.ENTITY), R0106),
])
def test_regulation_cases(kind, debit, credit, expected):
    assert decision(kind, debit, credit) == (expected.code if expected else None)


def test_positions_where_they_matter():
    acc = row(1, AccountKind.ENTITY)
    with pytest.raises(CetsError) as e:
        check_entry(TransferKind.FREEZE, UNIT, acc, Position.REGISTRY, acc, Position.TRADING)
    assert e.value.check == R0111
    with pytest.raises(CetsError) as e:
        check_entry(TransferKind.RELEASE, UNIT, acc, Position.REGISTRY, acc, Position.TRADING)
    assert e.value.check == R0111
    with pytest.raises(CetsError) as e:  # the same holding on both legs comes first
        check_entry(TransferKind.FREEZE, UNIT, acc, Position.FROZEN, acc, Position.FROZEN)
    assert e.value.check == R0105


def test_four_eyes_table():
    from cets.registry.services import FOUR_EYES, four_eyes

    for k in ("issue", "cancellation", "deduction", "reversal", "account_close", "forced_surrender", "beijing_collection"):
        assert PROPOSAL_KINDS[k].approver == Role.REGISTRY_OPERATOR
        assert FOUR_EYES[k].proposers == PROPOSAL_KINDS[k].proposers  # compliance registered its two from the table
    assert set(FOUR_EYES) == set(PROPOSAL_KINDS)
    assert Role.ENTITY in PROPOSAL_KINDS["cancellation"].proposers
    assert Role.ENTITY not in PROPOSAL_KINDS["deduction"].proposers
    # Creating or moving units the holder did not instruct needs a second person.
    for tk in (TransferKind.ISSUE, TransferKind.CLAWBACK, TransferKind.CANCELLATION, TransferKind.DEDUCTION, TransferKind.REVERSAL,
               TransferKind.FORCED_SURRENDER):
        assert TRANSFER_KINDS[tk].four_eyes
        assert TRANSFER_KINDS[tk].proposal in PROPOSAL_KINDS
    assert not TRANSFER_KINDS[TransferKind.TRANSFER].four_eyes
    with pytest.raises(LookupError):
        four_eyes("no_such_kind")
    with pytest.raises(ValueError):
        four_eyes("deduction", proposers=(Role.ENTITY,))


def test_check_lists_are_in_precedence_order():
    from cets.registry.kinds import LEDGER_CHECKS

    order = [c.code for c in LEDGER_CHECKS]
    for rule in TRANSFER_KINDS.values():
        codes = [c.code for c in rule.checks]
        assert codes == sorted(codes, key=order.index)
    assert "R0104" in [c.code for c in TRANSFER_KINDS[TransferKind.TRANSFER].checks]
    assert "R0111" in [c.code for c in TRANSFER_KINDS[TransferKind.FREEZE].checks]
    assert "R0302" not in [c.code for c in TRANSFER_KINDS[TransferKind.CREATE].checks]
