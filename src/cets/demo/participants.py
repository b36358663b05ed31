"""The demo's participants that are not key emitters (issue 17; draft Measures Art. 14, 18, 19): one natural person and
one institution, each opened by the registry's reviewed application (KYC, one operator proposes, a second approves)
with an account in the national market and one in the voluntary market (CCER), money in their CCER fund accounts and
the person's first CCER received by a registry transfer from a project owner; and one exchange member (comprehensive)
acting for the demo's key emitter. Every step is the platform's own service and idempotent. The names, identity number
and credit codes are DEMO data, not real.
"""

from __future__ import annotations

from .common import DEMO_PASSWORD, at

PERSON_ID = "11010519850102123X"  # a valid GB 11643 number (check character worked in tests/core/test_resident_id.py); DEMO
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # a stand-in scan of the identity card / licence (DEMO)
KYC_PERSON = {"phone": "13800000000", "address": "北京市朝阳区（演示）", "occupation": "工程师", "funds_source": "工资收入",
              "bank_account": "6222020000000000000", "risk_acknowledged": True}
KYC_INSTITUTION = {"legal_representative": "（演示）张三", "contact_person": "（演示）李四", "phone": "02100000000", "address": "上海市浦东新区（演示）",
                   "business_scope": "投资管理", "bank_account": "3100000000000000", "risk_acknowledged": True}
CCER_MARKET = "ccer"
CCER_FUNDS_FEN = {"person-demo": 1_000_000_00, "institution-demo": 5_000_000_00}  # 1,000,000.00 and 5,000,000.00 CNY (DEMO)


def _code(body17: str) -> str:
    """A unified social credit code with its GB 32100 check character."""
    from cets.core.uscc import check_character

    return body17 + check_character(body17)


INSTITUTION_USCC = _code("91310000MA1DEMY01")
MEMBER_USCC = _code("91310000MA1DEMY02")


class Participants:
    """Run after the compliance years (it needs the registry operators, the exchange operator and a key emitter of
    ``steps``, and the CCER registry's holdings)."""

    def __init__(self, steps) -> None:
        self.s = steps

    def run(self) -> None:
        self.s.log("· individuals, institutions and an exchange member 个人、机构与交易所会员 (DEMO)")
        person = self._holder("individual", "（演示）王小明", "person-demo", resident_id=PERSON_ID)
        institution = self._holder("institution", "（演示）某投资管理有限公司", "institution-demo", uscc=INSTITUTION_USCC)
        self._ccer(person, institution)
        self._member()
        from cets.parties.models import Membership
        from cets.parties.services import totp_device_ensure

        secret = {u: totp_device_ensure(user=Membership.objects.get(user__username=u).user)[1] for u in ("person-demo", "institution-demo", "member-demo")}
        self.s.res.logins += [
            ("person-demo", DEMO_PASSWORD, f"（演示）王小明 individual 个人 (national + CCER accounts); TOTP secret {secret['person-demo']}"),
            ("institution-demo", DEMO_PASSWORD,
             f"（演示）某投资管理有限公司 institution 机构 (national + CCER accounts); TOTP secret {secret['institution-demo']}"),
            ("member-demo", DEMO_PASSWORD, f"（演示）某证券股份有限公司 exchange member 会员, acts for {self.s.demo_entity.name}; "
                                           f"TOTP secret {secret['member-demo']}"),
        ]

    def _holder(self, kind: str, name: str, username: str, *, resident_id: str | None = None, uscc: str | None = None):
        """The holder opened by its reviewed application (submitted on the public form, proposed by registry-a, approved by
        registry-b), then its CCER account."""
        from cets.parties.models import Organisation
        from cets.registry.services import application_propose, application_submit, market_account_open, proposal_approve

        found = Organisation.objects.filter(resident_id=resident_id).first() if resident_id else Organisation.objects.filter(uscc=uscc).first()
        if found is None:
            doc = ("identity_card", "id.png", PNG) if kind == "individual" else ("business_licence", "licence.png", PNG)
            app = application_submit(holder_kind=kind, name=name, resident_id=resident_id, uscc=uscc,
                                     kyc=dict(KYC_PERSON if kind == "individual" else KYC_INSTITUTION), username=username, password=DEMO_PASSWORD,
                                     documents=[doc])
            proposal_approve(proposal_id=application_propose(reference=app.reference, actor=self.s.registry_a).pk, approver=self.s.registry_b)
            app.refresh_from_db()
            found = app.holder
        market_account_open(holder=found, market=CCER_MARKET, actor=self.s.registry_a)
        return found

    def _ccer(self, person, institution) -> None:
        """Money in both CCER fund accounts; the person's first 100 t of CCER by a registry transfer from a project owner."""
        from cets.parties.models import Role
        from cets.parties.services import member_create
        from cets.registry.models import Account, AccountKind, Holding, Instrument, Transfer
        from cets.registry.services import holding_transfer
        from cets.trading.funds import funds_deposit

        for holder, username in ((person, "person-demo"), (institution, "institution-demo")):
            funds_deposit(key=f"demo-ccer-deposit-{username}", holder=holder, amount_fen=CCER_FUNDS_FEN[username], actor=self.s.exchange,
                          market=CCER_MARKET, at=at("2025-06-09", 9))
        key = "demo-ccer-person-first"
        if Transfer.objects.filter(key=key).exists():
            return
        h = (Holding.objects.filter(unit_type__instrument=Instrument.CCER, account__kind=AccountKind.CCER_HOLDING, position="registry", quantity__gte=100)
             .select_related("account__holder", "unit_type").order_by("unit_type__code").first())
        if h is None:
            return
        seller = member_create(username=f"o-{h.account.holder_id}", organisation=h.account.holder, role=Role.TRADER)
        holding_transfer(key=key, from_account=h.account, to_account=Account.objects.get(holder=person, market=CCER_MARKET), unit_type=h.unit_type,
                         quantity=100, actor=seller, reference="CCER 协议转让 purchase (registry transfer, DEMO)", effective_at=at("2025-06-09", 10))

    def _member(self) -> None:
        """A comprehensive member of the national exchange acting for the demo's key emitter, with its trader's login."""
        from cets.parties.models import Organisation, Role
        from cets.parties.services import member_create
        from cets.trading.models import ExchangeMember
        from cets.trading.services import member_admit, member_client_add

        org, _ = Organisation.objects.get_or_create(uscc=MEMBER_USCC, defaults={"kind": Organisation.Kind.INSTITUTION, "name": "（演示）某证券股份有限公司",
                                                                                "province": "31"})
        member = ExchangeMember.objects.filter(market="national", organisation=org).first() or member_admit(
            organisation=org, kind="comprehensive", code="M0001", actor=self.s.exchange)
        member_client_add(member=member, participant=self.s.demo_entity, actor=self.s.exchange)
        member_create(username="member-demo", organisation=org, role=Role.TRADER, password=DEMO_PASSWORD)
