"""``cets audit verify``: prove the registry from its journal, as a list of independent validators.

The journal is read once, in sequence order (:class:`Replay`), streamed (a server-side cursor on PostgreSQL, chunks of
5,000 rows: memory grows with accounts and holdings, not with entries; a related entry's key comes in the same row); each validator in :data:`VALIDATORS`
then judges one property and returns a :class:`ValidatorResult` (name, ok, problems, summary):

1. :func:`hash_chains` — each entry's hash over its content and its accounts' previous heads (an
   altered entry); each entry's recorded previous heads against the replayed heads (a removed or
   inserted entry); each account's stored head against the replayed head (a removed last entry);
2. :func:`holdings_replayed` — every stored holding (tonnes, int) equals the replayed holding, and no
   replayed holding is negative;
3. :func:`conservation` — per unit type, Σ holdings = Σ created (units appear only by creation);
4. :func:`legs_allowed` — every entry's debit and credit account kinds are allowed for its kind by the
   transfer-kind table (:data:`cets.registry.kinds.TRANSFER_KINDS`); quantities are positive;
5. :func:`serial_blocks` — serial blocks of credits cover each account's holdings exactly, no serial is in two
   places, retired serials never move.

The first problem of each kind is named with the entry's sequence number and key. Other apps add
their own validators (trading: the fund ledger, :mod:`cets.trading.audit`); the shell (``cets.cli``)
assembles the full list — the registry imports nothing above itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from . import chain
from .kinds import legs_refusal
from .models import Account, Holding, Transfer, TransferKind, UnitType

MAX_PROBLEMS = 50


@dataclass
class ValidatorResult:
    """The outcome of one validator: ``ok`` and, if not, its ``problems`` (the first few, in order)."""

    name: str
    ok: bool
    problems: list[str] = field(default_factory=list)
    summary: str = ""


@dataclass
class Replayed:
    """What one pass over the journal gives: account numbers and unit codes by id, replayed holdings
    (account, unit type, position) → tonnes, tonnes created per unit type, and the problems found on the way."""

    numbers: dict[int, str]
    codes: dict[int, str]
    replay: dict[tuple[int, int, str], int]
    created: dict[int, int]
    chain_problems: list[str]
    leg_problems: list[str]
    transfers: int
    accounts: int


class Replay:
    """The journal replayed once, in ``seq`` order, for the registry's validators."""

    FIELDS = ("seq", "key", "kind", "unit_type_id", "debit_account_id", "debit_position", "credit_account_id", "credit_position",
              "quantity", "reference", "related__key", "actor_id", "approver_id", "effective_at", "recorded_at",
              "debit_prev_hash", "credit_prev_hash", "hash", "beneficiary_id")

    def __init__(self, max_problems: int = MAX_PROBLEMS) -> None:
        self.max_problems = max_problems

    @cached_property
    def journal(self) -> Replayed:
        accounts = {pk: (number, kind, head) for pk, number, kind, head in Account.objects.values_list("pk", "number", "kind", "head_hash")}
        codes = dict(UnitType.objects.values_list("pk", "code"))
        numbers = {pk: a[0] for pk, a in accounts.items()}
        heads: dict[int, str] = {}
        replay: dict[tuple[int, int, str], int] = defaultdict(int)
        created: dict[int, int] = defaultdict(int)
        chain_problems: list[str] = []
        leg_problems: list[str] = []
        seen_broken: set[int] = set()
        transfers = 0

        def note(bucket: list[str], msg: str) -> None:
            if len(bucket) < self.max_problems:
                bucket.append(msg)

        for row in Transfer.objects.order_by("seq").values_list(*self.FIELDS).iterator(chunk_size=5000):
            (seq, key, kind, ut, d, dpos, c, cpos, q, ref, rel, actor, approver, eff, rec, dprev, cprev, h, ben) = row
            transfers += 1
            exp_d = heads.get(d, chain.GENESIS) if d is not None else ""
            exp_c = heads.get(c, chain.GENESIS)
            if d is not None and d == c:
                exp_c = exp_d
            for acc, recorded, expected in ((d, dprev, exp_d), (c, cprev, exp_c)):
                if acc is not None and recorded != expected and acc not in seen_broken:
                    seen_broken.add(acc)
                    note(chain_problems, f"chain broken at #{seq} ({key}) for account {numbers.get(acc, acc)}: an entry before it was removed, "
                                         f"inserted or altered")
            text = chain.content(
                key=key, kind=kind, unit_type=codes.get(ut, "?"), debit=numbers.get(d, "") if d is not None else "", debit_position=dpos,
                credit=numbers.get(c, "?"), credit_position=cpos, quantity=q, reference=ref, related=rel or "",
                actor=str(actor) if actor is not None else "", approver=str(approver) if approver is not None else "", effective_at=eff,
                recorded_at=rec, beneficiary=str(ben) if ben is not None else "",
            )
            if chain.entry_hash(text, dprev, cprev) != h:
                note(chain_problems, f"entry #{seq} ({key}) altered: its hash does not match its content")
            if q <= 0:
                note(leg_problems, f"entry #{seq} ({key}) has non-positive quantity {q}")
            d_kind = accounts[d][1] if d in accounts else None
            c_kind = accounts[c][1] if c in accounts else None
            if c_kind is None or (d is not None and d_kind is None) or legs_refusal(kind, d_kind, c_kind, d is not None and d == c):
                note(leg_problems, f"entry #{seq} ({key}): {kind} from {numbers.get(d, '-') if d is not None else '-'} ({d_kind or '-'}) "
                                   f"to {numbers.get(c, c)} ({c_kind or '?'}) is not allowed by the transfer-kind table")
            if d is not None:
                heads[d] = h
                replay[(d, ut, dpos)] -= q
            heads[c] = h
            replay[(c, ut, cpos)] += q
            if kind == TransferKind.CREATE:
                created[ut] += q
        for acc, (number, _kind, stored) in accounts.items():
            if heads.get(acc, "") != (stored or "") and acc not in seen_broken:
                note(chain_problems, f"account {number}: stored chain head differs from the journal (an entry was removed or added at the end)")
        return Replayed(numbers=numbers, codes=codes, replay=replay, created=created, chain_problems=chain_problems,
                        leg_problems=leg_problems, transfers=transfers, accounts=len(accounts))

    @cached_property
    def stored_holdings(self) -> dict[tuple[int, int, str], int]:
        return {(a, u, p): q for a, u, p, q in Holding.objects.values_list("account_id", "unit_type_id", "position", "quantity")}


