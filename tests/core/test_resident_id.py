"""GB 11643-1999 citizen identity numbers: golden cases computed by hand from the standard's algorithm
(Σ aᵢ × Wᵢ, W = 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, remainder mod 11 → "10X98765432"), and the mask."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cets.core.resident_id import InvalidResidentId, check_character, mask, validate

# (number, Σ aᵢWᵢ worked by hand, remainder → check character)
GOLDEN = [
    # the standard's own example (Beijing Chaoyang, born 1949-12-31): 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167, 167 mod 11 = 2 → X
    ("11010519491231002X", 167),
    # the standard's second example (Shantou, born 1880-01-01): 28+36+0+25+16+16+2+8+48+0+0+9+0+5+0+0+2 = 195, mod 11 = 8 → 4
    ("440524188001010014", 195),
    # 7+9+0+5+0+20+2+9+48+15+0+9+0+10+8+8+6 = 156, mod 11 = 2 → X
    ("11010519850102123X", 156),
    # 21+18+0+5+0+8+2+9+54+0+0+27+0+35+16+20+2 = 217, mod 11 = 8 → 4
    ("320102199003072514", 217),
]


@pytest.mark.parametrize(("number", "total"), GOLDEN)
def test_golden_numbers_are_valid_and_their_check_character_is_the_standard_s(number, total):
    assert "10X98765432"[total % 11] == number[17]
    assert check_character(number[:17]) == number[17]
    assert validate(number) == number
    assert validate(number.lower()) == number  # a lower-case x is the same number


@pytest.mark.parametrize(("number", "reason"), [
    ("110105194912310021", "check"),      # the standard's example with a wrong check character (X expected)
    ("440524188001010015", "check"),
    ("11010519491231002", "shape"),       # 17 characters
    ("11010519491231002XX", "shape"),
    ("1101051949123100AX", "shape"),      # a letter among the first 17
    ("１１0105194912310021", "shape"),     # full-width digits are not digits of the standard
    ("990105194912310021", "region"),     # no province 99 in GB/T 2260
    ("110105194902300029", "birth_date"),  # 30 February
    ("110105209901010010", "birth_date"),  # born in 2099: in the future
    ("", "shape"),
])
def test_invalid_numbers_are_refused_with_their_reason(number, reason):
    with pytest.raises(InvalidResidentId) as e:
        validate(number, today=dt.date(2026, 12, 4))
    assert e.value.problem.reason == reason


def test_the_mask_keeps_six_and_four():
    assert mask("11010519850102123X") == "110105********123X"
    assert mask("short") == "*****"


@given(st.text(alphabet="0123456789", min_size=17, max_size=17), st.integers(0, 16), st.integers(1, 9))
def test_any_single_wrong_digit_is_detected(body, pos, shift):
    """ISO 7064 MOD 11-2 catches every single-digit error: change one of the 17 digits and the check differs."""
    wrong = body[:pos] + str((int(body[pos]) + shift) % 10) + body[pos + 1:]
    assert check_character(wrong) != check_character(body)


def test_the_cli_reads_numbers_from_stdin_and_prints_them_masked(monkeypatch, capsys):
    import io

    from cets.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO("11010519850102123X\n\n110105198501021231\n"))
    assert main(["parties", "resident-id"]) == 1
    out = capsys.readouterr().out
    assert "✓ 110105********123X" in out and "110105********1231" in out and "should be X" in out
    assert "11010519850102123X" not in out and "110105198501021231" not in out
    monkeypatch.setattr("sys.stdin", io.StringIO("440524188001010014\n"))
    assert main(["parties", "resident-id"]) == 0
