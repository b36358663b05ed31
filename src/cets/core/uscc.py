"""Unified social credit code (统一社会信用代码), GB 32100-2015.

Eighteen characters from a 31-character alphabet (digits and upper-case letters without
I, O, Z, S, V):

=======  =====================================================
pos      meaning
=======  =====================================================
1        registration authority code (登记管理部门代码)
2        organisation category code (机构类别代码)
3–8      administrative division code of the registering authority (GB/T 2260)
9–17     organisation code (主体标识码)
18       check character: C18 = 31 − (Σ Ci × Wi mod 31), 31 → 0
=======  =====================================================
"""

from __future__ import annotations

from dataclasses import dataclass

from .regions import province_of

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
AUTHORITY_CODES = frozenset("123456789ANY")


@dataclass(frozen=True)
class UsccProblem:
    zh: str
    en: str


class InvalidUscc(ValueError):
    def __init__(self, code: str, problem: UsccProblem) -> None:
        self.code = code
        self.problem = problem
        super().__init__(f"{code!r}: {problem.en} / {problem.zh}")


def check_character(first17: str) -> str:
    """The check character for the first 17 characters (GB 32100-2015 §5.2)."""
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def validate_uscc(code: str) -> str:
    """Return the normalised code (stripped, upper case) or raise :class:`InvalidUscc`.

    Checks: 18 characters, the GB 32100 alphabet, a known registration authority, a region code
    whose province exists in GB/T 2260 (or national level ``10``), and the check digit.
    """
    c = (code or "").strip().upper()
    if len(c) != 18:
        raise InvalidUscc(c, UsccProblem(f"长度应为18位，实为{len(c)}位", f"must be 18 characters, got {len(c)}"))
    bad = [ch for ch in c if ch not in ALPHABET]
    if bad:
        raise InvalidUscc(c, UsccProblem(f"含非法字符 {''.join(bad)}", f"contains characters outside GB 32100: {''.join(bad)}"))
    if c[0] not in AUTHORITY_CODES:
        raise InvalidUscc(c, UsccProblem(f"登记管理部门代码 {c[0]} 不存在", f"unknown registration authority code {c[0]}"))
    try:
        province_of(c[2:8])
    except ValueError:
        raise InvalidUscc(
            c, UsccProblem(f"行政区划码 {c[2:8]} 的省级代码 {c[2:4]} 不存在", f"region code {c[2:8]}: no province {c[2:4]} in GB/T 2260")
        ) from None
    expected = check_character(c[:17])
    if c[17] != expected:
        raise InvalidUscc(c, UsccProblem(f"校验码应为 {expected}", f"check character should be {expected}"))
    return c


def uscc_province(code: str) -> str | None:
    """Province code (two digits) from a valid code's region code; ``None`` if national level."""
    return province_of(code[2:8])