Validator = Callable[[Replay], ValidatorResult]


def hash_chains(r: Replay) -> ValidatorResult:
    """Altered, removed or inserted journal entries (per-account hash chains)."""
    return ValidatorResult("hash chains 哈希链", not r.journal.chain_problems, list(r.journal.chain_problems),
                           f"{r.journal.transfers:,} entries, {r.journal.accounts:,} accounts")


def holdings_replayed(r: Replay) -> ValidatorResult:
    """Every stored holding equals the journal's replay (tonnes, int); none is negative."""
    problems: list[str] = []
    stored, replay, numbers, codes = r.stored_holdings, r.journal.replay, r.journal.numbers, r.journal.codes
    for k in sorted(set(stored) | set(replay)):
        s, q = stored.get(k, 0), replay.get(k, 0)
        if q < 0:
            problems.append(f"holding {numbers.get(k[0])} {codes.get(k[1])} {k[2]}: journal gives negative {q}")
        if s != q:
            problems.append(f"holding {numbers.get(k[0])} {codes.get(k[1])} {k[2]}: stored {s} but journal gives {q}")
    return ValidatorResult("holdings replayed 持仓重放", not problems, problems[:r.max_problems], f"{len(stored):,} holdings")


def conservation(r: Replay) -> ValidatorResult:
    """Per unit type, Σ stored holdings = Σ created (tonnes, int)."""
    held: dict[int, int] = defaultdict(int)
    for (_a, u, _p), q in r.stored_holdings.items():
        held[u] += q
    problems = [f"unit type {r.journal.codes.get(u)}: Σ holdings {held.get(u, 0)} ≠ created {r.journal.created.get(u, 0)}"
                for u in sorted(set(held) | set(r.journal.created)) if held.get(u, 0) != r.journal.created.get(u, 0)]
    return ValidatorResult("conservation per unit type 总量守恒", not problems, problems[:r.max_problems], f"{len(r.journal.created):,} unit types")


