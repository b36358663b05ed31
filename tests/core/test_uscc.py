import csv

import pytest

from cets.core.regions import province_of
from cets.core.uscc import InvalidUscc, check_character, uscc_province, validate_uscc
from tests.conftest import DATA


@pytest.mark.parametrize("code", ["913700001630435316", "91370100163155357D", "91310104744923836T", "91152921318440268W"])
def test_real_codes_pass(code):
    assert validate_uscc(code) == code


def test_lower_case_and_spaces_are_normalised():
    assert validate_uscc(" 91370100163155357d ") == "91370100163155357D"


def test_check_digit_by_hand():
    # 91370100163155357D (济南热电集团有限公司), GB 32100-2015 §5.2, by hand:
    # Σ Ci×Wi = 9·1 + 1·3 + 3·9 + 7·27 + 0·19 + 1·26 + 0·16 + 0·17 + 1·20 + 6·29 + 3·25 + 1·13 + 5·8 + 5·24
    #           + 3·10 + 5·30 + 7·28 = 1072;  1072 mod 31 = 18;  31 − 18 = 13;  alphabet[13] = 'D' (A=10, B=11, C=12, D=13).
    first17 = "91370100163155357"
    assert check_character(first17) == "D"


@pytest.mark.parametrize(
    "code,why",
    [
        ("91570522087163776E", "no province 57"),  # the one invalid code in the real file
        ("9137000016306132", "18 characters"),
        ("91370100163155357E", "check character should be D"),
        ("91370100163155357O", "outside GB 32100"),
        ("C1370100163155357D", "registration authority"),
    ],
)
def test_invalid_codes_say_why(code, why):
    with pytest.raises(InvalidUscc) as e:
        validate_uscc(code)
    assert why in e.value.problem.en
    assert e.value.problem.zh


def test_province_from_region_code():
    assert uscc_province("913700001630435316") == "37"
    assert province_of("100000") is None
    with pytest.raises(ValueError):
        province_of("570522")


def test_real_file_has_exactly_one_invalid_code():
    codes = {
        (r["year"], r["target_uscc"]) for r in csv.DictReader(open(DATA / "cets-verification-entities" / "verification_targets.csv", encoding="utf-8-sig"))
    }
    bad = []
    for _, c in codes:
        try:
            validate_uscc(c)
        except InvalidUscc:
            bad.append(c)
    assert len(codes) == 9366
    assert bad == ["91570522087163776E"]
