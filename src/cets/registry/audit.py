"""``cets audit verify``: prove the registry from its journal.

Replays every transfer in sequence order and checks:
1. each entry's hash over its content and the previous heads of its accounts (altered entries);
2. each entry's recorded previous heads against the replayed heads (removed or inserted entries);
3. each account's stored head against the replayed head (a removed last entry);
4. every stored holding against the replayed holding, and no holding negative;
5. per unit type, Σ holdings = Σ created (conservation).
The first problem of each kind is named with the entry's sequence number and key.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from . import chain
from .models import Account, Holding, Transfer, TransferKind, UnitType


@dataclass
class AuditReport:
    transfers: int = 0
    accounts: int = 0
    holdings: int = 0
    problems: list[str] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def audit_verify(max_problems: int = 50) -> AuditReport:
    report = AuditReport()
    numbers = dict(Account.objects.values_list("pk", "number"))
    stored_heads = dict(Account.objects.values_list("pk", "head_hash"))
    codes = dict(UnitType.objects.values_list("pk", "code"))
    heads: dict[int, str] = {}
    replay: dict[tuple[int, int, str], int] = defaultdict(int)
    created: dict[int, int] = defaultdict(int)
    seen_broken: set[int] = set()
    keys = dict(Transfer.objects.values_list("pk", "key"))

    def problem(msg: str) -> None:
        if len(report.problems) < max_problems:
            report.problems.append(msg)

    fields = ("seq", "key", "kind", "unit_type_id", "debit_account_id", "debit_position", "credit_account_id", "credit_position",
              "quantity", "reference", "related_id", "actor_id", "approver_id", "effective_at", "recorded_at",
              "debit_prev_hash", "credit_prev_hash", "hash", "beneficiary_id")
    for row in Transfer.objects.order_by("seq").values_list(*fields).iterator(chunk_size=5000):
        (seq, key, kind, ut, d, dpos, c, cpos, q, ref, rel, actor, approver, eff, rec, dprev, cprev, h, ben) = row
        report.transfers += 1
        exp_d = heads.get(d, chain.GENESIS) if d is not None else ""
        exp_c = heads.get(c, chain.GENESIS)
        if d is not None and d == c:
            exp_c = exp_d
        for acc, recorded, expected in ((d, dprev, exp_d), (c, cprev, exp_c)):
            if acc is not None and recorded != expected and acc not in seen_broken:
                seen_broken.add(acc)
                problem(f"chain broken at #{seq} ({key}) for account {numbers.get(acc, acc)}: an entry before it was removed, inserted or altered")
        text = chain.content(
            key=key, kind=kind, unit_type=codes.get(ut, "?"), debit=numbers.get(d, "") if d is not None else "", debit_position=dpos,
            credit=numbers.get(c, "?"), credit_position=cpos, quantity=q, reference=ref, related=keys.get(rel, "") if rel else "",
            actor=str(actor) if actor is not None else "", approver=str(approver) if approver is not None else "", effective_at=eff, recorded_at=rec,
            beneficiary=str(ben) if ben is not None else "",
        )
        if chain.entry_hash(text, dprev, cprev) != h:
            problem(f"entry #{seq} ({key}) altered: its hash does not match its content")
        if q <= 0:
            problem(f"entry #{seq} ({key}) has non-positive quantity {q}")
        if d is not None:
            heads[d] = h
            replay[(d, ut, dpos)] -= q
        heads[c] = h
        replay[(c, ut, cpos)] += q
        if kind == TransferKind.CREATE:
            created[ut] += q

    for acc, stored in stored_heads.items():
        report.accounts += 1
        if heads.get(acc, "") != (stored or "") and acc not in seen_broken:
            problem(f"account {numbers[acc]}: stored chain head differs from the journal (an entry was removed or added at the end)")

    stored_holdings = {(a, u, p): q for a, u, p, q in Holding.objects.values_list("account_id", "unit_type_id", "position", "quantity")}
    report.holdings = len(stored_holdings)
    for k in sorted(set(stored_holdings) | set(replay)):
        s, r = stored_holdings.get(k, 0), replay.get(k, 0)
        if r < 0:
            problem(f"holding {numbers.get(k[0])} {codes.get(k[1])} {k[2]}: journal gives negative {r}")
        if s != r:
            problem(f"holding {numbers.get(k[0])} {codes.get(k[1])} {k[2]}: stored {s} but journal gives {r}")

    held: dict[int, int] = defaultdict(int)
    for (a, u, p), q in stored_holdings.items():
        held[u] += q
    for u in set(held) | set(created):
        if held.get(u, 0) != created.get(u, 0):
            problem(f"unit type {codes.get(u)}: Σ holdings {held.get(u, 0)} ≠ created {created.get(u, 0)}")
    report.created = {codes[u]: q for u, q in created.items()}
    report.held = {codes[u]: q for u, q in held.items()}
    return report
