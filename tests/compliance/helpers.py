"""Test setup shared by the compliance tests: real CEA market data loaded as the exchange would publish
it, units issued to an entity, and surrenders through the platform's own services."""

from __future__ import annotations

import csv

from cets.core.quantities import yuan_to_fen
from tests.conftest import DATA, when

CSV = DATA / "cea-national-official" / "cea_daily_by_trade_method.csv"
METHOD = {"10": "listing", "20": "block", "21": "auction"}


def load_daily_stats(month: str) -> dict[str, tuple[int, int]]:
    """DailyStat rows for every allowance subject of ``month`` ("2024-11") from the official CSV
    (amount_cny × 100 → fen). The composite COMCEA is not stored (it is the sum of the subjects); its
    per-day totals (listing + block + auction) are returned to check the hand arithmetic against."""
    from cets.trading.models import DailyStat

    rows, composite = [], {}
    with CSV.open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if not r["trade_date"].startswith(month):
                continue
            if r["subject_code"] == "COMCEA":
                v, a = composite.get(r["trade_date"], (0, 0))
                composite[r["trade_date"]] = (v + int(r["volume_t"]), a + yuan_to_fen(r["amount_cny"]))
                continue
            rows.append(DailyStat(market="national", date=r["trade_date"], instrument=r["subject_code"], method=METHOD[r["trade_method_code"]],
                                  volume_t=int(r["volume_t"]), amount_fen=yuan_to_fen(r["amount_cny"]), ytd_volume_t=int(r["ytd_volume_t"]),
                                  ytd_amount_fen=yuan_to_fen(r["ytd_amount_cny"]), cum_volume_t=int(r["cum_volume_t"]),
                                  cum_amount_fen=yuan_to_fen(r["cum_amount_cny"])))
    DailyStat.objects.bulk_create(rows)
    return composite


def issue(world, uscc: str, unit_type, quantity: int) -> None:
    """Issue ``quantity`` t of ``unit_type`` from the national total account to the entity (registry service)."""
    from cets.registry.models import AccountKind, Position, TransferKind
    from cets.registry.services import Leg, system_account, transfer_post

    total = system_account("ccer" if unit_type.instrument == "CCER" else "national", AccountKind.NATIONAL_TOTAL)
    transfer_post(key=f"issue-{uscc}-{unit_type.code}-{quantity}", kind=TransferKind.ISSUE, unit_type=unit_type,
                  debit=Leg(total, Position.REGISTRY), credit=Leg(world.accounts[uscc], Position.REGISTRY), quantity=quantity)


def surrender(world, entity, user, year: int, code: str, quantity: int, day: str, key: str):
    """Apply and have the Shandong/Zhejiang province approve on ``day`` (business time)."""
    from cets.compliance.services import surrender_approve, surrender_submit

    app = surrender_submit(key=key, entity=entity, year=year, unit_type_code=code, quantity=quantity, actor=user, at=when(day, 9))
    approver = world.province_sd if entity.province == "37" else world.province_zj
    return surrender_approve(application_id=app.pk, approver=approver, at=when(day, 11))


def assert_cycle_lines(out: str, steps) -> None:
    """Every step of ``steps`` has a line of ``cets cycle status`` output ``out`` naming its code and due date."""
    for s in steps:
        line = next((ln for ln in out.splitlines() if f" {s.step} " in ln), None)
        assert line is not None and s.due.isoformat() in line, s.step
