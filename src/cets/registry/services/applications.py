"""Account opening for natural persons and institutions (draft Measures Art. 14: the registry opens accounts with
different functions for "重点排放单位、符合规定的机构和个人"; Art. 18: "重点排放单位以及符合规定的机构和个人是全国
碳排放权交易市场的交易主体"; Regulations Art. 7: "以及符合国家有关规定的其他主体，可以参与碳排放权交易").

Flow: ``application_submit`` (the applicant on the public form, or a registry operator entering it for them)
records the know-your-customer fields (:data:`KYC_FIELDS`), the documents (:data:`REQUIRED_DOCUMENTS`, bounded by
:mod:`cets.core.uploads`) and the login the applicant chose; a registry operator reviews and either rejects it
(``application_reject``) or proposes approval (``application_propose``, a four-eyes proposal of kind
``account_application`` in :data:`cets.registry.kinds.PROPOSAL_KINDS`); a second operator approves it
(``proposal_approve``), which creates the holder (:func:`cets.parties.services.holder_create`), opens its account
(:func:`.accounts.account_open`, kind ``individual`` or ``institution``) and its login (role ``trader``). Rejecting
the proposal rejects the application. Once open, the account is like any holder's: statements, freezes,
restrictions, the four-eyes protections of :mod:`.operator`.

A person's identity number is stored whole (searchable by the registry, :func:`application_search`) and every
refusal, page, API answer and export shows it masked.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cets.core.checks import S0201
from cets.core.errors import CetsError
from cets.core.resident_id import mask
from cets.core.uploads import DOCUMENT_MAX_BYTES, DOCUMENT_MAX_COUNT, document_type
from cets.parties.access import require_role
from cets.parties.checks import L0306
from cets.parties.models import Organisation, Role
from cets.parties.services import credit_code_valid, holder_create, member_create, resident_id_valid
from cets.rules.markets import PRIMARY_MARKET, load_market

from ..checks import R0106, R0901, R0902, R0903, R0904, R0905, R0906, R0907, R0908, R1303, R1304
from ..models import Account, AccountApplication, AccountKind, ApplicationDocument, Proposal
from .accounts import account_open
from .proposals import four_eyes, proposal_submit

HOLDER_KINDS_APPLYING = (AccountKind.INDIVIDUAL, AccountKind.INSTITUTION)

# Know-your-customer fields an applicant declares (every one required, text up to 200 characters). The draft
# Measures leave the conditions to the registry's rules (Art. 14 "符合规定的"); these are the registry's usual account
# opening particulars [U]: contact, address, occupation or business scope, source of funds, settlement bank account.
KYC_FIELDS: dict[str, tuple[str, ...]] = {
    AccountKind.INDIVIDUAL: ("phone", "address", "occupation", "funds_source", "bank_account"),
    AccountKind.INSTITUTION: ("legal_representative", "contact_person", "phone", "address", "business_scope", "bank_account"),
}
KYC_LABELS = {
    "phone": ("联系电话", "phone"), "address": ("联系地址", "address"), "occupation": ("职业", "occupation"),
    "funds_source": ("资金来源", "source of funds"), "bank_account": ("结算银行账户", "settlement bank account"),
    "legal_representative": ("法定代表人", "legal representative"), "contact_person": ("联系人", "contact person"),
    "business_scope": ("经营范围", "business scope"),
}
# Documents that must come with an application, by holder kind [U: the registry's list is not in the texts].
REQUIRED_DOCUMENTS: dict[str, tuple[str, ...]] = {
    AccountKind.INDIVIDUAL: ("identity_card",),
    AccountKind.INSTITUTION: ("business_licence",),
}
DOCUMENT_KINDS = {"identity_card": ("居民身份证", "identity card"), "business_licence": ("营业执照", "business licence"),
                  "bank_card": ("银行账户证明", "bank account proof"), "other": ("其他", "other")}
KYC_MAX = 200
USERNAME = re.compile(r"^[A-Za-z0-9_.@+-]{3,150}$")
PASSWORD_MIN = 12
OPEN = (AccountApplication.Status.SUBMITTED, AccountApplication.Status.PROPOSED)


def _reference() -> str:
    return f"APP-{timezone.now():%Y%m%d}-{secrets.token_hex(4).upper()}"


def _kyc_clean(kind: str, kyc) -> dict:
    if not isinstance(kyc, dict):
        raise CetsError(R0901, "kyc")
    out = {}
    for name in KYC_FIELDS[kind]:
        v = kyc.get(name)
        if not isinstance(v, str) or not v.strip() or len(v) > KYC_MAX:
            raise CetsError(R0901, name)
        out[name] = v.strip()
    if kyc.get("risk_acknowledged") is not True:  # 风险揭示书: the applicant confirms having read the risk disclosure
        raise CetsError(R0901, "risk_acknowledged")
    out["risk_acknowledged"] = True
    return out


def _documents_clean(kind: str, documents) -> list[tuple[str, str, str, bytes]]:
    if not isinstance(documents, list | tuple) or len(documents) > DOCUMENT_MAX_COUNT:
        raise CetsError(R0903, f"≤ {DOCUMENT_MAX_COUNT}")
    out = []
    for doc in documents:
        if not (isinstance(doc, tuple | list) and len(doc) == 3):
            raise CetsError(R0903, "document")
        dkind, name, data = doc
        if dkind not in DOCUMENT_KINDS or not isinstance(name, str):
            raise CetsError(R0903, str(dkind)[:24])
        if isinstance(data, bytes | bytearray) and len(data) > DOCUMENT_MAX_BYTES:
            raise CetsError(S0201, f"{name[:60]}: {len(data)} > {DOCUMENT_MAX_BYTES} bytes")
        ctype = document_type(data)
        if ctype is None:
            raise CetsError(R0903, name[:60])
        out.append((dkind, name[:200], ctype, bytes(data)))
    missing = [k for k in REQUIRED_DOCUMENTS[kind] if k not in {d[0] for d in out}]
    if missing:
        raise CetsError(R0902, ", ".join(missing))
    return out


@transaction.atomic
def application_submit(*, holder_kind: str, name: str, kyc: dict, username: str, password: str, documents: list,
                       resident_id: str | None = None, uscc: str | None = None, market: str = PRIMARY_MARKET,
                       actor=None) -> AccountApplication:
    """Record an account application. ``holder_kind`` ``individual`` (``resident_id``) or ``institution`` (``uscc``);
    ``kyc`` the fields of :data:`KYC_FIELDS` plus ``risk_acknowledged=True``; ``documents`` a list of
    ``(kind, file_name, bytes)`` (PDF/JPEG/PNG, at most :data:`DOCUMENT_MAX_COUNT`, each at most 5 MiB);
    ``username``/``password`` the login opened on approval. ``actor`` is None for the public form, or a registry
    operator entering it for the applicant (R0502 for anyone else).

    Refusals: R0106 holder kind not offered by the market (``market.toml`` ``account_kinds``); L0301–L0304 identity
    number; L0305 credit code; L0306 the holder exists; R0906 an application for it is under review; R0901 a KYC
    field; R0902 a required document missing; R0903 a document's type or count, S0201 its size; R0904 login name;
    R0905 password shorter than 12."""
    if actor is not None:
        require_role(actor, Role.REGISTRY_OPERATOR)
    if holder_kind not in HOLDER_KINDS_APPLYING or holder_kind not in load_market(market).account_kinds:
        raise CetsError(R0106, str(holder_kind)[:20])
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise CetsError(R0901, "name")
    rid = code = None
    if holder_kind == AccountKind.INDIVIDUAL:
        rid = resident_id_valid(resident_id if isinstance(resident_id, str) else "")
        shown = mask(rid)
        taken = Organisation.objects.filter(resident_id=rid).exists()
        pending = AccountApplication.objects.filter(resident_id=rid, status__in=OPEN).exists()
    else:
        code = credit_code_valid(uscc if isinstance(uscc, str) else "")
        shown = code
        taken = Organisation.objects.filter(uscc=code).exists()
        pending = AccountApplication.objects.filter(uscc=code, status__in=OPEN).exists()
    if taken:
        raise CetsError(L0306, shown)
    if pending:
        raise CetsError(R0906, shown)
    clean_kyc = _kyc_clean(holder_kind, kyc)
    docs = _documents_clean(holder_kind, documents)
    if not isinstance(username, str) or not USERNAME.match(username) or get_user_model().objects.filter(username=username).exists() \
            or AccountApplication.objects.filter(username=username, status__in=OPEN).exists():
        raise CetsError(R0904, str(username)[:40])
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        raise CetsError(R0905)
    app = AccountApplication.objects.create(
        reference=_reference(), market=market, holder_kind=holder_kind, name=name.strip(), resident_id=rid, uscc=code, kyc=clean_kyc,
        username=username, password_hash=make_password(password), submitted_by=actor)
    for dkind, fname, ctype, data in docs:
        ApplicationDocument.objects.create(application=app, kind=dkind, file_name=fname, content_type=ctype, size=len(data),
                                           sha256=hashlib.sha256(data).hexdigest(), data=data)
    return app


def application_get(*, reference: str, actor) -> AccountApplication:
    """The application ``reference`` for a registry operator (R0502 anyone else, R0908 unknown)."""
    require_role(actor, Role.REGISTRY_OPERATOR)
    app = AccountApplication.objects.filter(reference=reference if isinstance(reference, str) else "").first()
    if app is None:
        raise CetsError(R0908, str(reference)[:40])
    return app


def application_search(*, actor, q: str = "", status: str = ""):
    """Applications for a registry operator, newest first: ``q`` matches the reference, a name (contains), a credit
    code or a person's *whole* identity number (exact: a number is found, never listed by a fragment)."""
    require_role(actor, Role.REGISTRY_OPERATOR)
    qs = AccountApplication.objects.all()
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(reference=q.upper()) | Q(name__icontains=q) | Q(uscc=q.upper()) | Q(resident_id=q.upper()))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-submitted_at", "-pk")


