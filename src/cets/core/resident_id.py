"""Citizen identity numbers (公民身份号码), GB 11643-1999: the resident identity number of a natural person.

Eighteen characters:

=======  =====================================================
pos      meaning
=======  =====================================================
1–6      address code (地址码): the GB/T 2260 administrative division of permanent residence
7–14     date of birth (出生日期码), YYYYMMDD (GB/T 7408)
15–17    sequence code (顺序码); odd for men, even for women
18       check character (校验码): Σ aᵢ × Wᵢ (i = 1…17) with W = 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2,
         the remainder mod 11 selects from "10X98765432" (ISO 7064 MOD 11-2)
=======  =====================================================

Pure functions (no Django). A number is stored whole so the registry can find a holder by it, and shown only
masked (:func:`mask`): the first six and the last four characters, eight asterisks between
(``110105********123X``). Refusals are mapped to numbered checks by the caller (parties L03xx).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cets.core.quantities import is_digits

from .regions import province_of

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
MASK_KEEP_HEAD = 6
MASK_KEEP_TAIL = 4


@dataclass(frozen=True)
class ResidentIdProblem:
    """Why a number is refused: ``reason`` is one of ``shape`` (length or characters), ``region``,
    ``birth_date`` or ``check``; ``zh``/``en`` say it to a person."""

    reason: str
    zh: str
    en: str


class InvalidResidentId(ValueError):
    def __init__(self, problem: ResidentIdProblem) -> None:
        self.problem = problem
        super().__init__(f"{problem.en} / {problem.zh}")


def check_character(first17: str) -> str:
    """The check character of the first 17 digits (GB 11643-1999 §8.2): Σ aᵢWᵢ mod 11 → "10X98765432"."""
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHECK[total % 11]


def validate(value: str, *, today: dt.date | None = None) -> str:
    """Return the normalised number (stripped, ``x`` upper-cased) or raise :class:`InvalidResidentId`.

    Checks, in order: 18 characters, 17 digits then a digit or ``X`` (``shape``); a province of GB/T 2260 in the
    address code (``region``); a real calendar date of birth, not after ``today`` (``birth_date``); the check
    character (``check``)."""
    v = (value or "").strip().upper() if isinstance(value, str) else ""
    if len(v) != 18 or not is_digits(v[:17]) or not v[:17].isascii() or v[17] not in "0123456789X":
        raise InvalidResidentId(ResidentIdProblem("shape", "须为18位：17位数字加1位数字或X", "must be 18 characters: 17 digits then a digit or X"))
    try:
        if province_of(v[:6]) is None:
            raise ValueError
    except ValueError:
        raise InvalidResidentId(ResidentIdProblem("region", f"地址码 {v[:6]} 的省级代码不存在", f"address code {v[:6]}: no such province")) from None
    try:
        born = dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        born = None
    if born is None or born > (today or dt.date.today()):
        raise InvalidResidentId(ResidentIdProblem("birth_date", f"出生日期 {v[6:14]} 无效", f"date of birth {v[6:14]} is not valid"))
    expected = check_character(v[:17])
    if v[17] != expected:
        raise InvalidResidentId(ResidentIdProblem("check", f"校验码应为 {expected}", f"check character should be {expected}"))
    return v


def birth_date(value: str) -> dt.date:
    """The date of birth of a valid number."""
    return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def mask(value: str) -> str:
    """The shown form of a number: first six and last four characters, eight ``*`` between
    (``110105********123X``); anything that is not 18 characters is masked whole."""
    v = value or ""
    if len(v) != 18:
        return "*" * len(v)
    return v[:MASK_KEEP_HEAD] + "*" * (18 - MASK_KEEP_HEAD - MASK_KEEP_TAIL) + v[-MASK_KEEP_TAIL:]
