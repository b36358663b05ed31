"""Bilingual labels and memos shown in one language (issue 15): the half of a ``"中文 english"`` choice label, and the
bilingual terms of a ledger memo, for the page's language."""

from __future__ import annotations

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from cets.core.labels import choice_label, memo_in_lang, split_label
from cets.registry.models import TransferKind


def test_choice_labels_split_into_their_halves():
    assert split_label("已执行 executed") == ("已执行", "executed")
    assert split_label("重点排放单位 key emitting entity") == ("重点排放单位", "key emitting entity")
    assert split_label("已开户 approved: account opened") == ("已开户", "approved: account opened")
    assert split_label("CEA") == ("CEA", "CEA")  # no Chinese half
    assert split_label("清缴") == ("清缴", "清缴")  # no English half
    assert split_label("CCER 签发") == ("CCER 签发", "CCER 签发")  # an ASCII head is not a Chinese half
    assert choice_label("清缴 surrender", "zh-hans") == "清缴"
    assert choice_label("清缴 surrender", "en") == "surrender"
    with translation.override("en"):
        assert choice_label(TransferKind("surrender").label) == "surrender"
    with translation.override("zh-hans"):
        assert choice_label(TransferKind("surrender").label) == "清缴"


@pytest.mark.parametrize(("memo", "zh", "en"), [
    ("2023 清缴 surrender 913700001630435316", "2023 清缴 913700001630435316", "2023 surrender 913700001630435316"),
    ("2023 power 核定 final allocation 9137", "2023 power 核定 9137", "2023 power final allocation 9137"),
    ("委托冻结 order #12", "委托冻结 #12", "order #12"),
    ("结转 carry-over → CEA-2024", "结转 → CEA-2024", "carry-over → CEA-2024"),
    ("2024年度配额总量 cap (Σ final allocation: power)", "2024年度配额总量 (Σ final allocation: power)", "2024 cap (Σ final allocation: power)"),
    ("分录 allocation-national-power-2023-final:0", "分录 allocation-national-power-2023-final:0", "分录 allocation-national-power-2023-final:0"),
    ("replay of the published CEA volume", "replay of the published CEA volume", "replay of the published CEA volume"),
])
def test_memos_keep_codes_and_show_one_language(memo, zh, en):
    assert memo_in_lang(memo, "zh-hans") == zh
    assert memo_in_lang(memo, "en") == en


@given(st.text(alphabet=st.sampled_from(list("0123456789ABC-#:→ ,.清缴核定配额surndefilo")), max_size=40))
def test_memos_lose_no_digit(text):
    """Codes and numbers of a memo survive in both languages (only bilingual terms are halved)."""
    for lang in ("zh-hans", "en"):
        out = memo_in_lang(text, lang)
        assert [c for c in out if c.isdigit()] == [c for c in text if c.isdigit()]
