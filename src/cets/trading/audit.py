"""Trading's validators for ``cets audit verify``: the fund ledger proves every balance.

Each validator is a small function returning a :class:`cets.registry.audit.ValidatorResult`; the shell
(``cets.cli``) runs the registry's and these together.
"""

from __future__ import annotations

from collections import defaultdict

from cets.registry.audit import ValidatorResult
from cets.rules.markets import PRIMARY_MARKET

from .models import FundAccount, FundEntry
from .services.funds import BUCKET_FIELDS


def funds_verify(market: str = PRIMARY_MARKET) -> list[str]:
    """Replay the fund journal and compare with every balance; returns the problems (empty = proven).
    Also checks that Σ (available + frozen) over all accounts is 0."""
    bal: dict[tuple[int, str], int] = defaultdict(int)
    for e in FundEntry.objects.filter(debit_account__market=market).values_list("debit_account_id", "debit_bucket", "credit_account_id",
                                                                                 "credit_bucket", "amount_fen").iterator():
        bal[(e[0], e[1])] -= e[4]
        bal[(e[2], e[3])] += e[4]
    problems = []
    total = 0
    for acc in FundAccount.objects.filter(market=market):
        for bucket, field in BUCKET_FIELDS.items():
            want = bal.get((acc.pk, bucket), 0)
            have = getattr(acc, field)
            total += have
            if want != have:
                problems.append(f"{acc.number} {bucket}: balance {have} ≠ journal {want} fen")
    if total != 0:
        problems.append(f"Σ balances = {total} fen ≠ 0")
    return problems


def funds_balanced(_replay: object = None) -> ValidatorResult:
    """(Needs nothing from the registry's replay.) Every market's fund balances (fen, int) equal the replayed fund journal, and Σ balances = 0."""
    markets = sorted(set(FundAccount.objects.values_list("market", flat=True)))
    problems = [p for m in markets for p in (f"{m}: {q}" for q in funds_verify(m))]
    return ValidatorResult("fund ledger balanced 资金台账", not problems, problems,
                           f"{FundEntry.objects.count():,} fund entries, {len(markets)} market(s)")


VALIDATORS = [funds_balanced]
