"""The demo's supervision year: market surveillance over the demo's real trade log, a referral that leads to a blacklist
decision, a report from the public (举报) handled into a false-reporting finding, and the credit records of all that —
so that the public portal and the supervision pages show real content after ``make demo``. DEMO, not real: which
participants are related, the report, the decisions and their references are generated; the trades are the demo's own
(``cets.demo.run`` 2024-12-10 and ``cets.demo.year2024`` 2025-12-10).

Every step goes through the supervision services (``related_participant_set``, ``surveillance_decide``, ``blacklist_decide``,
``report_file``/``report_close``, ``false_reporting_find``, ``credit_sync``) and is idempotent: a second run changes nothing.
Runs after the 2024 year (its figures are final) and before the Beijing year, and its credit sync after the Beijing year
(:meth:`SupervisionDemo.after_beijing`); it moves no unit and records no determined emissions, so no obligation or
published outcome of any year changes.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from cets.rules.markets import PRIMARY_MARKET

from .common import SHANGHAI, _province_users, _rank

GROUP = "演示集团（同一实际控制人） demo holder group"
BLACKLIST_REF = "环办气候〔2025〕演示1号"
FINDING_REF = "鲁环罚〔2025〕演示7号"
REPORT_MARK = "【演示举报 DEMO】"
FINDING_YEAR = 2024


class SupervisionDemo:
    """Runs after :class:`cets.demo.year2024.Year2024`, on the same ``_Steps`` (its people and entities)."""

    def __init__(self, base) -> None:
        self.base, self.log = base, base.log

    def run(self) -> None:
        self.log("· supervision 监督管理: related participants, surveillance of the demo's trades, a blacklist decision, a report from "
                 "the public, a false-reporting finding, credit records")
        c = self.base.res.counts_supervision
        alerts, referred = self.surveillance()
        c.update({"surveillance_days": len(self.days), "alerts": len(alerts), "alerts_referred": referred})
        c.update(self.blacklist())
        c.update(self.report_and_finding())

    def after_beijing(self) -> None:
        """The credit records of every compliance and supervision event of the demo, the Beijing year's penalty included
        (run after :class:`cets.demo.beijing.BeijingYear`, so that a second demo run finds nothing new)."""
        self.base.res.counts_supervision.update(self.credit())

    # -- 1. related participants and the surveillance run over the demo's trade log
    @transaction.atomic
    def surveillance(self) -> tuple[list, int]:
        from cets.supervision.enforcement import related_participant_set, surveillance_decide
        from cets.supervision.models import RelatedParticipant, SurveillanceDecision
        from cets.supervision.selectors import surveillance_alerts
        from cets.trading.models import Trade

        trades = Trade.objects.filter(market=PRIMARY_MARKET)
        self.days = sorted(set(trades.values_list("trading_day", flat=True)))
        # the two sides of the day's largest trade of the 2023 year (the first trading day) share an actual controller (DEMO)
        self.pair = None
        if self.days:
            t = trades.filter(trading_day=self.days[0]).order_by("-quantity_t", "seq").select_related("buyer", "seller").first()
            self.pair = (t.seller, t.buyer)
            for org in self.pair:
                if not RelatedParticipant.objects.filter(organisation=org).exists():
                    related_participant_set(actor=self.base.exchange, organisation_id=org.pk, group=GROUP,
                                            basis="同一实际控制人，据股权穿透核查（演示数据） same actual controller by shareholding look-through (DEMO)")
        alerts = [a for day in self.days for a in surveillance_alerts(day_from=day, day_to=day)]
        decided = set(SurveillanceDecision.objects.filter(alert_key__in=[a.key for a in alerts]).values_list("alert_key", flat=True))
        # the exchange refers the first wash trade and dismisses the first concentration alert; the rest wait on its page
        self.referred = next((a for a in alerts if a.rule == "wash_trade"), None)
        dismissed = next((a for a in alerts if a.rule == "concentration"), None)
        if self.referred is not None and self.referred.key not in decided:
            surveillance_decide(actor=self.base.exchange, alert_key=self.referred.key, outcome="refer",
                                reason="关联账户间大宗协议成交，移交生态环境部调查 related accounts traded a block; referred to the national authority")
        if dismissed is not None and dismissed.key not in decided:
            surveillance_decide(actor=self.base.exchange, alert_key=dismissed.key, outcome="dismiss",
                                reason="履约期集中购入，与清缴需求相符 compliance-driven buying, matches the surrender need")
        referred = int(self.referred is not None)
        return alerts, referred

    # -- 2. the referral ends in a blacklist decision of the national authority (Measures Art. 49), a past period
    @transaction.atomic
    def blacklist(self) -> dict[str, int]:
        from cets.supervision.models import BlacklistEntry
        from cets.supervision.services import blacklist_decide

        if self.referred is not None and self.pair is not None and not BlacklistEntry.objects.filter(decision_reference=BLACKLIST_REF).exists():
            blacklist_decide(actor=self.base.mee, subject_id=self.pair[0].pk, effect=BlacklistEntry.Effect.TRADING, decision_reference=BLACKLIST_REF,
                             reason=f"与关联账户对倒交易（{self.referred.detail}） wash trade with a related account (DEMO)",
                             starts_on=dt.date(2025, 3, 1), ends_on=dt.date(2025, 8, 31),
                             internal_note=f"交易机构移交 referred by the exchange: {self.referred.key}")
        return {"blacklist": BlacklistEntry.objects.count()}

    # -- 3. a report from the public about a Shandong entity, handled into a false-reporting finding (Regulations Art. 22)
    @transaction.atomic
    def report_and_finding(self) -> dict[str, int]:
        from cets.compliance.models import Obligation
        from cets.supervision.enforcement import false_reporting_find
        from cets.supervision.models import FalseReportingFinding, PublicReport
        from cets.supervision.services import report_close, report_file

        obs = list(Obligation.objects.filter(market=PRIMARY_MARKET, year=FINDING_YEAR, entity__province="37").select_related("entity"))
        if not obs:
            return {"reports": PublicReport.objects.count(), "findings": FalseReportingFinding.objects.count()}
        entity = sorted((o.entity for o in obs), key=lambda e: _rank(self.base.seed + 14, e.uscc))[0]
        province_user = _province_users()["37"]
        report = PublicReport.objects.filter(content__startswith=REPORT_MARK).first()
        if report is None:
            city = (entity.region_code or "")[:4] if (entity.region_code or "").startswith("37") else ""
            report = report_file(session={}, subject_name=entity.name, province="37", city=city,
                                 content=f"{REPORT_MARK}该单位2024年度燃煤元素碳含量检测报告与送检样品不符，疑似篡改化验数据，附化验单照片。",
                                 reporter_name="张某（演示）", reporter_contact="demo@example.invalid",
                                 now=dt.datetime(2025, 6, 3, 10, 15, tzinfo=SHANGHAI))
        if not FalseReportingFinding.objects.filter(decision_reference=FINDING_REF).exists():
            false_reporting_find(actor=province_user, subject_id=entity.pk, year=FINDING_YEAR, rules_applied=FalseReportingFinding.Rules.REGULATIONS,
                                 decision_reference=FINDING_REF, facts="经现场检查，2024年度燃煤元素碳含量检测报告系篡改数据编制（据举报查实；演示）",
                                 fine_fen=50_000_000, gains_fen=0, decided_on=dt.date(2025, 9, 15))
        if report.status == PublicReport.Status.RECEIVED:
            feedback = f"经查属实，已依《碳排放权交易管理暂行条例》第二十二条作出处罚（{FINDING_REF}）。 Substantiated; penalised under Regulations Art. 22."
            report_close(actor=province_user, receipt=report.receipt, feedback=feedback)
        self.receipt = report.receipt
        return {"reports": PublicReport.objects.count(), "findings": FalseReportingFinding.objects.count()}

    # -- 4. credit records from the compliance and supervision events so far (idempotent pull)
    @transaction.atomic
    def credit(self) -> dict[str, int]:
        from cets.supervision.enforcement import credit_sync
        from cets.supervision.models import CreditRecord, RelatedParticipant

        made = credit_sync(actor=self.base.mee)
        return {"credit_sync_created": made, "credit_records": CreditRecord.objects.count(), "related": RelatedParticipant.objects.count()}