@transaction.atomic
def application_propose(*, reference: str, actor, note: str = "") -> Proposal:
    """The reviewing registry operator proposes approval (four eyes: a second operator approves, R0501 if the same).
    R0907 unless the application is ``submitted``; L0306 if the holder exists by now."""
    app = application_get(reference=reference, actor=actor)
    app = AccountApplication.objects.select_for_update().get(pk=app.pk)
    if app.status != AccountApplication.Status.SUBMITTED:
        raise CetsError(R0907, app.reference)
    p = proposal_submit(key=f"account-application-{app.reference}", kind="account_application", actor=actor,
                        payload={"application": app.reference, "holder_kind": app.holder_kind, "name": app.name, "holder": app.identifier})
    app.status = AccountApplication.Status.PROPOSED
    app.proposal = p
    app.decision_note = (note or "")[:300]
    app.save(update_fields=["status", "proposal", "decision_note"])
    return p


@transaction.atomic
def application_reject(*, reference: str, reason: str, actor) -> AccountApplication:
    """A registry operator rejects a ``submitted`` application (R0907 otherwise; a proposed one is rejected by
    rejecting its proposal). Rejecting opens nothing, so one operator may do it."""
    app = application_get(reference=reference, actor=actor)
    app = AccountApplication.objects.select_for_update().get(pk=app.pk)
    if app.status != AccountApplication.Status.SUBMITTED:
        raise CetsError(R0907, app.reference)
    app.status = AccountApplication.Status.REJECTED
    app.decision_note = (reason or "")[:300]
    app.save(update_fields=["status", "decision_note"])
    return app


