"""``ledger.EntryChecks``: a batch's entry checks with each passing combination remembered, never a refusal (issue 19).

Pure: the checks read the transfer-kind table and the markets' instruments, no database."""

from __future__ import annotations

import pytest

from cets.core.errors import CetsError
from cets.registry.models import AccountKind, AccountStatus, Position, TransferKind, UnitType
from cets.registry.services.ledger import AccountRow, EntryChecks, check_entry

CEA = UnitType(pk=1, code="CEA-2023", instrument="CEA", vintage="2023")
R = Position.REGISTRY


def acc(pk: int, kind=AccountKind.ENTITY, status=AccountStatus.OPEN, market="national") -> AccountRow:
    return AccountRow(pk=pk, number=f"N-{pk}", kind=kind, market=market, status=status, head_hash="")


def refusal(fn, *args) -> str | None:
    try:
        fn(*args)
    except CetsError as e:
        return e.code
    return None


TOTAL = acc(1, AccountKind.NATIONAL_TOTAL)
LINES = [  # an issuance's lines as a batch meets them: passes repeat, each refusal must still be seen
    (TransferKind.ISSUE, TOTAL, acc(10)),
    (TransferKind.ISSUE, TOTAL, acc(11)),
    (TransferKind.ISSUE, TOTAL, acc(12, status=AccountStatus.FROZEN)),
    (TransferKind.ISSUE, TOTAL, acc(13)),
    (TransferKind.ISSUE, TOTAL, acc(14, status=AccountStatus.CLOSED)),
    (TransferKind.ISSUE, TOTAL, acc(15, market="beijing")),
    (TransferKind.ISSUE, TOTAL, acc(16, AccountKind.SURRENDER)),
    (TransferKind.ISSUE, TOTAL, acc(17)),
    (TransferKind.TRANSFER, acc(18), acc(18)),
    (TransferKind.TRANSFER, acc(19), acc(20)),
    (TransferKind.TRANSFER, acc(21), acc(21)),
]


def test_each_line_gets_what_check_entry_gives_it_passes_remembered_refusals_not():
    checks = EntryChecks()
    got = [refusal(checks, kind, CEA, d, R, c, R) for kind, d, c in LINES]
    want = [refusal(check_entry, kind, CEA, d, R, c, R) for kind, d, c in LINES]
    assert got == want
    assert got[:5] == [None, None, "R0103", None, "R0102"] and "R0105" in got and got.count(None) >= 5
    # asked again in any order, the same answers: a refusal was not turned into a pass, nor a pass into a refusal
    assert [refusal(checks, kind, CEA, d, R, c, R) for kind, d, c in reversed(LINES)] == list(reversed(want))


@pytest.mark.parametrize("status", [AccountStatus.FROZEN, AccountStatus.CLOSED])
def test_a_pass_for_an_open_account_does_not_let_the_same_account_through_once_its_status_changed(status):
    checks = EntryChecks()
    checks(TransferKind.ISSUE, CEA, TOTAL, R, acc(10), R)
    with pytest.raises(CetsError):
        checks(TransferKind.ISSUE, CEA, TOTAL, R, acc(10, status=status), R)
