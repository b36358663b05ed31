"""Errors that carry a code and a message in Chinese and English.

Every refusal a user can see goes through :class:`CetsError` so that pages, the API and the
command line all say the same thing: a stable code (``R0302``), the Chinese text and the English
text, and where it happened when the input was a file or a form.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Check:
    """A numbered business check: ``Check("R0302", "数量超过可用余额", "quantity exceeds available balance")``."""

    code: str
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.code} {self.en} / {self.zh}"


class CetsError(Exception):
    """A refusal with a code and a bilingual message.

    ``detail`` adds facts that explain this instance (the balance, the account number, ...);
    it is appended to both languages.
    """

    def __init__(self, check: Check, detail: str = "") -> None:
        self.check = check
        self.detail = detail
        super().__init__(str(self))

    @property
    def code(self) -> str:
        return self.check.code

    @property
    def zh(self) -> str:
        return self.check.zh + (f"（{self.detail}）" if self.detail else "")

    @property
    def en(self) -> str:
        return self.check.en + (f" ({self.detail})" if self.detail else "")

    def __str__(self) -> str:
        return f"{self.check.code} {self.en} / {self.zh}"

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message_zh": self.zh, "message_en": self.en}

    def said(self, language: str | None) -> str:
        """``"<code> <message>"`` in ``language`` (Chinese unless it is another language's code; the code is the same
        in both)."""
        return f"{self.code} {self.zh if (language or 'zh').startswith('zh') else self.en}"


@dataclass(frozen=True)
class InputProblem:
    """One problem in one place of an input file or form: file, 1-based row, field, value, reason."""

    file: str
    row: int
    field: str
    value: str
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row} [{self.field}={self.value!r}] {self.en} / {self.zh}"


@dataclass
class InputError(Exception):
    """Raised when an input is refused as a whole; ``problems`` lists every bad place found."""

    problems: list[InputProblem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
