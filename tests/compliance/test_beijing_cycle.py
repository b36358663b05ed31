"""The Beijing 2023 compliance cycle (pack ``beijing/cycle-2023-2024``, named by ``beijing/market.toml``): every step of
京环发〔2024〕8号 (seed 004) with its date and owner, and ``cets cycle status --market beijing --year 2023``."""

import datetime as dt
import json

import pytest

from cets.rules.cycle import cycle_pack, cycle_steps

D = dt.date


def test_steps_and_dates_of_the_notice():
    """三(一)1 "于2024年6月15日前…报送"; "每月结束后20个自然日内…上传"; "报送截止日起10个自然日内完成质量检查"; 三(一)2 一般报告单位
    "2024年7月15日前", "30个自然日内"; 三(二) 自行委托核查, "2024年7月15日前…报送经核查的排放报告和第三方核查报告", "10个自然日内完成初步
    检查"; 三(三) "9月15日前完成…核定", "7月15日前完成免费配额预发、9月15日前完成免费配额核发"; 三(四) "截止日期为2024年10月15日"
    (offset applications), "清缴截止日期为2024年11月15日"."""
    assert cycle_pack("beijing", 2023).id == "beijing/cycle-2023-2024"
    s = {x.step: x for x in cycle_steps("beijing", 2023)}
    want = {
        "first_report": (D(2024, 6, 15), "entity"),
        "general_reports": (D(2024, 7, 15), "entity"),
        "general_reports_check": (D(2024, 8, 14), "district_authority"),     # 07-15 + 30 days
        "verified_report": (D(2024, 7, 15), "entity"),
        "verification_initial_check": (D(2024, 7, 25), "district_authority"),  # 07-15 + 10 days
        "adjustment_applications": (D(2024, 7, 15), "entity"),
        "pre_issuance": (D(2024, 7, 15), "provincial_authority"),
        "determination": (D(2024, 9, 15), "provincial_authority"),
        "final_issuance": (D(2024, 9, 15), "provincial_authority"),
        "offset_applications": (D(2024, 10, 15), "entity"),
        "surrender": (D(2024, 11, 15), "entity"),
    }
    assert {k: (v.due, v.owner) for k, v in s.items()} == want
    # the surrender and offset dates are read from the compliance pack (due_ref), never copied
    assert s["surrender"].event == "surrender"
    assert s["verified_report"].event == "verification"
    assert all(x.source.startswith("京环发〔2024〕8号") for x in s.values())
    # monthly uploads of 2024 data: January 2024 ends 01-31 → 02-20 (2024 is a leap year: February ends 02-29 → 03-20),
    # district check 10 days later → 03-01 and 03-30; December → 2025-01-20 and 2025-01-30
    m = {x.step: x.due for x in cycle_steps("beijing", 2024)}
    assert (m["monthly_data_01"], m["monthly_check_01"]) == (D(2024, 2, 20), D(2024, 3, 1))
    assert (m["monthly_data_02"], m["monthly_check_02"]) == (D(2024, 3, 20), D(2024, 3, 30))
    assert (m["monthly_data_12"], m["monthly_check_12"]) == (D(2025, 1, 20), D(2025, 1, 30))
    assert len(m) == 24


def test_monthly_steps_agree_with_the_mrv_deadline_code():
    from cets.mrv.deadlines import monthly_filing_due, review_due

    m = {x.step: x.due for x in cycle_steps("beijing", 2024)}
    for month in range(1, 13):
        due = monthly_filing_due(2024, month, 20)
        assert (m[f"monthly_data_{month:02d}"], m[f"monthly_check_{month:02d}"]) == (due, review_due(due, 10))


@pytest.mark.django_db
def test_cli_lists_the_beijing_2023_cycle(capsys):
    from cets.cli import main
    from tests.compliance.helpers import assert_cycle_lines

    assert main(["cycle", "status", "--market", "beijing", "--year", "2023"]) == 0
    assert_cycle_lines(capsys.readouterr().out, cycle_steps("beijing", 2023))
    assert main(["cycle", "status", "--market", "beijing", "--year", "2023", "--format", "json", "--today", "2024-10-01"]) == 0
    j = json.loads(capsys.readouterr().out)
    assert [x["step"] for x in j["steps"]][-1] == "surrender"
    assert len(j["steps"]) == 11
    assert {x["status"] for x in j["steps"]} == {"not_applicable"}      # no Beijing entity listed in an empty database