def _on_reject(p: Proposal, approver) -> None:
    AccountApplication.objects.filter(reference=p.payload["application"]).update(
        status=AccountApplication.Status.REJECTED, decision_note="proposal rejected by the second registry operator")


@four_eyes("account_application", on_reject=_on_reject)
def _execute_account_application(p: Proposal, approver) -> dict:
    app = AccountApplication.objects.select_for_update().get(reference=p.payload["application"])
    if app.status != AccountApplication.Status.PROPOSED:
        raise CetsError(R0907, app.reference)
    holder = holder_create(kind=app.holder_kind, name=app.name, resident_id=app.resident_id, uscc=app.uscc)
    account = account_open(holder=holder, kind=app.holder_kind, market=app.market)
    User = get_user_model()
    if User.objects.filter(username=app.username).exists():
        raise CetsError(R0904, app.username)
    user = member_create(username=app.username, organisation=holder, role=Role.TRADER)
    user.password = app.password_hash
    user.save(update_fields=["password"])
    app.status = AccountApplication.Status.APPROVED
    app.holder, app.account = holder, account
    app.save(update_fields=["status", "holder", "account"])
    return {"application": app.reference, "account": account.number, "holder": holder.identifier}


@transaction.atomic
def market_account_open(*, holder: Organisation, market: str, actor) -> Account:
    """Open the account of an individual or institution whose know-your-customer review is done (it holds an open
    ``individual``/``institution`` account opened by an approved application) in another ``market`` — e.g. its CCER
    account in the voluntary market (《温室气体自愿减排交易和结算规则（试行）》 as read in ``ccer/trading-2024-2026``
    [trading_rights]). The account's kind is the holder's (``individual``/``institution``). The holder's own trader or a
    registry operator (R0502). R1303 no reviewed open account; R1304 the market does not open that kind
    (``market.toml`` ``account_kinds``); R0107 it already has another kind there. Idempotent: the existing account is returned."""
    from cets.parties.access import membership_of

    m = membership_of(actor)
    if m is None or not (m.role == Role.REGISTRY_OPERATOR or (m.role == Role.TRADER and m.organisation_id == holder.pk)):
        require_role(actor, Role.REGISTRY_OPERATOR)
    kind = holder.kind
    reviewed = AccountApplication.objects.filter(holder=holder, status=AccountApplication.Status.APPROVED, account__status="open").exists()
    if kind not in HOLDER_KINDS_APPLYING or not reviewed:
        raise CetsError(R1303, holder.identifier or holder.name)
    if kind not in load_market(market).account_kinds:
        raise CetsError(R1304, f"{market}: {kind}")
    return account_open(holder=holder, kind=kind, market=market)