def legs_allowed(r: Replay) -> ValidatorResult:
    """Every entry's debit and credit account kinds are allowed for its kind (the transfer-kind table)."""
    return ValidatorResult("legs allowed by the transfer-kind table 分录类型", not r.journal.leg_problems, list(r.journal.leg_problems),
                           f"{r.journal.transfers:,} entries")


def serial_blocks(r: Replay) -> ValidatorResult:
    """Serial blocks (:class:`~cets.registry.models.SerialBlock`) of every serial-numbered unit type: (a) an account's
    open blocks cover its holdings exactly (Σ serials = Σ tonnes over its positions); (b) no serial is in two open
    blocks and the open blocks of a unit type are exactly serials 1 … created; (c) retired serials never move (a
    block in a retirement account is closed only by a reversal)."""
    from . import serials
    from .models import RETIREMENT_KINDS, SerialBlock
    from .services.blocks import SERIAL_INSTRUMENTS

    tracked = set(UnitType.objects.filter(instrument__in=SERIAL_INSTRUMENTS).values_list("pk", flat=True))
    problems: list[str] = []
    numbers, codes = r.journal.numbers, r.journal.codes
    held: dict[tuple[int, int], int] = defaultdict(int)
    for (a, u, _p), q in r.stored_holdings.items():
        if u in tracked and q:
            held[(a, u)] += q
    covered: dict[tuple[int, int], int] = defaultdict(int)
    spans: dict[int, list] = defaultdict(list)
    n_blocks = 0
    for a, u, start, end in SerialBlock.objects.filter(closed_by__isnull=True).values_list("account_id", "unit_type_id", "start", "end"):
        n_blocks += 1
        covered[(a, u)] += end - start + 1
        spans[u].append(serials.Span(start, end))
    for k in sorted(set(held) | set(covered)):
        if held.get(k, 0) != covered.get(k, 0):
            problems.append(f"account {numbers.get(k[0])} {codes.get(k[1])}: holds {held.get(k, 0)} t but its blocks cover {covered.get(k, 0)} serials")
    for u in sorted(tracked | set(spans)):
        for a, b in serials.overlaps(spans.get(u, []))[:3]:
            problems.append(f"{codes.get(u)}: serials {b.start}–{min(a.end, b.end)} are in two blocks")
        whole = serials.merged(spans.get(u, []))
        created = r.journal.created.get(u, 0)
        if created and whole != [serials.Span(1, created)]:
            problems.append(f"{codes.get(u)}: open blocks {[(s.start, s.end) for s in whole][:5]} are not serials 1–{created}")
    moved = (SerialBlock.objects.filter(account__kind__in=RETIREMENT_KINDS, closed_by__isnull=False)
             .exclude(closed_by__kind=TransferKind.REVERSAL).values_list("unit_type_id", "start", "end", "closed_by_id")[:10])
    for u, start, end, seq in moved:
        problems.append(f"{codes.get(u)} serials {start}–{end} were retired but moved again by entry #{seq}")
    return ValidatorResult("serial blocks cover holdings 序列号区块", not problems, problems[:r.max_problems], f"{n_blocks:,} open blocks")


VALIDATORS: list[Validator] = [hash_chains, holdings_replayed, conservation, legs_allowed, serial_blocks]


def run_validators(validators: list[Validator], max_problems: int = MAX_PROBLEMS) -> list[ValidatorResult]:
    """Run each validator on one shared replay of the journal; each result stands on its own."""
    replay = Replay(max_problems)
    return [v(replay) for v in validators]


@dataclass
class AuditReport:
    transfers: int = 0
    accounts: int = 0
    holdings: int = 0
    problems: list[str] = field(default_factory=list)
    results: list[ValidatorResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def audit_verify(max_problems: int = MAX_PROBLEMS) -> AuditReport:
    """The registry's validators (:data:`VALIDATORS`) as one report: ``ok`` when every one passes;
    ``problems`` lists theirs in validator order (at most ``max_problems``)."""
    replay = Replay(max_problems)
    results = [v(replay) for v in VALIDATORS]
    problems = [p for res in results for p in res.problems][:max_problems]
    return AuditReport(transfers=replay.journal.transfers, accounts=replay.journal.accounts, holdings=len(replay.stored_holdings), problems=problems,
                       results=results)
