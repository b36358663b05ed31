"""What a second person reviews before signing a four-eyes proposal (review-then-sign, issue 15): the kind in words,
who proposed it and when, the reason or reference, and each leg — from which holder and account to which, unit type,
quantity in tonnes (int) and the effect on the holdings of the accounts involved (before → after, tonnes, all
positions of that unit type). An issuance is summed up as its number of lines and total tonnes (and its first lines).
Reads only; nothing here changes a holding. Used by the registry page (:mod:`cets.registry.views.operations`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Sum

from .models import Account, Holding, Proposal, Transfer

# kind → (Chinese, English): the proposal kinds of kinds.PROPOSAL_KINDS in words
KIND_WORDS: dict[str, tuple[str, str]] = {
    "issue": ("配额发放或多退少补", "issuance or claw-back"),
    "cancellation": ("自愿注销", "voluntary cancellation"),
    "deduction": ("核减", "deduction on a decision"),
    "reversal": ("冲正", "reversal of a completed entry"),
    "account_close": ("关闭账户", "closing an empty account"),
    "forced_surrender": ("强制履约", "forced surrender"),
    "beijing_collection": ("北京自动扣缴", "Beijing's automatic collection"),
    "operator_transfer": ("登记机构划转", "operator transfer of a holder's units"),
    "vintage_create": ("创建年度配额及总量", "creating a vintage and its cap"),
    "freeze_release": ("解除冻结", "release of frozen units"),
    "account_reopen": ("恢复账户", "reopening an account"),
    "holder_change": ("持有人变更", "change of holder"),
    "account_application": ("开户申请", "account opening"),
    "reserve_fund": ("储备注入", "funding the reserve"),
    "reserve_release": ("储备投放", "release from the reserve"),
    "reserve_withdraw": ("储备回购", "buy-back into the reserve"),
    "paid_allocation": ("有偿分配（拍卖）", "paid allocation by auction"),
    "free_allocation": ("试点市场免费配额发放（预发、核发、多退少补）", "pilot market free allocation (pre-issue, final issue, true-up)"),
}
# where units go that leave the holders (no holder account to show)
SINKS: dict[str, tuple[str, str]] = {"cancellation": ("注销账户", "the cancellation account"), "deduction": ("核减（注销）", "deducted (cancelled)")}
ISSUANCE_LINES_SHOWN = 10
# payload fields shown as named facts: field → (Chinese, English)
FACT_WORDS: dict[str, tuple[str, str]] = {
    "from": ("原持有人", "from holder"), "to": ("新持有人", "to holder"), "kind": ("类型", "kind"), "effective_at": ("生效时间", "effective at"),
    "account": ("账户", "account"), "instrument": ("品种", "instrument"), "vintage": ("年度", "vintage"), "cap_t": ("总量（吨）", "cap (t)"),
    "name": ("名称", "name"), "holder_kind": ("持有人类型", "holder kind"), "application": ("申请编号", "application"),
    "holder": ("证件号码或信用代码", "identity number or credit code"), "entity": ("重点排放单位", "entity"), "year": ("履约年度", "compliance year"),
    "years": ("涉及年度", "years covered"), "transfer": ("原分录", "entry"), "market": ("市场", "market"), "pack": ("规则包", "rule pack"),
}


@dataclass(frozen=True)
class Side:
    """One end of a leg: the account (number, holder's name; ``label`` when it is no holder account) and its holding
    of the leg's unit type in tonnes before and after (``None`` when not shown)."""

    number: str = ""
    holder: str = ""
    label: str = ""
    before: int | None = None
    after: int | None = None


@dataclass(frozen=True)
class LegSummary:
    unit_type: str
    quantity: int  # tonnes CO2e
    source: Side
    target: Side
    note: str = ""


@dataclass(frozen=True)
class ProposalSummary:
    proposal: Proposal
    kind_zh: str
    kind_en: str
    reason: str
    legs: list[LegSummary] = field(default_factory=list)
    lines: int = 0  # issuance: number of lines
    total_t: int = 0  # issuance: total tonnes (negative = claw-back)
    facts: list[tuple[str, str]] = field(default_factory=list)  # other fields, named


def _total(account: Account | None, unit_type: str) -> int | None:
    if account is None:
        return None
    return Holding.objects.filter(account=account, unit_type__code=unit_type).aggregate(s=Sum("quantity"))["s"] or 0


def _acc(number: str) -> Account | None:
    return Account.objects.select_related("holder").filter(number=number).first() if number else None


def _side(acc: Account | None, number: str, unit_type: str, delta: int) -> Side:
    """The account's total of ``unit_type`` now and after ``delta`` tonnes. Units held when the proposal was made sit
    in the account's pending position, so they count in the total before approval."""
    if acc is None:
        return Side(number=number, label="?")
    before = _total(acc, unit_type)
    return Side(number=acc.number, holder=acc.holder.name if acc.holder else "", before=before, after=before + delta)


def _leg_out(d: dict, kind: str, zh: bool, to_number: str = "") -> LegSummary:
    """Units held in ``d['account']`` leaving to ``to_number`` (or to the kind's sink)."""
    ut, q = d.get("unit_type", ""), int(d.get("quantity", 0))
    src = _side(_acc(d.get("account", "")), d.get("account", ""), ut, -q)
    if to_number:
        dst = _side(_acc(to_number), to_number, ut, q)
    else:
        dst = Side(label=_words(SINKS.get(kind, ("", "")), zh))
    return LegSummary(unit_type=ut, quantity=q, source=src, target=dst)


def _words(pair: tuple[str, str], zh: bool) -> str:
    return pair[0] if zh else pair[1]


def proposal_summary(p: Proposal, *, zh: bool = False) -> ProposalSummary:
    """The :class:`ProposalSummary` of ``p`` for its reviewer (any kind; an unknown payload shows as named facts);
    ``zh``: the labels of accounts that are no holder's in Chinese, else English."""
    d = p.payload if isinstance(p.payload, dict) else {}
    kind_zh, kind_en = KIND_WORDS.get(p.kind, (p.kind, p.kind))
    reason = str(d.get("reference") or d.get("reason") or d.get("decision_ref") or d.get("court_ref") or d.get("instruction") or d.get("note") or "")
    legs: list[LegSummary] = []
    lines = total = 0
    facts: list[tuple[str, str]] = []
    if p.kind in ("issue", "free_allocation"):
        rows = [r for r in d.get("lines", []) if isinstance(r, dict)]
        lines, total = len(rows), sum(int(r.get("quantity", 0)) for r in rows)
        ut = d.get("unit_type", "")
        for r in rows[:ISSUANCE_LINES_SHOWN]:
            q = int(r.get("quantity", 0))
            legs.append(LegSummary(unit_type=ut, quantity=q, source=Side(label=_words(("国家总量账户", "national total account"), zh)),
                                   target=_side(_acc(r.get("account", "")), r.get("account", ""), ut, q), note=str(r.get("reference", ""))))
        if not reason:
            reason = "; ".join(sorted({str(r.get("reference", "")) for r in rows if r.get("reference")}))[:200]
    elif p.kind in ("cancellation", "deduction"):
        legs.append(_leg_out(d, p.kind, zh))
    elif p.kind == "operator_transfer":
        legs.append(_leg_out(d, p.kind, zh, to_number=d.get("to_account", "")))
    elif p.kind == "freeze_release":
        ut, q = d.get("unit_type", ""), int(d.get("quantity", 0))
        acc = _acc(d.get("account", ""))
        side = _side(acc, d.get("account", ""), ut, 0)
        legs.append(LegSummary(unit_type=ut, quantity=q, source=Side(number=side.number, holder=side.holder, label=_words(("司法冻结", "frozen"), zh)),
                               target=side, note=_words(("司法冻结 → 登记持仓", "frozen → registry position"), zh)))
    elif p.kind == "reversal":
        t = Transfer.objects.select_related("unit_type", "debit_account__holder", "credit_account__holder").filter(key=d.get("transfer", "")).first()
        if t is not None:
            ut = t.unit_type.code
            legs.append(LegSummary(unit_type=ut, quantity=t.quantity, source=_side(t.credit_account, "", ut, -t.quantity),
                                   target=_side(t.debit_account, "", ut, t.quantity) if t.debit_account else Side(label="—"), note=t.key))
        else:
            facts.append(("transfer", str(d.get("transfer", ""))))
    elif p.kind == "holder_change":
        from cets.parties.models import Organisation

        names = dict(Organisation.objects.filter(uscc__in=[d.get("from_uscc"), d.get("to_uscc")]).values_list("uscc", "name"))
        facts += [("from", f"{names.get(d.get('from_uscc'), '')} {d.get('from_uscc', '')}"),
                  ("to", f"{names.get(d.get('to_uscc'), '')} {d.get('to_uscc', '')}"), ("kind", str(d.get("kind", "")))]
        src_acc = Account.objects.filter(holder__uscc=d.get("from_uscc", "")).select_related("holder").first()
        dst_acc = Account.objects.filter(holder__uscc=d.get("to_uscc", "")).select_related("holder").first()
        for ln in d.get("lines", []):
            ut, q = ln.get("unit_type", ""), int(ln.get("quantity", 0))
            legs.append(LegSummary(unit_type=ut, quantity=q, source=_side(src_acc, "", ut, -q), target=_side(dst_acc, "", ut, q)))
    else:
        for k, v in d.items():
            if v in (None, "", []) or k == "effective_at" or str(v) == reason:
                continue
            if k == "holder" and p.kind == "account_application" and d.get("holder_kind") != "institution":  # an identity number: never whole
                from cets.core.resident_id import mask

                v = mask(str(v))
            if k == "entity":
                from cets.parties.models import Organisation

                name = Organisation.objects.filter(uscc=str(v)).values_list("name", flat=True).first()
                v = f"{name or ''} {v}".strip()
            facts.append((k, ", ".join(map(str, v)) if isinstance(v, list) else str(v)))
    if d.get("effective_at"):
        facts.append(("effective_at", str(d["effective_at"])))
    facts = [(_words(FACT_WORDS.get(k, (k, k)), zh), v) for k, v in facts]
    return ProposalSummary(proposal=p, kind_zh=kind_zh, kind_en=kind_en, reason=reason, legs=legs, lines=lines, total_t=total, facts=facts)


